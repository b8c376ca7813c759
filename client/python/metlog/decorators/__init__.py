"""Decorators that time or count calls of a function, configured lazily."""

from metlog.decorators.stats import incr_count, timeit  # noqa: F401

__all__ = ['incr_count', 'timeit']
