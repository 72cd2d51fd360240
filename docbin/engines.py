"""Where the jobs of a batch run: the :class:`Engine` protocol and the local engines.

An engine takes a job function (:func:`docbin.batch.run_job`), the jobs and their task, and yields a result
per job as each completes; planning, resume, atomic writes and the run summary are :mod:`docbin.batch`'s, so
every engine shares them. The cluster engine is :mod:`docbin.dask_engine`.

Public API
----------
Engine, JobFn
    The engine protocol and the job function it runs.
SerialEngine, ProcessPoolEngine
    In this process, one job after another; in a pool of fresh local processes that survives a worker's death.
make_engine, EngineName
    The engine a batch runs on, by name.
init_worker, START_METHOD
    What every worker process (local or cluster) does first, and how local workers start.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Literal, Protocol

from docbin.batch import Job, JobResult, Task, remove_temps_of
from docbin.errors import ParameterError
from docbin.shutdown import exit_with_parent
from docbin.threads import THREADS_ENV

__all__ = [
    "START_METHOD",
    "Engine",
    "EngineName",
    "JobFn",
    "ProcessPoolEngine",
    "SerialEngine",
    "init_worker",
    "make_engine",
]

JobFn = Callable[[Job, Task], JobResult]


class Engine(Protocol):
    """Runs ``fn(job, task)`` for every job and yields the results as they complete (any order)."""

    def run(self, fn: JobFn, jobs: Sequence[Job], task: Task) -> Iterator[JobResult]: ...


class SerialEngine:
    """Runs jobs one after another in this process."""

    def run(self, fn: JobFn, jobs: Sequence[Job], task: Task) -> Iterator[JobResult]:
        """Yield ``fn(job, task)`` for each job in order, in this process."""
        for job in jobs:
            yield fn(job, task)


# Workers start from a fork server (or are spawned where there is none), never forked from the caller: a
# fork copies the caller's OpenCV and onnxruntime thread pools but not their threads, and a worker that then
# touches them can wait forever (seen in cv2.setNumThreads after the three-stage method ran in the caller).
START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def init_worker(plugins: tuple[str, ...]) -> None:
    """Set up a worker process of a local pool or a cluster.

    OpenCV gets one thread and ``$DOCBIN_THREADS`` defaults to 1, so docbin's pools and onnxruntime runners
    use one too (parallelism comes from the workers); the plugin modules that register extra methods are
    imported.

    Parameters
    ----------
    plugins : tuple of str
        Importable module names.

    Raises
    ------
    ImportError
        When a plugin module cannot be imported.
    """
    import cv2

    cv2.setNumThreads(1)
    os.environ.setdefault(THREADS_ENV, "1")
    for module in plugins:
        importlib.import_module(module)


def _init_pool_worker(plugins: tuple[str, ...]) -> None:
    """A local pool's worker also exits when the caller dies (:func:`docbin.shutdown.exit_with_parent`) and
    leaves Ctrl-C to the caller, which abandons the jobs in flight by killing its workers."""
    exit_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    init_worker(plugins)


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    """Kill a pool's workers now (an interrupted run abandons its jobs in flight; their outputs are
    written atomically, so none is left half-written). Python < 3.14 has no public way to do it."""
    for process in list((pool._processes or {}).values()):
        process.kill()


class ProcessPoolEngine:
    """Runs jobs in ``workers`` local processes, at most ``2 x workers`` in flight.

    Workers are fresh processes (see ``START_METHOD``), so a method registered at run time in the caller
    is unknown to them: ``plugins`` names the modules that register such methods, imported by each worker.

    A worker that dies (killed, out of memory, a crashing decoder) breaks the pool. The jobs that were in
    flight are then rerun one at a time, each in a fresh single-worker pool, so only the file that
    really kills its worker fails (with a clear message); the remaining jobs go on in a fresh pool.

    An interrupt (``KeyboardInterrupt``, or closing the iterator) kills the workers at once, and workers
    die with the caller: no worker outlives the run.

    Parameters
    ----------
    workers : int
        Worker processes.
    plugins : sequence of str, optional
        Modules each worker imports (:func:`init_worker`).
    """

    def __init__(self, workers: int, plugins: Sequence[str] = ()) -> None:
        self.workers = workers
        self.plugins = tuple(plugins)

    def _pool(self, workers: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context(START_METHOD),
            initializer=_init_pool_worker, initargs=(self.plugins,),
        )

    def run(self, fn: JobFn, jobs: Sequence[Job], task: Task) -> Iterator[JobResult]:
        """Yield ``fn(job, task)`` for every job as the workers finish them (any order).

        Jobs whose worker died are rerun alone afterwards; a job that kills its lone worker too ends
        ``failed`` with ``worker_died``.
        """
        pending = list(reversed(jobs))
        suspects: list[Job] = []
        while pending:
            yield from self._run_pool(fn, pending, task, suspects)
        for job in suspects:
            yield self._run_alone(fn, job, task)

    def _run_pool(self, fn: JobFn, pending: list[Job], task: Task, suspects: list[Job]) -> Iterator[JobResult]:
        """Run ``pending`` jobs until done or the pool breaks; jobs in flight at a break become suspects."""
        with self._pool(self.workers) as pool:
            in_flight: dict[Future[JobResult], Job] = {}
            broken = False
            try:
                while (pending or in_flight) and not broken:
                    try:
                        while pending and len(in_flight) < 2 * self.workers:
                            future = pool.submit(fn, pending[-1], task)
                            in_flight[future] = pending.pop()
                    except BrokenProcessPool:
                        broken = True
                    done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                    for future in done:
                        # ``fn`` turns every error into a result: an exception here means the pool broke.
                        if future.exception() is None:
                            yield future.result()
                            del in_flight[future]
                        else:
                            broken = True
            except BaseException:  # an interrupt, or the consumer closed this generator
                _kill_workers(pool)
                raise
            pool.shutdown(wait=True, cancel_futures=True)
        suspects.extend(in_flight.values())

    def _run_alone(self, fn: JobFn, job: Job, task: Task) -> JobResult:
        with self._pool(1) as pool:
            try:
                return pool.submit(fn, job, task).result()
            except Exception:
                remove_temps_of([job])
                return JobResult(
                    str(job.src), str(job.dst), "failed",
                    error="the worker process died while processing this file", error_code="worker_died",
                )
            except BaseException:
                _kill_workers(pool)
                raise


EngineName = Literal["local", "dask"]


def make_engine(workers: int, engine: EngineName = "local", scheduler: str | None = None) -> Engine:
    """The engine a batch runs on.

    Parameters
    ----------
    workers : int
        Processes of the local engine (1 runs in-process), or of the Dask engine's LocalCluster.
    engine : {"local", "dask"}, optional
        "dask": :mod:`docbin.dask_engine`, on the cluster at ``scheduler`` or on a LocalCluster.
    scheduler : str, optional
        Dask scheduler address ``tcp://HOST:PORT`` (the dask engine only).

    Returns
    -------
    Engine

    Raises
    ------
    ParameterError
        For another engine name, or a scheduler without the dask engine.
    """
    if engine == "dask":
        from docbin.dask_engine import DaskEngine

        return DaskEngine(scheduler, workers)
    if engine != "local":
        raise ParameterError(f"unknown engine {engine!r}; use local or dask")
    if scheduler is not None:
        raise ParameterError("a scheduler address needs the dask engine")
    return SerialEngine() if workers <= 1 else ProcessPoolEngine(workers)
