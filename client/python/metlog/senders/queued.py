"""The machinery behind the ZeroMQ and UDP senders.

The application's thread only appends the message dict to a queue bounded
in messages and in bytes; a background thread encodes the queued messages as
metlog.v1.Message, packs as many as fit into one Packet (signed when a signer
is set) and hands it to a transport that never blocks. Whatever cannot be
queued or sent is dropped and counted; nothing raises into the application.
Every counter changes under the sender's lock, together with the queue, so
that any stats() snapshot balances: sent + dropped + queued == calls.

Pre-fork servers: after os.fork() the child gets a fresh queue, lock, thread
and transport (made on the child's first message); the messages the parent
had queued stay the parent's to send. A C-level fork that skips Python's
fork hooks (uWSGI without --py-call-uwsgi-fork-hooks) is noticed by the pid,
which send_message() reads only where it is cheap: for the first message of
a batch, every 64th message of a backlog, and when the lock is not free at
once (a thread of the parent may have held it at the fork: it never frees
in the child, which then replaces it, dropping the parent's queue). The
child drops the parent's queued messages that a pid check saw the parent
queue; those queued after the parent's last check (at most 63) cannot be
told from the child's own, and the child sends them too.
"""

import atexit
import collections
import itertools
import os
import sys
import threading
import time
import weakref

from metlog import forks
from metlog.senders.envelope import (MAX_MESSAGE_BYTES, BatchEncoder,
                                     MessageTooLarge, make_packet)

# A message dict with short strings costs about this much memory in the
# queue; the byte bound adds the lengths of the text and bytes in its payload
# and fields (inside lists and dicts too): text counts its UTF-8 length, what
# it takes on the wire and at least what CPython stores for its characters
# (1, 2 or 4 bytes each).
MESSAGE_OVERHEAD_BYTES = 400
_SCALARS = (int, float, bool, type(None))
# How long a lock that is not free is waited for before asking whether this
# is a new process, in which a parent's thread may hold it for ever.
_LOCK_PATIENCE_SECONDS = 0.2
_getpid = os.getpid

_LIVE_SENDERS = weakref.WeakSet()
# Transports inherited across a fork belong to the parent: the child keeps
# them referenced so that their sockets are never closed from the child.
_INHERITED_TRANSPORTS = []


def text_size(text):
    """The UTF-8 length of the str `text` (lone surrogates included)."""
    if text.isascii():
        return len(text)
    return len(text.encode('utf-8', 'surrogatepass'))


def value_size(value):
    """The bytes the byte bound counts for one payload or field value."""
    if isinstance(value, str):
        return text_size(value)
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    if isinstance(value, (list, tuple)):
        return sum(8 + value_size(v) for v in value)
    if isinstance(value, dict):
        return sum(8 + value_size(k) + value_size(v)
                   for k, v in value.items())
    return 0


def queued_size(msg):
    """What the byte bound counts for `msg`."""
    size = MESSAGE_OVERHEAD_BYTES
    if isinstance(msg, dict):
        size += value_size(msg.get('payload'))
        fields = msg.get('fields')
        if isinstance(fields, dict):
            size += value_size(fields)
    return size


