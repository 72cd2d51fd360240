"""Batch jobs on a Dask cluster: :class:`DaskEngine`, ``docbin binarize --engine dask``.

The same :class:`docbin.engines.Engine` as the local engines, so planning, resume, atomic writes and the
report are shared. What is Dask's own:

- Jobs travel as *chunks of paths* sized by pixels (read from headers, :func:`docbin.io.pixel_count`),
  at most ``2 x`` the cluster's worker threads of them in flight, so a million files never become a
  million futures, and pixels never pass through the scheduler: workers read the inputs and write the
  outputs on a filesystem they share with the caller (paths are sent absolute).
- A worker that dies loses nothing: the scheduler reruns its chunks elsewhere (every output is written
  atomically, so a rerun chunk just writes its files again). A chunk the scheduler gives up on
  (``KilledWorker``: its workers died ``allowed-failures + 1`` times) is split into single files that run
  one at a time after the rest, so the file that kills its worker is the only one in flight when it does
  and is reported failed (``worker_died``); the files beside it succeed.
- The scheduler going away ends the run with :class:`~docbin.errors.ClusterError`; every output already
  visible is complete, so a rerun with ``--skip-existing`` resumes.

Dask is imported only when this engine is used (``pip install 'docbin[dask]'``).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from types import ModuleType
from typing import Any

from docbin import io
from docbin.batch import Job, JobResult, Task, remove_temps_of
from docbin.engines import JobFn, init_worker
from docbin.errors import ClusterError, DocbinError

CHUNK_PIXELS = 6_000_000  # pixels per task: 2-3 DIBCO pages; Dask costs ~10 ms a task, the tail up to a chunk
CHUNK_FILES = 64  # files per task at most (tiny files)
ALLOWED_FAILURES = 1  # LocalCluster: a task whose worker died twice raises KilledWorker


def _distributed() -> ModuleType:
    try:
        import distributed
    except ImportError:
        raise DocbinError("the dask engine needs Dask distributed: pip install 'docbin[dask]'") from None
    return distributed


def chunk_jobs(
    jobs: Sequence[Job], max_pixels: int = CHUNK_PIXELS, max_files: int = CHUNK_FILES
) -> Iterator[list[Job]]:
    """Consecutive runs of ``jobs`` small enough for one Dask task each.

    A chunk holds at most ``max_pixels`` first-page pixels (read from the headers) and ``max_files`` files;
    a lone larger file is a chunk of its own. Lazy, so the first chunks start while later headers are still
    being read. A file whose header cannot be read counts 0 pixels (its worker reports why).

    Parameters
    ----------
    jobs : sequence of Job
        The jobs, in order.
    max_pixels : int, optional
        Most first-page pixels per chunk.
    max_files : int, optional
        Most files per chunk.

    Yields
    ------
    list of Job
        The next chunk, jobs in their order.

    Examples
    --------
    >>> from pathlib import Path
    >>> jobs = [Job(Path(f"missing{i}.png"), Path(f"out/missing{i}.png")) for i in range(5)]
    >>> [len(chunk) for chunk in chunk_jobs(jobs, max_files=2)]  # unreadable headers count 0 pixels
    [2, 2, 1]
    """
    chunk: list[Job] = []
    pixels = 0
    for job in jobs:
        try:
            size = io.pixel_count(job.src)
        except (DocbinError, OSError):
            size = 0
        if chunk and (pixels + size > max_pixels or len(chunk) == max_files):
            yield chunk
            chunk, pixels = [], 0
        chunk.append(job)
        pixels += size
    if chunk:
        yield chunk


def run_chunk(fn: JobFn, jobs: list[Job], task: Task, plugins: tuple[str, ...]) -> list[JobResult]:
    """Run a chunk of jobs on a Dask worker, set up as a local pool worker first.

    The process gets one thread for OpenCV and docbin's pools and imports the plugin modules
    (:func:`docbin.engines.init_worker`).

    Parameters
    ----------
    fn : JobFn
        The job function (:func:`docbin.batch.run_job`).
    jobs : list of Job
        The chunk, with absolute paths.
    task : Task
        What every job does.
    plugins : tuple of str
        Modules that register extra methods.

    Returns
    -------
    list of JobResult
        One per job, in order.
    """
    init_worker(plugins)
    return [fn(job, task) for job in jobs]


def _worker_died(job: Job) -> JobResult:
    remove_temps_of([job])  # outputs are written page by page: the dying attempt may have begun one
    return JobResult(
        str(job.src), str(job.dst), "failed", error_code="worker_died",
        error="its Dask worker died each time this file ran alone (the scheduler's allowed-failures + 1 times)",
    )


def local_cluster(workers: int) -> Any:
    """A ``LocalCluster`` of single-threaded worker processes on 127.0.0.1.

    No dashboard (the scheduler's HTTP endpoint on a free port); the scheduler gives up on a task after
    ``ALLOWED_FAILURES + 1`` worker deaths. The workers run without Dask's statistical profiler and without
    the ``MALLOC_TRIM_THRESHOLD_=65536`` its nannies set by default: that setting also switches off glibc's
    adaptive mmap threshold, so every page-sized temporary array is mapped and faulted in afresh (run_job
    15-55% slower, measured here).

    Parameters
    ----------
    workers : int
        Worker processes, one thread each.

    Returns
    -------
    distributed.LocalCluster
        The started cluster (a context manager that closes it).

    Raises
    ------
    DocbinError
        When Dask distributed is not installed (``pip install 'docbin[dask]'``).
    """
    import dask

    dd = _distributed()  # imported first: its defaults must be in the config that set() restores on exit
    with dask.config.set({  # the nannies pass these on to their workers
        "distributed.worker.profile.enabled": False,
        "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    }):
        return dd.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
            scheduler_kwargs={"allowed_failures": ALLOWED_FAILURES, "dashboard_address": "127.0.0.1:0"},
        )


class DaskEngine:
    """Runs jobs on a Dask cluster: the one at ``scheduler`` or, without one, a local one.

    Parameters
    ----------
    scheduler : str, optional
        Scheduler address ``tcp://host:port``; None: a :func:`local_cluster` started for each run.
    workers : int, optional
        Single-threaded processes of the local cluster (default: one per core).
    plugins : sequence of str, optional
        Modules that register extra methods, imported by each worker (as for
        :class:`docbin.engines.ProcessPoolEngine`).
    chunk_pixels, chunk_files : int, optional
        Size of the tasks (:func:`chunk_jobs`).
    connect_timeout : float, optional
        Seconds to wait for the scheduler.

    Raises
    ------
    DocbinError
        When Dask distributed is not installed (``pip install 'docbin[dask]'``).
    """

    def __init__(
        self,
        scheduler: str | None = None,
        workers: int | None = None,
        plugins: Sequence[str] = (),
        chunk_pixels: int = CHUNK_PIXELS,
        chunk_files: int = CHUNK_FILES,
        connect_timeout: float = 10.0,
    ) -> None:
        _distributed()  # a missing extra is reported before any work starts
        self.scheduler = scheduler
        self.workers = workers or os.cpu_count() or 1
        self.plugins = tuple(plugins)
        self.chunk_pixels = chunk_pixels
        self.chunk_files = chunk_files
        self.connect_timeout = connect_timeout

    @contextmanager
    def client(self) -> Iterator[Any]:
        """A client of the named scheduler, or of a fresh LocalCluster closed on exit.

        Raises :class:`~docbin.errors.ClusterError` when the scheduler cannot be reached within
        ``connect_timeout`` seconds.
        """
        dd = _distributed()
        if self.scheduler is None:
            with local_cluster(self.workers) as cluster, dd.Client(cluster, set_as_default=False) as client:
                yield client
            return
        try:
            client = dd.Client(self.scheduler, timeout=self.connect_timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {self.scheduler}: {exc}") from None
        with client:
            yield client

    def run(self, fn: JobFn, jobs: Sequence[Job], task: Task) -> Iterator[JobResult]:
        """Run ``fn(job, task)`` for every job on the cluster, yielding results as chunks complete.

        Jobs go in chunks (:func:`chunk_jobs`), about twice the cluster's threads in flight; the jobs of a
        chunk whose worker died are rerun one per task, and a file that kills its worker each time fails
        with ``worker_died``. Nothing starts for no jobs. Raises :class:`~docbin.errors.ClusterError` when
        the scheduler is lost.
        """
        if not jobs:  # e.g. a resumed run with everything done: no cluster to start
            return
        with self.client() as client:
            suspects: list[Job] = []
            yield from self._run_chunks(client, fn, jobs, task, suspects)
            for job in suspects:
                yield self._run_alone(client, fn, job, task)

    def _submit(self, client: Any, fn: JobFn, chunk: list[Job], task: Task) -> Any:
        remote = [Job(job.src.absolute(), job.dst.absolute()) for job in chunk]
        key = f"docbin-chunk-{uuid.uuid4().hex}"
        return client.submit(run_chunk, fn, remote, task, self.plugins, key=key, pure=False)

    def _results(self, future: Any, chunk: list[Job]) -> list[JobResult]:
        """The chunk's results under the caller's own paths; raises ``KilledWorker`` as the future does,
        :class:`ClusterError` when the scheduler went away."""
        dd = _distributed()
        try:
            results = future.result()
        except dd.CancelledError:
            raise ClusterError(
                f"lost the connection to the Dask scheduler {self.scheduler or '(local cluster)'}: every "
                "output written so far is complete; rerun with --skip-existing to resume"
            ) from None
        except dd.KilledWorker:
            raise
        except Exception as exc:  # e.g. docbin or a plugin missing on a worker: these files fail, the run goes on
            message = f"the cluster could not run this file: {type(exc).__name__}: {exc}"
            return [
                JobResult(str(j.src), str(j.dst), "failed", error=message, error_code="engine_error") for j in chunk
            ]
        return [replace(r, src=str(j.src), dst=str(j.dst)) for j, r in zip(chunk, results, strict=True)]

    def _run_chunks(
        self, client: Any, fn: JobFn, jobs: Sequence[Job], task: Task, suspects: list[Job]
    ) -> Iterator[JobResult]:
        """Keep a sliding window of chunks in flight; chunks lost to ``KilledWorker`` become suspects."""
        dd = _distributed()
        chunks = chunk_jobs(jobs, self.chunk_pixels, self.chunk_files)
        in_flight: dict[Any, list[Job]] = {}
        completed = dd.as_completed(loop=client.loop)
        slots = _Slots(client)

        def refill() -> None:
            while len(in_flight) < slots.window() and (chunk := next(chunks, None)) is not None:
                future = self._submit(client, fn, chunk, task)
                in_flight[future] = chunk
                completed.add(future)

        refill()
        for future in completed:
            chunk = in_flight.pop(future)
            try:
                yield from self._results(future, chunk)
            except dd.KilledWorker:
                suspects.extend(chunk)
            refill()

    def _run_alone(self, client: Any, fn: JobFn, job: Job, task: Task) -> JobResult:
        dd = _distributed()
        try:
            return self._results(self._submit(client, fn, [job], task), [job])[0]
        except dd.KilledWorker:
            return _worker_died(job)


class _Slots:
    """How many chunks to keep in flight: twice the cluster's worker threads (at least 4), re-read from
    the scheduler every few seconds so workers that join or leave are counted."""

    def __init__(self, client: Any, refresh_s: float = 5.0) -> None:
        self.client = client
        self.refresh_s = refresh_s
        self.checked = -float("inf")
        self.size = 4

    def window(self) -> int:
        if time.monotonic() - self.checked > self.refresh_s:
            try:
                self.size = max(4, 2 * sum(self.client.nthreads().values()))
            except OSError:  # the scheduler went away: the futures in flight say so
                pass
            self.checked = time.monotonic()
        return self.size
