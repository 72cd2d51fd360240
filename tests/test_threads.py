"""docbin.threads: per-process pools and the default thread count."""

from __future__ import annotations

import os
import sys

import pytest

from docbin import threads
from docbin.errors import ParameterError


def test_default_threads_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(threads.THREADS_ENV, "3")
    assert threads.default_threads() == 3
    monkeypatch.delenv(threads.THREADS_ENV)
    assert threads.default_threads() == (os.cpu_count() or 1)


@pytest.mark.parametrize("value", ["0", "two", "-1", "1.5"])
def test_a_bad_thread_count_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(threads.THREADS_ENV, value)
    with pytest.raises(ParameterError, match="DOCBIN_THREADS must be a positive integer"):
        threads.default_threads()


def test_pools_are_shared_by_name_and_size() -> None:
    assert threads.shared_pool("t", 2) is threads.shared_pool("t", 2)
    assert threads.shared_pool("t", 2) is not threads.shared_pool("t", 1)


@pytest.mark.skipif(sys.platform != "linux", reason="needs os.fork")
def test_a_forked_child_gets_a_working_pool_of_its_own() -> None:
    parent = threads.shared_pool("fork", 2)
    assert parent.submit(lambda: 1).result() == 1  # the parent's threads exist now
    pid = os.fork()
    if pid == 0:  # child: the inherited pool object has no threads; a fresh one must run work
        try:
            ok = threads.shared_pool("fork", 2).submit(lambda: 2).result(timeout=10) == 2
        except Exception:
            ok = False
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