class QueuedSender:
    """A sender whose send_message() costs the caller one lock and an append.

    :param transport_factory: called on the background thread to make the
        transport: an object with `send(data) -> bool` (False when refused
        right now) and `close()`.
    :param queue_length: messages that would take what the sender holds
        (waiting or being sent) beyond this many are dropped.
    :param max_queue_bytes: messages that would take what the sender holds
        (waiting or being sent) beyond this many bytes (see queued_size) are
        dropped.
    :param max_packet_bytes: a packet never exceeds this; a message that
        alone would is dropped.
    :param linger: seconds a first message waits for others to share its
        packet.
    :param max_message_bytes: a message whose envelope is larger is dropped
        (the router would reject it).
    :param unsent_grace: seconds a refused packet is retried while the
        transport was last accepting (a router restarting); after that,
        refused packets drop at once until one gets through again.
    :param connect_grace: the same, for a new transport that has not
        accepted anything yet (its first connection may still be made, and
        a loaded machine can take a while).
    :param signer: an envelope.PacketSigner, or None for unsigned packets.
    :param status: why no transport can be made (a bad endpoint), or None;
        when set, every message is dropped and counted as dropped_no_sender.
    """

    def __init__(self, transport_factory, queue_length, max_queue_bytes,
                 max_packet_bytes, linger=0.005, unsent_grace=0.25,
                 connect_grace=2.0, signer=None,
                 max_message_bytes=MAX_MESSAGE_BYTES, status=None):
        self._status = status
        self._transport_factory = transport_factory
        self.queue_length = int(queue_length)
        self.max_queue_bytes = int(max_queue_bytes)
        self.max_packet_bytes = int(max_packet_bytes)
        self.max_message_bytes = int(max_message_bytes)
        self.linger = float(linger)
        self.unsent_grace = float(unsent_grace)
        self.connect_grace = float(connect_grace)
        self.signer = signer
        # What a Packet adds around its batch: tag and length, and the
        # signature (name, key version, 32-byte HMAC and their framing).
        self._packet_overhead = 8 if signer is None else (
            8 + len(signer.signer.encode('utf-8')) + 48)
        # pid -> token of the thread that replaced a lock held for ever
        # there (see _acquire_contended).
        self._lock_replaced_in = {}
        self._reset_process_state(threading.Lock())
        _LIVE_SENDERS.add(self)

    def _reset_process_state(self, lock, adopted=()):
        """Everything that belongs to one process (and its threads), guarded
        by `lock`; the queue starts with the `adopted` entries. `lock` and
        this pid are published last, so that another thread that finds them
        finds the whole state (see _acquire_contended)."""
        self._drained = threading.Condition(lock)
        self._wake = threading.Event()
        self._queue = collections.deque(adopted)
        self._queued_bytes = sum(size for _, size in self._queue)
        # The first this many queued messages are this process's for sure:
        # a pid check made after they were queued still saw this pid.
        self._known_ours = 0
        self._in_progress = 0
        self._idle = False
        self._stopping = False
        self._thread = None
        self._thread_problem = None
        self._transport_problem = None
        self._transport_retry_at = 0.0
        self._transport = None
        self._transport_accepted = False
        self.sent = 0
        self.dropped_queue_full = 0
        self.dropped_queue_bytes = 0
        self.dropped_unsent = 0
        self.dropped_oversized = 0
        self.dropped_unencodable = 0
        self.dropped_no_sender = 0
        self.undelivered = 0
        self._lock = lock
        self._pid = _getpid()

    def status(self):
        """Why this sender drops everything (it was given an endpoint that
        cannot work), or why it cannot send right now (its thread or
        transport could not be made; a destination does not resolve), or
        None."""
        transport = self._transport
        return (self._status or self._thread_problem
                or self._transport_problem
                or getattr(transport, 'problem', None))

    def send_message(self, msg):
        """Queues `msg` for the background thread; never blocks, never
        raises. A message that does not fit is dropped and counted."""
        # This is the application's cost per message: keep it lean.
        try:
            try:
                # queued_size(), inlined for dicts as MetlogClient makes them.
                size = MESSAGE_OVERHEAD_BYTES
                payload = msg['payload']
                if payload.__class__ is str and payload.isascii():
                    size += len(payload)
                else:
                    size += value_size(payload)
                for value in msg['fields'].values():
                    if value.__class__ is str and value.isascii():
                        size += len(value)
                    elif value.__class__ not in _SCALARS:
                        size += value_size(value)
            except (KeyError, AttributeError, TypeError):
                size = queued_size(msg)
            lock = self._lock
            if not lock.acquire(False):
                lock = self._acquire_contended(lock, msg)
            try:
                queue = self._queue
                waiting = len(queue)
                if self._status is not None:
                    self.dropped_no_sender += 1
                elif waiting + self._in_progress >= self.queue_length:
                    self.dropped_queue_full += 1
                elif self._queued_bytes + size > self.max_queue_bytes:
                    self.dropped_queue_bytes += 1
                elif self._stopping:
                    self.dropped_unsent += 1
                else:
                    if not waiting & 63:
                        # The first message of a batch, or the 64th of a
                        # backlog nobody takes: a C-level fork?
                        if self._pid != _getpid():
                            self._adopt_new_process(msg)
                            queue = self._queue
                        else:
                            self._known_ours = waiting + 1
                    queue.append((msg, size))
                    self._queued_bytes += size
                    if self._idle:
                        self._idle = False
                        self._wake.set()
                    elif self._thread is None:
                        self._start_thread()
            finally:
                lock.release()
        except Exception:  # the application must never see our failures
            lock = self._hold()
            try:
                self.dropped_unencodable += 1
            finally:
                lock.release()

    def _acquire_contended(self, lock, msg=None):
        """The lock of this process's state, acquired, after a first try
        found `lock` taken: by another thread for a moment, or, after a
        C-level fork, by a thread of the parent that does not exist here and
        never releases it. That lock is replaced (once, by one thread), and
        what was queued under it is the parent's: nobody here could add to
        it. The new lock is published already held by the thread that
        builds the new state, so the others wait until it is whole."""
        while True:
            if lock.acquire(timeout=_LOCK_PATIENCE_SECONDS):
                if lock is self._lock:
                    return lock
                lock.release()  # replaced meanwhile: take the new one
            elif self._pid != _getpid():
                token = object()
                if self._lock_replaced_in.setdefault(_getpid(),
                                                     token) is token:
                    parent_pid = self._pid
                    self._leave_parent_state()
                    lock = threading.Lock()
                    lock.acquire()
                    self._reset_process_state(lock)
                    _restamp(msg, parent_pid, self._pid)
                    forks.notice_new_process()
                    return lock
            lock = self._lock

    def _hold(self):
        """This process's lock, acquired, with the sender's state made this
        process's if a C-level fork left it the parent's."""
        lock = self._lock
        if not lock.acquire(False):
            lock = self._acquire_contended(lock)
        if self._pid != _getpid():
            self._adopt_new_process(None)
        else:
            self._known_ours = len(self._queue)
        return lock

    def _adopt_new_process(self, msg):
        """Makes the state this process's after a C-level fork, under the
        lock this thread holds (it is free here). The queued messages that
        a pid check saw the parent queue are the parent's to send: they are
        dropped here, and not counted, as they were never this process's.
        The rest is kept: the child's first messages may be in it, and
        after a fork that skips the hooks they cannot be told from the
        parent's last (at most 63) ones, which the parent sends too. Kept
        messages and `msg` get this pid."""
        parent_pid = self._pid
        adopted = collections.deque(
            itertools.islice(self._queue, self._known_ours, None))
        self._leave_parent_state()
        self._reset_process_state(self._lock, adopted)
        pid = self._pid
        for queued, _ in adopted:
            _restamp(queued, parent_pid, pid)
        _restamp(msg, parent_pid, pid)
        forks.notice_new_process()

    def _leave_parent_state(self):
        if self._transport is not None:
            _INHERITED_TRANSPORTS.append(self._transport)

    def stats(self):
        """Counters since this process started using the sender: every
        message handed to send_message() is in exactly one of sent,
        dropped_* or queued (still waiting or being sent). `undelivered`
        is apart from that: for a transport with several destinations
        (UdpSender), it counts, once per destination missed, the sent
        messages that some destination did not get."""
        lock = self._hold()
        try:
            return {
                'sent': self.sent,
                'dropped_queue_full': self.dropped_queue_full,
                'dropped_queue_bytes': self.dropped_queue_bytes,
                'dropped_unsent': self.dropped_unsent,
                'dropped_oversized': self.dropped_oversized,
                'dropped_unencodable': self.dropped_unencodable,
                'dropped_no_sender': self.dropped_no_sender,
                'queued': len(self._queue) + self._in_progress,
                'undelivered': self.undelivered,
            }
        finally:
            lock.release()

    @property
    def dropped(self):
        """All messages dropped, for whatever reason."""
        lock = self._hold()
        try:
            return (self.dropped_queue_full + self.dropped_queue_bytes
                    + self.dropped_unsent + self.dropped_oversized
                    + self.dropped_unencodable + self.dropped_no_sender)
        finally:
            lock.release()

    def flush(self, timeout=1.0):
        """Waits up to `timeout` seconds until everything queued so far has
        been sent or dropped. True when it has."""
        deadline = time.monotonic() + timeout
        lock = self._hold()
        try:
            if self._thread is None and self._queue:
                self._start_thread()
            if self._thread is None:
                return not self._queue
            self._wake.set()
            while self._queue or self._in_progress:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._drained.wait(remaining)
        finally:
            lock.release()
        return True

    def close(self, timeout=1.0):
        """Sends what is queued (within `timeout`), then stops the thread.
        Messages sent afterwards are dropped and counted."""
        lock = self._hold()
        try:
            if (self._thread is None and self._queue
                    and not self._stopping):
                self._start_thread()  # what a C-level fork's child adopted
            self._stopping = True
            thread = self._thread
        finally:
            lock.release()
        self._wake.set()
        if thread is not None:
            thread.join(timeout)

    def _start_thread(self):
        """Starts the background thread, under the lock. When it cannot
        start (no threads or memory left), the queued messages wait for a
        later call to try again."""
        thread = threading.Thread(target=self._run, name='metlog-sender',
                                  daemon=True)
        try:
            thread.start()
        except Exception as error:
            self._thread_problem = 'cannot start its thread: %r' % (error,)
            return
        self._thread_problem = None
        self._thread = thread

    def _make_transport(self):
        """Makes the transport if there is none yet, at most once a second
        after a failure (what failed may come back)."""
        if self._transport is not None:
            return
        now = time.monotonic()
        if now < self._transport_retry_at:
            return
        try:
            self._transport = self._transport_factory()
            self._transport_problem = None
        except Exception as error:
            if self._transport_problem is None:
                sys.stderr.write('metlog: sender transport failed: %r\n'
                                 % error)
            self._transport_problem = 'transport failed: %r' % (error,)
            self._transport_retry_at = now + 1.0

    def _run(self):
        self._make_transport()
        encoder = BatchEncoder(self.max_message_bytes)
        transport_up = True
        while True:
            with self._lock:
                if not self._queue:
                    if self._stopping:
                        break
                    self._idle = True
                    waited = True
                else:
                    waited = False
            if waited:
                self._wake.wait()
                self._wake.clear()
                if self.linger > 0 and not self._stopping:
                    time.sleep(self.linger)
                continue
            with self._lock:
                batch = self._queue
                self._queue = collections.deque()
                self._known_ours = 0
                # The batch's bytes stay counted until it is sent: the
                # byte bound covers all the sender holds.
                batch_bytes = self._queued_bytes
                self._in_progress = len(batch)
            self._make_transport()
            transport_up = self._send_all(batch, encoder, transport_up)
            del batch
            with self._lock:
                self._queued_bytes -= batch_bytes
                self._drained.notify_all()
        if self._transport is not None:
            self._transport.close()

    def _send_all(self, batch, encoder, transport_up):
        """Encodes and sends `batch` in as many packets as it takes; each
        packet's messages (and those dropped before it) are counted and
        free their places in the message bound once it is handed over."""
        pieces = []
        packed = 0
        oversized = 0
        unencodable = 0
        for msg, _ in batch:
            try:
                piece = encoder.encode(msg)
            except MessageTooLarge:
                oversized += 1
                continue
            except Exception:
                unencodable += 1
                continue
            if len(piece) + self._packet_overhead > self.max_packet_bytes:
                oversized += 1
                continue
            if (packed + len(piece) + self._packet_overhead
                    > self.max_packet_bytes):
                transport_up = self._send_packet(pieces, transport_up)
                self._settle(transport_up, len(pieces), oversized,
                             unencodable)
                pieces = []
                packed = 0
                oversized = 0
                unencodable = 0
            pieces.append(piece)
            packed += len(piece)
        if pieces:
            transport_up = self._send_packet(pieces, transport_up)
        self._settle(transport_up, len(pieces), oversized, unencodable)
        return transport_up

    def _settle(self, accepted, packed, oversized, unencodable):
        """Counts a packet's messages and those dropped before it, and
        frees their places, in one step under the lock."""
        with self._lock:
            if accepted:
                self.sent += packed
                count_misses = getattr(self._transport, 'count_misses', None)
                if count_misses is not None:
                    self.undelivered += count_misses(packed)
            else:
                self.dropped_unsent += packed
            self.dropped_oversized += oversized
            self.dropped_unencodable += unencodable
            self._in_progress -= packed + oversized + unencodable

    def _send_packet(self, pieces, transport_up):
        """Hands one packet to the transport; True when it took it."""
        data = make_packet(b''.join(pieces), self.signer)
        transport = self._transport
        accepted = transport is not None and transport.send(data)
        if not accepted and transport is not None and transport_up:
            grace = (self.unsent_grace if self._transport_accepted
                     else self.connect_grace)
            deadline = time.monotonic() + grace
            while not accepted and time.monotonic() < deadline:
                time.sleep(0.001)
                accepted = transport.send(data)
        if accepted:
            self._transport_accepted = True
        return accepted

    def _after_fork_in_child(self):
        self._leave_parent_state()
        self._reset_process_state(threading.Lock())


def _restamp(msg, parent_pid, pid):
    """Gives `msg`, made before this process noticed its fork, its pid."""
    if isinstance(msg, dict) and msg.get('metlog_pid') == parent_pid:
        msg['metlog_pid'] = pid


def _senders_after_fork_in_child():
    for sender in list(_LIVE_SENDERS):
        sender._after_fork_in_child()


def _close_senders_at_exit():
    # Bounded: a second per sender at most, so exit never hangs on a router
    # that is gone; and exit never shows a traceback of ours.
    for sender in list(_LIVE_SENDERS):
        try:
            sender.close(timeout=1.0)
        except Exception:
            pass


os.register_at_fork(after_in_child=_senders_after_fork_in_child)
atexit.register(_close_senders_at_exit)
