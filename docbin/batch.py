"""Batch binarization over files and folders: job planning, one job, the run and its summary.

The runner never stops on a bad file: every job ends as ``ok``, ``skipped`` or ``failed`` (with the
reason), outputs are written atomically (temp file + rename) and never over an input, and a rerun with
``skip_existing`` resumes an interrupted run. *Where* jobs run is an engine's business
(:mod:`docbin.engines` for in-process and local pools, :mod:`docbin.dask_engine` for a cluster), behind one
small protocol.

Public API
----------
run
    The whole of ``docbin binarize`` as a library call: plan, validate, run, summarise.
prepare, plan_jobs, discover, output_suffix
    Validating a run and planning its jobs (nothing written).
run_batch, run_job
    Running planned jobs on an engine (skip, interrupt, summary), and one job.
Job, Task, JobResult, RunSummary, OutputFormat, Status
    The records a run is made of.
remove_stale_temps, remove_temps_of
    Deleting the temp files of killed runs or abandoned jobs.

Over ~500 lines only through its docstrings and their examples (about 300 lines of code): one job,
kept whole."""

from __future__ import annotations

import os
import signal
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from docbin import io
from docbin.errors import DocbinError, InputPathError, OutputPathError, ParameterError
from docbin.shutdown import Interrupted

if TYPE_CHECKING:  # docbin.engines imports this module's records
    from docbin.engines import Engine, EngineName

__all__ = [
    "Job",
    "JobResult",
    "OutputFormat",
    "RunSummary",
    "Status",
    "Task",
    "discover",
    "output_suffix",
    "plan_jobs",
    "prepare",
    "remove_stale_temps",
    "remove_temps_of",
    "run",
    "run_batch",
    "run_job",
]

OutputFormat = Literal["auto", "png", "tiff", "png8"]
Status = Literal["ok", "skipped", "failed"]

_TIFF_SUFFIXES = {".tif", ".tiff"}


@dataclass(frozen=True)
class Job:
    """One input file and the output file it becomes.

    Attributes
    ----------
    src : pathlib.Path
        The input file.
    dst : pathlib.Path
        Its output file (written atomically, never over an input).
    """

    src: Path
    dst: Path


@dataclass(frozen=True)
class Task:
    """What every job of a run does, sent to the workers with each job.

    Attributes
    ----------
    method : str
        A registered method name.
    params : dict
        Its validated parameters.
    fmt : {"auto", "png", "tiff", "png8"}
        The output format (:func:`output_suffix`).
    limits : docbin.io.Limits
        What one input file may decode, read from the environment when the task is made.
    """

    method: str
    params: dict[str, Any]
    fmt: OutputFormat = "auto"
    limits: io.Limits = field(default_factory=io.Limits.from_env)


@dataclass
class JobResult:
    """What became of one job (one line of a run's JSON summary).

    Attributes
    ----------
    src, dst : str
        The input file and its output file.
    status : {"ok", "skipped", "failed"}
        The outcome.
    seconds : float
        Time the job took.
    pages : int
        Pages written.
    width, height : int
        Size of the first page.
    input_bytes, output_bytes : int
        Sizes of the input and of the written output.
    error, error_code : str or None
        Why a job failed: the message and a stable code (a :class:`~docbin.errors.DocbinError` code,
        ``"os_error"``, ``"internal_error"`` or ``"worker_died"``).
    """
    src: str
    dst: str
    status: Status
    seconds: float = 0.0
    pages: int = 0
    width: int = 0
    height: int = 0
    input_bytes: int = 0
    output_bytes: int = 0
    error: str | None = None
    error_code: str | None = None


