"""A bounded pool of worker processes for the service's CPU-bound jobs.

Each job runs in one of ``workers`` long-lived processes (started from a fork server, as batch workers are).
At most ``workers + queue`` jobs are admitted at once (more get 503 ``busy``); a job that finds no free
worker within ``queue_timeout_s`` never starts (503 ``queue_timeout``); a job that runs past its time limit
has its process killed and replaced (504 ``timeout``), so its CPU, memory and slot are free at once.
Processes, not threads with a cancellation flag, because a thread cannot be stopped inside one long OpenCV
or onnxruntime call, and because a decoder that crashes or runs out of memory then takes down only its
worker (500 ``worker_died``), not the server. A worker takes jobs only once it has compiled or loaded
docbin's numba kernels (:func:`docbin.kernels.warm_up`), so no request pays that.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import multiprocessing
import os
import pickle
import signal
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from docbin.engines import START_METHOD
from docbin.errors import DocbinError
from docbin.service.errors import ApiError
from docbin.threads import THREADS_ENV

T = TypeVar("T")
log = logging.getLogger("docbin.service")
# Imported once by the fork server, so a fresh worker (also one replacing a killed one) starts in milliseconds.
PRELOAD = ["docbin.service.jobs", "docbin.threshold", "docbin.metrics", "docbin.threestage.method", "docbin.kernels"]


@dataclass
class Timing:
    """Where a job's time went: waiting for a free worker, then running in it (milliseconds)."""

    queue_ms: float = 0.0
    run_ms: float = 0.0


def _worker_main(conn: Connection, plugins: tuple[str, ...], threads: int) -> None:
    """Warm up the kernels and send the seconds that took, then run pickled jobs from ``conn`` until the
    server closes it; reply ("ok", value), ("error", a docbin or API error) or ("crash", a traceback, also
    printed to the server's log)."""
    import cv2

    from docbin import kernels

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group; the server stops us
    cv2.setNumThreads(threads)
    os.environ.setdefault(THREADS_ENV, str(threads))
    for module in plugins:
        importlib.import_module(module)
    start = time.perf_counter()
    kernels.warm_up()
    conn.send_bytes(pickle.dumps(time.perf_counter() - start))
    while True:
        try:
            job = conn.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            reply = pickle.dumps(("ok", pickle.loads(job)()))
        except (DocbinError, ApiError) as exc:
            reply = pickle.dumps(("error", exc))
        except Exception:
            traceback.print_exc()
            reply = pickle.dumps(("crash", traceback.format_exc(limit=-3)))
        conn.send_bytes(reply)


class _Worker:
    """One worker process and the server's end of its pipe, returned once the worker's kernels are warm
    (``warm_up_s``: how long that took); EOFError when the process dies first."""

    def __init__(self, context: Any, plugins: tuple[str, ...], threads: int) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child, plugins, threads), name="docbin-worker",
                                       daemon=True)
        self.process.start()
        child.close()
        self.warm_up_s: float = pickle.loads(self.conn.recv_bytes())

    def call(self, job: bytes) -> tuple[str, Any]:
        """Send one pickled job and wait for the reply (in a waiter thread); EOFError when the process dies."""
        self.conn.send_bytes(job)
        return pickle.loads(self.conn.recv_bytes())

    def close(self) -> None:
        self.process.kill()
        self.process.join()
        self.conn.close()


