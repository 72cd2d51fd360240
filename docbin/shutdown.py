"""Clean shutdown of batch runs: SIGTERM stops a run the way Ctrl-C does, and worker processes exit
when the process that started them dies.

SIGTERM is what ``timeout``, systemd, Docker and SLURM send. Python's default for it ends the process
at once, without its ``finally`` blocks, so a run would leave no summary and its pool's workers
running; :func:`interrupt_on` turns it into the same exception Ctrl-C raises. A worker that outlives
its parent (killed with SIGKILL, out of memory) would go on writing outputs nobody asked for, and
keeps the fork server and the resource tracker alive too:
:func:`exit_with_parent` ends it.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Interrupted(KeyboardInterrupt):
    """Raised in the main thread by a signal :func:`interrupt_on` handles; ``signum`` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextmanager
def interrupt_on(*signums: signal.Signals) -> Iterator[None]:
    """While the block runs, each of ``signums`` (default SIGINT and SIGTERM) raises :class:`Interrupted`
    in the main thread, as Ctrl-C raises ``KeyboardInterrupt``; the previous handlers come back after.
    Call it from the main thread (Python delivers signals there only)."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        raise Interrupted(signum)

    previous = {s: signal.signal(s, handler) for s in signums or (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def exit_with_parent() -> None:
    """In a :mod:`multiprocessing` child, end this process as soon as the process that started it dies.

    A daemon thread waits on the parent's sentinel (a pipe the parent holds open while it lives) and
    calls ``os._exit``. ``prctl(PR_SET_PDEATHSIG)`` would not do: a fork-server worker's parent is the
    fork server, which itself lives until all its children are gone. Outside a child it does nothing.
    """
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_when_gone, args=(parent.sentinel,), name="docbin-parent-watch",
                         daemon=True).start()


def _exit_when_gone(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(1)