@dataclass
class RunSummary:
    """A run's results and totals (``docbin binarize --json`` prints :meth:`to_json`).

    Attributes
    ----------
    method : str
        The method run.
    params : dict
        Its validated parameters.
    results : list of JobResult
        One per finished or skipped job, in the order they finished.
    seconds : float
        Wall time of the run.
    interrupted : str or None
        The signal (``"SIGINT"``, ``"SIGTERM"``) that stopped the run early.
    unfinished : int
        Jobs an interrupt left without a result (their outputs are not written).
    """
    method: str
    params: dict[str, Any]
    results: list[JobResult] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: str | None = None  # the signal ("SIGINT", "SIGTERM") that stopped the run early
    unfinished: int = 0  # jobs an interrupt left without a result (their outputs are not written)

    def count(self, status: Status) -> int:
        """Number of results with ``status``."""
        return sum(r.status == status for r in self.results)

    @property
    def pages(self) -> int:
        """Pages written by the jobs that succeeded."""
        return sum(r.pages for r in self.results if r.status == "ok")

    def to_json(self) -> dict[str, Any]:
        """The summary as JSON-ready data: totals per status, pages, interrupt and every result."""
        return {
            "method": self.method,
            "params": self.params,
            "seconds": round(self.seconds, 3),
            "files": len(self.results),
            "ok": self.count("ok"),
            "skipped": self.count("skipped"),
            "failed": self.count("failed"),
            "pages": self.pages,
            "interrupted": self.interrupted,
            "unfinished": self.unfinished,
            "results": [asdict(r) for r in self.results],
        }


# ---------------------------------------------------------------------------------------------------
# Planning
# ---------------------------------------------------------------------------------------------------


def output_suffix(src: Path, fmt: OutputFormat) -> str:
    """Output suffix: TIFF inputs stay TIFF under "auto" (multi-page kept), everything else becomes PNG.

    Parameters
    ----------
    src : pathlib.Path
        The input file.
    fmt : {"auto", "png", "tiff", "png8"}
        The run's output format.

    Returns
    -------
    str
        ``".tif"`` for "tiff", or for "auto" with a ``.tif``/``.tiff`` input (any case); else ``".png"``.

    Examples
    --------
    >>> from pathlib import Path
    >>> output_suffix(Path("scan.TIFF"), "auto"), output_suffix(Path("scan.jpg"), "auto")
    ('.tif', '.png')
    >>> output_suffix(Path("scan.tif"), "png8")
    '.png'
    """
    if fmt == "tiff" or (fmt == "auto" and src.suffix.lower() in _TIFF_SUFFIXES):
        return ".tif"
    return ".png"


def discover(inputs: Sequence[Path], recursive: bool, exclude: Path | None = None) -> list[tuple[Path, Path]]:
    """Expand ``inputs`` into ``(file, path relative to its input root)`` pairs.

    Named files are taken whatever their suffix; folders contribute files with a supported image suffix
    (hidden files and folders skipped), in sorted order, their subfolders only with ``recursive``.

    Parameters
    ----------
    inputs : sequence of pathlib.Path
        Files and folders.
    recursive : bool
        Descend into subfolders.
    exclude : pathlib.Path, optional
        A folder (the output folder) whose files are never inputs: a ``UserWarning`` says how many were left
        out.

    Returns
    -------
    list of (pathlib.Path, pathlib.Path)
        Each file and its path relative to its input root (a named file: its name).

    Raises
    ------
    InputPathError
        For an input that is neither a file nor a folder.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     root = Path(folder)
    ...     (root / "sub").mkdir()
    ...     for name in ("a.png", "notes.txt", ".hidden.png", "sub/b.tif"):
    ...         (root / name).touch()
    ...     [str(rel) for _, rel in discover([root], recursive=True)]
    ['a.png', 'sub/b.tif']
    """
    found: list[tuple[Path, Path]] = []
    excluded = 0
    for root in inputs:
        if root.is_file():
            found.append((root, Path(root.name)))
            continue
        if not root.is_dir():
            raise InputPathError(f"input not found: {root}")
        pattern = root.rglob("*") if recursive else root.glob("*")
        for path in sorted(pattern):
            rel = path.relative_to(root)
            if (
                path.is_file()
                and path.suffix.lower() in io.SUPPORTED_SUFFIXES
                and not any(part.startswith(".") for part in rel.parts)
            ):
                if exclude is not None and path.resolve().is_relative_to(exclude.resolve()):
                    excluded += 1
                else:
                    found.append((path, rel))
    if excluded:
        warnings.warn(f"{excluded} image(s) under the output folder {exclude} skipped: outputs are never inputs",
                      stacklevel=2)
    return found


