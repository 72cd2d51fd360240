"""docbin.caching: owned, thread-safe, bounded and clearable process caches."""

from __future__ import annotations

import os
import threading
import time

import pytest

import docbin
from docbin.caching import KeyedCache, caches, clear_caches


def test_values_are_computed_once_and_the_least_recent_is_dropped() -> None:
    cache: KeyedCache[int, int] = KeyedCache("test squares", maxsize=2)
    calls: list[int] = []

    def square(k: int) -> int:
        calls.append(k)
        return k * k

    assert [cache.get(k, lambda k=k: square(k)) for k in (1, 2, 1, 3, 2)] == [1, 4, 1, 9, 4]
    assert calls == [1, 2, 3, 2]  # 2 was the least recently used when 3 arrived
    assert (cache.hits, cache.misses, len(cache)) == (1, 4, 2)
    cache.clear()
    assert (cache.hits, cache.misses, len(cache)) == (0, 0, 0)


def test_concurrent_callers_of_one_key_share_one_computation() -> None:
    cache: KeyedCache[str, object] = KeyedCache("test shared", maxsize=None)
    started, calls = threading.Barrier(8), []

    def slow() -> object:
        calls.append(1)
        time.sleep(0.2)
        return object()

    results: list[object] = []

    def worker() -> None:
        started.wait()
        results.append(cache.get("key", slow))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(calls) == 1 and len(results) == 8 and len({id(r) for r in results}) == 1


def test_a_failed_computation_is_not_cached() -> None:
    cache: KeyedCache[str, int] = KeyedCache("test failing", maxsize=None)

    def fail() -> int:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        cache.get("k", fail)
    assert cache.get("k", lambda: 5) == 5


def test_clear_caches_empties_every_cache_and_is_public() -> None:
    cache: KeyedCache[str, int] = KeyedCache("test cleared", maxsize=None)
    cache.get("k", lambda: 1)
    assert cache in caches()
    assert docbin.clear_caches is clear_caches
    docbin.clear_caches()
    assert len(cache) == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_starts_with_an_empty_cache() -> None:
    cache: KeyedCache[str, int] = KeyedCache("test forked", maxsize=None)
    cache.get("k", lambda: 1)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child reports how many entries it inherited, then leaves without cleanup
        os.write(write, str(len(cache)).encode())
        os._exit(0)
    os.close(write)
    assert os.read(read, 16) == b"0"
    os.close(read)
    os.waitpid(pid, 0)
    assert len(cache) == 1


def test_the_docstring_example_runs() -> None:
    import doctest

    from docbin import caching

    result = doctest.testmod(caching)
    assert result.attempted > 0 and result.failed == 0