class BoundedPool:
    """``workers`` worker processes running jobs, at most ``workers + queue`` admitted at once."""

    def __init__(self, workers: int, queue: int, queue_timeout_s: float, plugins: tuple[str, ...] = ()) -> None:
        self.size, self.capacity, self.queue_timeout_s, self.plugins = workers, workers + queue, queue_timeout_s, plugins
        self.threads = max(1, (os.cpu_count() or 1) // workers)  # OpenCV/onnxruntime threads per worker
        self.context = multiprocessing.get_context(START_METHOD)
        if START_METHOD == "forkserver":
            self.context.set_forkserver_preload(PRELOAD)
        self.waiters = ThreadPoolExecutor(workers, thread_name_prefix="docbin-wait")
        self.admitted = 0
        self.idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self.workers: set[_Worker] = set()
        self.replacing: set[asyncio.Task[None]] = set()
        self.closed = False

    async def start(self) -> None:
        """Start the worker processes and wait until their kernels are warm: the first alone, so that where
        numba's cache lacks the kernels one worker compiles them and the others load them."""
        loop = asyncio.get_running_loop()
        self.idle.put_nowait(await loop.run_in_executor(None, self._spawn))
        for worker in await asyncio.gather(*(loop.run_in_executor(None, self._spawn) for _ in range(self.size - 1))):
            self.idle.put_nowait(worker)

    def warm_up_s(self) -> float:
        """The longest kernel warm-up of the running workers, in seconds."""
        return max((worker.warm_up_s for worker in self.workers), default=0.0)

    def _spawn(self) -> _Worker:
        worker = _Worker(self.context, self.plugins, self.threads)
        self.workers.add(worker)
        return worker

    async def run(self, fn: Callable[[], T], timeout_s: float, timing: Timing | None = None) -> T:
        """``fn()`` in a worker process within ``timeout_s`` of its start; ``fn`` must pickle (a module-level
        function or a ``functools.partial`` of one). Its docbin and API errors are raised here."""
        try:
            job = pickle.dumps(fn)
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            raise TypeError(f"pool jobs run in worker processes and must pickle: {exc}") from None
        if self.admitted >= self.capacity:
            raise ApiError(503, "busy", "the server is at capacity; retry shortly", {"Retry-After": "2"})
        timing = timing or Timing()
        self.admitted += 1
        try:
            worker = await self._free_worker(timing)
            kind, value = await self._call(worker, job, timeout_s, timing)
        finally:
            self.admitted -= 1
        if kind == "ok":
            return value
        if kind == "error":
            raise value
        raise RuntimeError(f"the job failed in its worker: {value}")

    async def _free_worker(self, timing: Timing) -> _Worker:
        queued = time.perf_counter()
        try:
            return await asyncio.wait_for(self.idle.get(), self.queue_timeout_s)
        except TimeoutError:
            raise ApiError(503, "queue_timeout", f"no worker became free within {self.queue_timeout_s:g} s "
                           "(DOCBIN_QUEUE_TIMEOUT); the job never started: retry later",
                           {"Retry-After": "5", "X-Docbin-Queue-Ms": f"{1000 * (time.perf_counter() - queued):.1f}"}
                           ) from None
        finally:
            timing.queue_ms = 1000 * (time.perf_counter() - queued)

    async def _call(self, worker: _Worker, job: bytes, timeout_s: float, timing: Timing) -> tuple[str, Any]:
        """Run ``job`` on ``worker``; on a timeout, a dead worker or a cancelled request, replace the worker."""
        started = time.perf_counter()
        call = asyncio.get_running_loop().run_in_executor(self.waiters, worker.call, job)
        try:
            reply = await asyncio.wait_for(asyncio.shield(call), timeout_s)
        except BaseException as exc:
            self._replace(worker, call)
            queue_header = {"X-Docbin-Queue-Ms": f"{timing.queue_ms:.1f}"}
            if isinstance(exc, TimeoutError):
                raise ApiError(504, "timeout", f"processing took longer than {timeout_s:g} s "
                               "(DOCBIN_REQUEST_TIMEOUT); it was stopped", queue_header) from None
            if isinstance(exc, (EOFError, OSError)):
                raise ApiError(500, "worker_died", "the worker process died while processing this upload",
                               queue_header) from None
            raise
        finally:
            timing.run_ms = 1000 * (time.perf_counter() - started)
        self.idle.put_nowait(worker)
        return reply

    def _replace(self, worker: _Worker, call: asyncio.Future[Any]) -> None:
        """Kill ``worker`` now and start a fresh one in the background."""
        worker.process.kill()
        task = asyncio.create_task(self._restart(worker, call))
        self.replacing.add(task)
        task.add_done_callback(self.replacing.discard)

    async def _restart(self, worker: _Worker, call: asyncio.Future[Any]) -> None:
        with contextlib.suppress(Exception):
            await call  # the waiter thread returns once the killed process's pipe closes
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, worker.close)
        self.workers.discard(worker)
        if not self.closed:
            try:
                self.idle.put_nowait(await loop.run_in_executor(None, self._spawn))
            except Exception:
                log.exception("could not start a replacement worker process")

    def shutdown(self) -> None:
        """Stop every worker process now."""
        self.closed = True
        for worker in list(self.workers):
            worker.close()
        self.waiters.shutdown(wait=False, cancel_futures=True)