def plan_jobs(inputs: Sequence[Path], outdir: Path, fmt: OutputFormat, recursive: bool) -> list[Job]:
    """Jobs mirroring each input folder's structure under ``outdir``.

    Parameters
    ----------
    inputs : sequence of Path
        Files and folders (see :func:`discover`).
    outdir : Path
        Output folder (need not exist).
    fmt : {"auto", "png", "tiff", "png8"}
        Output format, which sets each output's suffix (:func:`output_suffix`).
    recursive : bool
        Descend into subfolders.

    Returns
    -------
    list of Job
        One per input file, its output at the file's path relative to its input root under ``outdir``.

    Raises
    ------
    InputPathError
        For an input that does not exist.
    OutputPathError
        When ``outdir`` is a file or an input folder, two inputs would write the same output or an output
        would replace an input.
    """
    if outdir.exists() and not outdir.is_dir():
        raise OutputPathError(f"the output folder {outdir} is a file; choose a folder for -o")
    if any(root.is_dir() and root.resolve() == outdir.resolve() for root in inputs):
        raise OutputPathError(f"the output folder {outdir} is also an input folder; choose another -o")
    pairs = discover(inputs, recursive, exclude=outdir)
    jobs = [Job(src, outdir / rel.with_suffix(output_suffix(src, fmt))) for src, rel in pairs]
    seen: dict[Path, Path] = {}
    clashes = []
    for job in jobs:
        key = job.dst.resolve()
        if key in seen:
            clashes.append(f"{seen[key]} and {job.src} -> {job.dst}")
        seen[key] = job.src
    if clashes:
        raise OutputPathError("several inputs map to one output: " + "; ".join(clashes))
    sources = {job.src.resolve() for job in jobs}
    overwrites = [str(job.dst) for job in jobs if job.dst.resolve() in sources]
    if overwrites:
        raise OutputPathError(f"outputs would overwrite inputs: {', '.join(overwrites)}; choose another -o")
    return jobs


def remove_stale_temps(outdir: Path) -> int:
    """Delete the temp files a killed run left under ``outdir`` (only docbin's own hidden ``*.docbin-tmp``).

    Parameters
    ----------
    outdir : pathlib.Path
        The output folder, searched recursively (nothing happens when it is not a folder).

    Returns
    -------
    int
        The number of files deleted.
    """
    stale = list(outdir.rglob(f".*{io.TEMP_SUFFIX}")) if outdir.is_dir() else []
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


def remove_temps_of(jobs: Iterable[Job]) -> None:
    """Delete the temp files beside the outputs of ``jobs`` (one folder listing per output folder).

    Parameters
    ----------
    jobs : iterable of Job
        Jobs whose ``.NAME.*.docbin-tmp`` temp files go.
    """
    outputs: dict[Path, set[str]] = {}
    for job in jobs:
        outputs.setdefault(job.dst.parent, set()).add(job.dst.name)
    for folder, names in outputs.items():
        for temp in folder.glob(f".*{io.TEMP_SUFFIX}"):
            if temp.name[1 : -len(io.TEMP_SUFFIX)].rsplit(".", 1)[0] in names:
                temp.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------------
# One job
# ---------------------------------------------------------------------------------------------------


