"""MetlogDecorator: the base of decorators whose behaviour is settled at the
first call, not at import.

Decorators run when a module is imported, usually before the Metlog
configuration is loaded. So the decorated function's first call decides, once:
if the decorator is enabled (not named in CLIENT_HOLDER.global_config's
`disabled_decorators`) every call goes through `metlog_call`, otherwise
straight to the function.
"""

import functools
import json

from metlog.decorators.util import return_fq_name
from metlog.holder import CLIENT_HOLDER


class MetlogDecorator:
    """Use bare (`@timeit`) or with the arguments of the client call it
    makes (`@timeit('name', rate=0.5)`). `client=` picks a client object,
    `client_name=` one from CLIENT_HOLDER; the default client otherwise."""

    def __init__(self, *args, **kwargs):
        self._client = kwargs.pop('client', None)
        self.client_name = kwargs.pop('client_name', '')
        if len(args) == 1 and not kwargs and callable(args[0]):
            self.args = None
            self.kwargs = None
            self.set_fn(args[0])
        else:
            self.args = args
            self.kwargs = kwargs
            self.set_fn(None)

    @property
    def decorator_name(self):
        return self.__class__.__name__

    @property
    def client(self):
        if self._client is None:
            if self.client_name:
                self._client = CLIENT_HOLDER.get_client(self.client_name)
            else:
                self._client = CLIENT_HOLDER.default_client
        return self._client

    def predicate(self):
        """True when the decorator should act (decided at the first call)."""
        disabled = CLIENT_HOLDER.global_config.get('disabled_decorators', [])
        return self.decorator_name not in disabled

    def set_fn(self, fn):
        self._fn = fn
        if fn is None:
            self._fn_fq_name = None
            return
        if isinstance(fn, MetlogDecorator):
            self._fn_fq_name = fn._fn_fq_name
        else:
            self._fn_fq_name = return_fq_name(fn)
        functools.update_wrapper(self, fn, updated=())
        self._update_decorator_chain()

    def _update_decorator_chain(self):
        """Records (class, args, kwargs) of every Metlog decorator applied
        to the function, in `_metlog_decorators`."""
        chain = set(getattr(self._fn, '_metlog_decorators', ()))
        kwargs = None if self.kwargs is None else json.dumps(
            self.kwargs, sort_keys=True, default=str)
        args = None if self.args is None else tuple(self.args)
        chain.add((self.__class__, args, kwargs))
        self._metlog_decorators = chain

    def __call__(self, *args, **kwargs):
        return self._real_call(*args, **kwargs)

    def _real_call(self, *args, **kwargs):
        if (self._fn is None and len(args) == 1 and not kwargs
                and callable(args[0])):
            # Made with arguments; now given the function to wrap.
            self.set_fn(args[0])
            return self
        replacement = self.metlog_call if self.predicate() else self._invoke
        self._real_call = replacement
        return replacement(*args, **kwargs)

    def __get__(self, instance, owner):
        """Decorated methods bind like functions."""
        if instance is None:
            return self
        return functools.partial(self, instance)

    def _default_name(self):
        """Names the metric after the function when the decorator was not
        given a name."""
        self.args = self.args or ()
        self.kwargs = self.kwargs or {}
        if not self.args and 'name' not in self.kwargs:
            self.kwargs['name'] = self._fn_fq_name

    def _invoke(self, *args, **kwargs):
        return self._fn(*args, **kwargs)

    def metlog_call(self, *args, **kwargs):
        """What the decorator does around the call; subclasses define it."""
        raise NotImplementedError
