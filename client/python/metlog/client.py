"""The MetlogClient: builds metlog-py 0.10 message dicts and hands them, after
the client's filters, to a sender.

A message is a plain dict with the keys metlog-py gives it: type, timestamp
(naive UTC isoformat), logger, severity, payload, fields, env_version,
metlog_pid and metlog_hostname. Senders receive that dict; the network senders
turn it into a metlog.v1.Message on their own thread.
"""

import os
import random
import reprlib
import socket
import sys
import threading
import time
import traceback
import types
import weakref
from datetime import datetime, timezone
from functools import wraps

from metlog import forks
from metlog.senders import NoSendSender


class SEVERITY:
    """RFC 5424 severities."""
    EMERGENCY = 0
    ALERT = 1
    CRITICAL = 2
    ERROR = 3
    WARNING = 4
    NOTICE = 5
    INFORMATIONAL = 6
    DEBUG = 7


class _UtcIsoClock:
    """datetime.utcnow().isoformat(), at a fraction of its cost (it is the
    largest part of a message's cost on the caller's thread).

    The formatted date and time are reused for every call in the same second;
    only the microseconds are formatted per call. Like isoformat(), the
    fraction is left out when it is exactly zero.
    """

    def __init__(self):
        # (second, its isoformat), replaced as one object so that threads
        # never pair one second with another's text.
        self._cached = (None, '')

    def now(self):
        t = _time()
        second = int(t)
        cached = self._cached
        if cached[0] != second:
            cached = (second, datetime.fromtimestamp(
                second, timezone.utc).replace(tzinfo=None).isoformat())
            self._cached = cached
        micros = int((t - second) * 1000000)
        if micros:
            return '%s.%06d' % (cached[1], micros)
        return cached[1]


_time = time.time
# repr() for error reports: bounded in size, and an object whose __repr__
# raises is shown by its type and address instead.
_reprs = reprlib.Repr()
_reprs.maxstring = _reprs.maxother = 200


def _safe_repr(value):
    try:
        return _reprs.repr(value)
    except Exception:
        return '<unrepresentable %s>' % type(value).__name__


def _safe_text(value):
    """str(value), or its _safe_repr when __str__ raises."""
    try:
        return str(value)
    except Exception:
        return _safe_repr(value)


_now = _UtcIsoClock().now


class _NoOpTimer:
    """What timer() returns for a disabled or sampled-out timer: usable as a
    context manager and as a decorator, and does nothing."""

    def __init__(self):
        self.start = None
        self.result = None

    def __call__(self, fn):
        return fn

    def __enter__(self):
        return self

    def __exit__(self, typ, value, tb):
        return False


class _Timer:
    """Times a block (context manager) or every call of a function
    (decorator) and sends a 'timer' message with the elapsed milliseconds.

    One _Timer exists per name and client; its start time and result are
    thread-local, so the same timer may run in several threads at once.
    """

    def __init__(self, client, name, msg_data):
        self.__dict__['client'] = client
        self.__dict__['name'] = name
        self.__dict__['_local'] = threading.local()
        self.msg_data = msg_data

    def __getattr__(self, attr):
        return getattr(self._local, attr)

    def __setattr__(self, attr, value):
        setattr(self._local, attr, value)

    def __delattr__(self, attr):
        delattr(self._local, attr)

    def __call__(self, fn):
        if not callable(fn):
            raise ValueError('Timer objects can only wrap callable objects.')
        msg_data = self.msg_data

        @wraps(fn)
        def timed(*args, **kwargs):
            self.msg_data = msg_data
            with self:
                return fn(*args, **kwargs)
        return timed

    def __enter__(self):
        self.start = time.time()
        self.result = None
        return self

    def __exit__(self, typ, value, tb):
        elapsed = int(round((time.time() - self.start) * 1000))
        self.result = elapsed
        self.client.timer_send(self.name, elapsed, **self.msg_data)
        return False


# Clients made before a fork (gunicorn, uWSGI) must stamp the worker's pid,
# not the master's.
_LIVE_CLIENTS = weakref.WeakSet()