def run_job(job: Job, task: Task) -> JobResult:
    """Binarize ``job.src`` page by page into ``job.dst`` (written atomically); failures become results.

    The file's pages are checked against ``task.limits`` from their headers first, then each page is
    decoded, binarized and appended to the output before the next is decoded. A ``.tif`` output is a
    multi-page TIFF; otherwise PNG (8-bit with ``task.fmt == "png8"``), which holds one page.

    Parameters
    ----------
    job : Job
        The input file and its output.
    task : Task
        The method, its validated parameters, the format and the decoding limits.

    Returns
    -------
    JobResult
        ``ok`` with pages, size and bytes; or ``failed`` with the message (without the file name) and code:
        the :class:`~docbin.errors.DocbinError` code, ``"os_error"`` or ``"internal_error"``. Nothing is
        raised for a bad file.
    """
    from docbin import registry

    start = time.perf_counter()
    result = JobResult(str(job.src), str(job.dst), "failed")
    try:
        result.input_bytes = job.src.stat().st_size
        with io.open_scan(job.src, task.limits) as scan:
            fmt = "tiff" if job.dst.suffix == ".tif" else ("png8" if task.fmt == "png8" else "png")
            if fmt != "tiff" and len(scan.sizes) > 1:
                raise ParameterError(f"{len(scan.sizes)} pages and PNG holds one: use --format tiff (or auto)")
            method = registry.get(task.method)
            pages = iter(scan)
            first = next(pages)
            result.height, result.width = first.pixels.shape[:2]
            binary = (method(page.pixels, **task.params) for page in chain([first], pages))
            job.dst.parent.mkdir(parents=True, exist_ok=True)
            result.pages = io.write_binary(job.dst, binary, fmt, first.dpi)
        result.status = "ok"
        result.output_bytes = job.dst.stat().st_size
    except DocbinError as exc:
        result.error, result.error_code = _without_name(exc.message, job.src), exc.code
    except OSError as exc:
        result.error, result.error_code = f"{exc.strerror or exc}: {exc.filename or job.src}", "os_error"
    except Exception as exc:  # one bad file never stops the run
        result.error, result.error_code = f"internal error: {type(exc).__name__}: {exc}", "internal_error"
    result.seconds = time.perf_counter() - start
    return result


def _without_name(message: str, src: Path) -> str:
    """``message`` without the leading file name docbin.io's errors carry (a result names its file)."""
    prefix = f"{src}: "
    return message[len(prefix):] if message.startswith(prefix) else message


def run_batch(
    jobs: Sequence[Job],
    task: Task,
    engine: Engine,
    skip_existing: bool = False,
    on_result: Callable[[JobResult], None] | None = None,
) -> RunSummary:
    """Run ``jobs`` on ``engine``, calling ``on_result`` as each finishes.

    An interrupt (Ctrl-C's ``KeyboardInterrupt``, or SIGTERM under :func:`docbin.shutdown.interrupt_on`)
    stops the run: no further job starts, the jobs in flight are abandoned (their temp files removed, no
    output half-written) and the summary, with ``interrupted`` set, holds what finished.

    Temp files of the jobs are removed once the run's workers have stopped (a worker that died mid-write
    leaves one before its file is retried), never while a job may still be writing: a write in progress, of
    this run or of a worker a lost Dask scheduler left running, keeps its temp file until it replaces its output.

    Parameters
    ----------
    jobs : sequence of Job
        Planned jobs (:func:`plan_jobs`).
    task : Task
        What every job does.
    engine : Engine
        Where the jobs run (:func:`docbin.engines.make_engine`).
    skip_existing : bool, optional
        Skip a job whose output exists, so a rerun resumes an interrupted one (skipped results come first).
    on_result : callable, optional
        Called with each :class:`JobResult` as it arrives (progress bars, logs).

    Returns
    -------
    RunSummary
        Every result, the wall time, and the interrupt and unfinished count when stopped early.
    """
    start = time.perf_counter()
    summary = RunSummary(task.method, task.params)
    skip = {job for job in jobs if skip_existing and job.dst.exists()}
    todo = [job for job in jobs if job not in skip]
    skipped = [JobResult(str(job.src), str(job.dst), "skipped") for job in jobs if job in skip]
    results = engine.run(run_job, todo, task)
    try:
        for result in chain(skipped, results):
            summary.results.append(result)
            if on_result is not None:
                on_result(result)
    except KeyboardInterrupt as exc:
        getattr(results, "close", lambda: None)()  # an engine's generator stops its workers
        summary.interrupted = signal.Signals(exc.signum).name if isinstance(exc, Interrupted) else "SIGINT"
        finished = {result.src for result in summary.results}
        abandoned = [job for job in todo if str(job.src) not in finished]
        summary.unfinished = len(abandoned)
    remove_temps_of(todo)
    summary.seconds = time.perf_counter() - start
    return summary


