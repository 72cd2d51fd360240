"""Process-wide caches with an owner: thread-safe, bounded, clearable, and safe across ``fork``.

Every cache docbin keeps for the life of a process (onnxruntime sessions per model file, pseudo-FM weight
maps per ground truth, verified model-file digests) is one named :class:`KeyedCache` held by the module that
fills it. :func:`clear_caches` empties them all, e.g. to release memory in a long-running host or to make a
test independent of the ones before it.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Generic, TypeVar

__all__ = ["KeyedCache", "caches", "clear_caches"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_CACHES: weakref.WeakSet[KeyedCache] = weakref.WeakSet()


class KeyedCache(Generic[K, V]):
    """A least-recently-used map from keys to values computed once per key.

    Thread-safe: concurrent :meth:`get` calls for one missing key run ``compute`` once and all receive its
    value (or its exception, which is not cached). A child process made by ``fork`` starts with an empty
    cache and a fresh lock, so it never waits on a computation of a thread it did not inherit.

    Parameters
    ----------
    name : str
        What the cache holds, for :func:`caches` and error messages.
    maxsize : int or None
        Entries kept; the least recently used is dropped beyond it. ``None``: unbounded; 0: nothing kept.

    Examples
    --------
    >>> squares = KeyedCache("squares", maxsize=2)
    >>> squares.get(3, lambda: 9), squares.get(3, lambda: 0), squares.misses, squares.hits
    (9, 9, 1, 1)
    """

    def __init__(self, name: str, maxsize: int | None) -> None:
        self.name = name
        self.maxsize = maxsize
        self.hits = self.misses = 0
        self._values: OrderedDict[K, V] = OrderedDict()
        self._pending: dict[K, Future[V]] = {}
        self._lock = threading.Lock()
        _CACHES.add(self)

    def get(self, key: K, compute: Callable[[], V]) -> V:
        """The value cached under ``key``, or ``compute()`` stored under it (run once per missing key)."""
        with self._lock:
            if key in self._values:
                self.hits += 1
                self._values.move_to_end(key)
                return self._values[key]
            pending = self._pending.get(key)
            owner = pending is None
            if owner:
                self.misses += 1
                pending = self._pending[key] = Future()
        if not owner:
            return pending.result()
        try:
            value = compute()
        except BaseException as exc:
            with self._lock:
                if self._pending.get(key) is pending:
                    del self._pending[key]
            pending.set_exception(exc)
            raise
        with self._lock:
            if self._pending.get(key) is pending:  # not cleared while computing
                del self._pending[key]
                self._values[key] = value
                while self.maxsize is not None and len(self._values) > self.maxsize:
                    self._values.popitem(last=False)
        pending.set_result(value)
        return value

    def clear(self) -> None:
        """Drop every entry and reset the hit and miss counts (computations in flight finish uncached)."""
        with self._lock:
            self._values.clear()
            self._pending.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"KeyedCache({self.name!r}, maxsize={self.maxsize}, entries={len(self)})"

    def _reset_in_child(self) -> None:
        self._lock = threading.Lock()
        self._values.clear()
        self._pending.clear()


def _reset_after_fork() -> None:
    for cache in list(_CACHES):
        cache._reset_in_child()


os.register_at_fork(after_in_child=_reset_after_fork)


def caches() -> list[KeyedCache]:
    """Every live :class:`KeyedCache` of this process."""
    return list(_CACHES)


def clear_caches() -> None:
    """Empty every docbin cache of this process (sessions, weight maps, digests): memory is released once the
    caller drops its own references, and later calls recompute what they need."""
    for cache in caches():
        cache.clear()
