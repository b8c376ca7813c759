"""timeit and incr_count: the standard Metlog decorators."""

from metlog.decorators.base import MetlogDecorator


class timeit(MetlogDecorator):
    """Sends a timer for each call, named after the function unless a name
    is given; does nothing when that timer is disabled on the client."""

    def predicate(self):
        client = self.client
        if client is None:
            return False
        disabled = client._disabled_timers
        if self._fn_fq_name in disabled or '*' in disabled:
            return False
        return super().predicate()

    def metlog_call(self, *args, **kwargs):
        self._default_name()
        with self.client.timer(*self.args, **self.kwargs):
            return self._fn(*args, **kwargs)


class incr_count(MetlogDecorator):
    """Increments a counter, named after the function unless a name is
    given, after each call (also when the call raises)."""

    def predicate(self):
        return self.client is not None and super().predicate()

    def metlog_call(self, *args, **kwargs):
        self._default_name()
        try:
            return self._fn(*args, **kwargs)
        finally:
            self.client.incr(*self.args, **self.kwargs)