def prepare(
    inputs: Sequence[Path],
    outdir: Path,
    method: str,
    params: dict[str, Any] | None = None,
    fmt: OutputFormat = "auto",
    recursive: bool = False,
    skip_existing: bool = False,
    overwrite: bool = False,
    limits: io.Limits | None = None,
) -> tuple[list[Job], Task]:
    """Validate a run and plan its jobs; nothing is written.

    Parameters
    ----------
    inputs, outdir, fmt, recursive
        As in :func:`plan_jobs`.
    method : str
        A registered method name.
    params : dict, optional
        The method's parameters, validated by the registry.
    skip_existing, overwrite : bool, optional
        What to do with outputs that exist (at most one of them); without either, existing outputs are an
        error.
    limits : io.Limits, optional
        Decoding limits; default :meth:`docbin.io.Limits.from_env`.

    Returns
    -------
    jobs : list of Job
    task : Task
        The validated method, parameters, format and limits every job runs with.

    Raises
    ------
    UnknownMethodError, MethodUnavailableError
        For a method that is not registered or cannot run here.
    ParameterError
        For a bad parameter, or ``skip_existing`` with ``overwrite``.
    InputPathError
        For a missing input, or when no input image is found.
    OutputPathError
        For clashing outputs or, without ``skip_existing`` / ``overwrite``, existing ones.
    """
    from docbin import registry

    if skip_existing and overwrite:
        raise ParameterError("--skip-existing and --overwrite exclude each other")
    task = Task(method, registry.get(method).validate(params or {}), fmt, limits or io.Limits.from_env())
    jobs = plan_jobs(inputs, outdir, fmt, recursive)
    if not jobs:
        raise InputPathError("no input images found" + ("" if recursive else " (folders: try --recursive)"))
    existing = [job.dst for job in jobs if job.dst.exists()]
    if existing and not (skip_existing or overwrite):
        raise OutputPathError(
            f"{len(existing)} output(s) already exist (e.g. {existing[0]}): "
            "pass --skip-existing to resume or --overwrite to replace them"
        )
    return jobs, task


def run(
    inputs: Sequence[str | os.PathLike[str]],
    outdir: str | os.PathLike[str],
    method: str = "sauvola",
    params: dict[str, Any] | None = None,
    engine: EngineName = "local",
    scheduler: str | None = None,
    workers: int | None = None,
    fmt: OutputFormat = "auto",
    recursive: bool = False,
    skip_existing: bool = False,
    overwrite: bool = False,
    on_result: Callable[[JobResult], None] | None = None,
) -> RunSummary:
    """Binarize files and folders into ``outdir`` as ``docbin binarize`` does and return the run summary.

    Plans and validates the run (:func:`prepare`), deletes temp files a killed run left in ``outdir``, then
    runs the jobs (:func:`run_batch`) on at most one worker per job.

    Parameters
    ----------
    inputs : sequence of str or path-like
        Files and folders.
    outdir : str or path-like
        Output folder; each input folder's structure is mirrored under it.
    method : str, optional
        A registered method name.
    params : dict, optional
        The method's parameters.
    engine : {"local", "dask"}, optional
        "local": ``workers`` local processes (one runs in-process); "dask": the Dask cluster at
        ``scheduler`` (``tcp://host:port``) or a LocalCluster of ``workers``.
    scheduler : str, optional
        Dask scheduler address (the dask engine only).
    workers : int, optional
        Worker processes (default: one per core).
    fmt, recursive, skip_existing, overwrite
        As in :func:`prepare`.
    on_result : callable, optional
        Called with each :class:`JobResult` as it arrives.

    Returns
    -------
    RunSummary
        The run's results (failed files included: a bad file never stops the run).

    Raises
    ------
    DocbinError
        Validation errors as in :func:`prepare`; :class:`~docbin.errors.ParameterError` for a bad engine or
        scheduler (:func:`docbin.engines.make_engine`); ``docbin.errors.ClusterError`` for a lost cluster.
    """
    from docbin.engines import make_engine

    jobs, task = prepare([Path(p) for p in inputs], Path(outdir), method, params, fmt, recursive,
                         skip_existing, overwrite)
    remove_stale_temps(Path(outdir))
    chosen = make_engine(min(workers or os.cpu_count() or 1, len(jobs)), engine, scheduler)
    return run_batch(jobs, task, chosen, skip_existing=skip_existing, on_result=on_result)