def _refresh_pids_after_fork():
    pid = os.getpid()
    for client in list(_LIVE_CLIENTS):
        client.pid = pid


forks.on_new_process(_refresh_pids_after_fork)


class MetlogClient:
    """Sends metlog messages through `sender`, after the client's filters.

    :param sender: any object with `send_message(msg)`; None means a
                   NoSendSender (the client is then not active).
    :param logger: the default `logger` of every message (the app's name).
    :param severity: the default severity (6, informational).
    :param disabled_timers: timer names that send nothing; '*' disables all.
    :param filters: callables `f(msg) -> bool`; a message is sent only if
                    every filter returns True.
    """

    # The version of the message dict's layout, as metlog-py 0.10 sends it.
    env_version = '0.8'

    def __init__(self, sender, logger, severity=6, disabled_timers=None,
                 filters=None):
        self.setup(sender, logger, severity, disabled_timers, filters)
        self._dynamic_methods = {}
        self._timer_obs = {}
        self._noop_timer = _NoOpTimer()
        self.hostname = socket.gethostname()
        self.pid = os.getpid()
        # Log calls whose arguments did not fit their format string: sent
        # unformatted (see _oldstyle), and counted here.
        self.format_errors = 0
        # Messages lost because a filter or the sender raised (the error
        # goes to stderr; the application never sees it).
        self.failed = 0
        _LIVE_CLIENTS.add(self)

    def setup(self, sender=None, logger='', severity=6, disabled_timers=None,
              filters=None):
        """(Re)configures the client in place."""
        self.sender = NoSendSender() if sender is None else sender
        self.logger = logger
        self.severity = severity
        if disabled_timers is None:
            self._disabled_timers = set()
        elif isinstance(disabled_timers, str):
            self._disabled_timers = {disabled_timers}
        else:
            self._disabled_timers = set(disabled_timers)
        self.filters = [] if filters is None else list(filters)

    @property
    def is_active(self):
        """True once a real sender (not NoSendSender) is set."""
        return not isinstance(self.sender, NoSendSender)

    def send_message(self, msg):
        """Applies the filters and hands `msg` to the sender. A filter or a
        sender that raises does not break the application (metlog-py let a
        filter's error through): the message is counted in `failed` and the
        error goes to stderr."""
        try:
            for filter_fn in self.filters:
                if not filter_fn(msg):
                    return
            self.sender.send_message(msg)
        except Exception as error:  # the app must not fail because of us
            self.failed += 1
            sys.stderr.write('Error sending message (%s): [%s]\n'
                             % (_safe_repr(error), _safe_repr(msg)))

    def add_method(self, method, override=False):
        """Binds `method` (a plain function taking the client first) to this
        client under `method.metlog_name`.

        :param override: False refuses to replace an existing attribute
                         (SyntaxError, as metlog-py); True replaces it; a
                         string binds the method under that name instead.
        """
        if isinstance(method, str):
            # metlog-py 0.8 order: add_method(name, method, override).
            name, method = method, override
            override = False
        else:
            name = getattr(method, 'metlog_name', None)
        if not isinstance(method, types.FunctionType):
            raise TypeError('add_method needs a plain function, got %r'
                            % (method,))
        if isinstance(override, str):
            name = override
        if not name:
            raise SyntaxError('The method has no metlog_name and no name '
                              'was given')
        if override is False and hasattr(self, name):
            raise SyntaxError('The name [%s] is already in use' % name)
        self._dynamic_methods[name] = method
        setattr(self, name, types.MethodType(method, self))

    def metlog(self, type, timestamp=None, logger=None, severity=None,
               payload='', fields=None):
        """Builds one message and sends it (through the filters)."""
        if timestamp is None:
            timestamp = _now()
        elif hasattr(timestamp, 'isoformat'):
            timestamp = timestamp.isoformat()
        self.send_message({
            'type': type,
            'timestamp': timestamp,
            'logger': self.logger if logger is None else logger,
            'severity': self.severity if severity is None else severity,
            'payload': payload,
            # A copy: the network senders encode later, and the application
            # may pass (and change) the same dict again meanwhile.
            'fields': ({} if fields is None else fields.copy()
                       if isinstance(fields, dict) else fields),
            'env_version': self.env_version,
            'metlog_pid': self.pid,
            'metlog_hostname': self.hostname,
        })

    def timer(self, name, timestamp=None, logger=None, severity=None,
              fields=None, rate=1.0):
        """A context manager / decorator sending a 'timer' message with the
        elapsed milliseconds. A disabled timer, or one skipped by sampling
        (`rate` < 1), returns a no-op stand-in that costs nothing."""
        disabled = self._disabled_timers
        if disabled and (name in disabled or '*' in disabled):
            return self._noop_timer
        if rate < 1.0 and random.random() >= rate:
            return self._noop_timer
        msg_data = {'timestamp': timestamp, 'logger': logger,
                    'severity': severity, 'fields': fields, 'rate': rate}
        timer = self._timer_obs.get(name)
        if timer is None:
            timer = _Timer(self, name, msg_data)
            self._timer_obs[name] = timer
        else:
            timer.msg_data = msg_data
        return timer

    def timer_send(self, name, elapsed, timestamp=None, logger=None,
                   severity=None, fields=None, rate=1.0):
        """Sends a 'timer' message for `elapsed` milliseconds. `rate` is
        carried along, not applied here."""
        fields = {} if fields is None else fields
        fields['name'] = name
        fields['rate'] = rate
        self.metlog('timer', timestamp, logger, severity, str(elapsed),
                    fields)

    def incr(self, name, count=1, timestamp=None, logger=None, severity=None,
             fields=None, rate=1.0):
        """Sends a 'counter' message adding `count` to `name`. With `rate`
        < 1 only that fraction of calls sends (the rate travels along)."""
        if rate < 1 and random.random() >= rate:
            return
        fields = {} if fields is None else fields
        fields['name'] = name
        fields['rate'] = rate
        self.metlog('counter', timestamp, logger, severity, str(count),
                    fields)

    # Python logging style calls: type 'oldstyle', payload the formatted text.
    def _oldstyle(self, severity, msg, *args, **kwargs):
        fields = None
        if args:
            try:
                if (len(args) == 1 and hasattr(args[0], 'keys')
                        and hasattr(args[0], '__getitem__')):
                    args = args[0]
                msg = msg % args
            except Exception as error:
                # metlog-py raised here (a mismatch, '%c' out of range, an
                # argument whose __str__ raises); a log call must never break
                # the application, so the text goes out unformatted, with why.
                self.format_errors += 1
                fields = {'format_error': _safe_text(error),
                          'args': _safe_repr(args)}
        exc_info = kwargs.get('exc_info', False)
        if exc_info:
            if not isinstance(exc_info, tuple):
                exc_info = sys.exc_info()
            if exc_info[0] is not None:
                try:
                    text = ''.join(traceback.format_exception(*exc_info))
                except Exception as error:
                    text = 'no traceback: %s' % _safe_repr(error)
                msg = _safe_text(msg)
                if not msg.endswith('\n'):
                    msg += '\n'
                msg += text[:-1] if text.endswith('\n') else text
        self.metlog(type='oldstyle', severity=severity, payload=msg,
                    fields=fields)

    def debug(self, msg, *args, **kwargs):
        self._oldstyle(SEVERITY.DEBUG, msg, *args, **kwargs)

    def info(self, msg, *args, **kwargs):
        self._oldstyle(SEVERITY.INFORMATIONAL, msg, *args, **kwargs)

    def warn(self, msg, *args, **kwargs):
        self._oldstyle(SEVERITY.WARNING, msg, *args, **kwargs)

    def error(self, msg, *args, **kwargs):
        self._oldstyle(SEVERITY.ERROR, msg, *args, **kwargs)

    def exception(self, msg, exc_info=True, *args, **kwargs):
        """Severity ALERT; appends the traceback of the exception being
        handled (or of the exc_info tuple given)."""
        self._oldstyle(SEVERITY.ALERT, msg, *args, exc_info=exc_info,
                       **kwargs)

    def critical(self, msg, *args, **kwargs):
        self._oldstyle(SEVERITY.CRITICAL, msg, *args, **kwargs)
