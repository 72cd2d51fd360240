"""Process-wide thread pools that a forked child never inherits.

A fork copies a :class:`~concurrent.futures.ThreadPoolExecutor` object but not its threads: the child's copy
believes its workers exist, so work queued on it waits forever. Pools are therefore kept per process id.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from docbin.errors import ParameterError

THREADS_ENV = "DOCBIN_THREADS"  # threads per process for docbin's own pools (batch workers set 1)

_POOLS: dict[tuple[int, str, int], ThreadPoolExecutor] = {}


def shared_pool(name: str, workers: int) -> ThreadPoolExecutor:
    """This process's pool called ``name`` with ``workers`` threads, created on first use."""
    key = (os.getpid(), name, workers)
    if key not in _POOLS:
        _POOLS[key] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"docbin-{name}")
    return _POOLS[key]


def default_threads() -> int:
    """Threads docbin's pools use by default: ``$DOCBIN_THREADS`` when set, else one per CPU core."""
    value = os.environ.get(THREADS_ENV, "").strip()
    if not value:
        return os.cpu_count() or 1
    if not value.isdigit() or int(value) < 1:
        raise ParameterError(f"{THREADS_ENV} must be a positive integer, got {value!r}")
    return int(value)
