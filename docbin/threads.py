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
    """This process's thread pool called ``name`` with ``workers`` threads, created on first use.

    Pools are kept per process id, so a forked child gets its own pool instead of a copy whose threads do
    not exist.

    Parameters
    ----------
    name : str
        What the pool is for; its threads are named ``docbin-<name>``.
    workers : int
        Number of threads (a pool of the same name with another size is a different pool).

    Returns
    -------
    concurrent.futures.ThreadPoolExecutor
        The same executor on every call with these arguments in this process.

    Examples
    --------
    >>> pool = shared_pool("example", 2)
    >>> pool is shared_pool("example", 2)
    True
    >>> pool.submit(sum, [1, 2]).result()
    3
    """
    key = (os.getpid(), name, workers)
    if key not in _POOLS:
        _POOLS[key] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"docbin-{name}")
    return _POOLS[key]


def default_threads() -> int:
    """Threads docbin's pools use by default: ``$DOCBIN_THREADS`` when set, else one per CPU core.

    Returns
    -------
    int
        The value of ``DOCBIN_THREADS`` (surrounding blanks ignored), or ``os.cpu_count()`` (1 when
        unknown) when it is unset or blank.

    Raises
    ------
    ParameterError
        When ``DOCBIN_THREADS`` is not a positive integer.

    Examples
    --------
    >>> from unittest import mock
    >>> with mock.patch.dict("os.environ", {"DOCBIN_THREADS": " 3 "}):
    ...     default_threads()
    3
    """
    value = os.environ.get(THREADS_ENV, "").strip()
    if not value:
        return os.cpu_count() or 1
    if not value.isdigit() or int(value) < 1:
        raise ParameterError(f"{THREADS_ENV} must be a positive integer, got {value!r}")
    return int(value)
