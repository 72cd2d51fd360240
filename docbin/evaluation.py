"""Score binarized pages against their ground truth with the DIBCO metrics: one page given as arrays
(:func:`evaluate_page`) or a folder of predictions against a GT folder or dataset (:func:`evaluate_folder`,
pages scored in parallel processes). Both return an :class:`Evaluation`: per-page metric rows and the set
means, strict-JSON ready. ``docbin evaluate`` is a thin layer over this module; the metrics themselves are in
:mod:`docbin.metrics`.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from docbin import io
from docbin.datasets.dibco import load_pairs
from docbin.datasets.pairs import pair_predictions
from docbin.errors import DatasetError, DocbinError, ParameterError
from docbin.metrics import evaluate, mean_scores, read_weights_dat
from docbin.preprocess import to_gray
from docbin.report import ReportPage

__all__ = ["COLUMNS", "Evaluation", "PfmVariant", "evaluate_folder", "evaluate_page"]

PfmVariant = Literal["2013", "2010"]
Weights = tuple[np.ndarray, np.ndarray]  # pseudo-FM recall and precision weight maps

COLUMNS = ("fm", "pseudo_fm", "psnr", "drd", "recall", "precision", "nrm", "mcc", "mpm", "avg_score")


@dataclass(frozen=True)
class Evaluation:
    """Per-page metrics in input order (each row: ``name`` and :func:`docbin.metrics.evaluate`'s result),
    the set means of the metric columns (see :func:`docbin.metrics.mean_scores`) and, when asked, one
    report row per page for :func:`docbin.report.render_report`."""

    rows: list[dict[str, Any]]
    means: dict[str, float | None]
    columns: tuple[str, ...]
    report_pages: list[ReportPage] = field(default_factory=list)

    @classmethod
    def of(cls, rows: list[dict[str, Any]], report_pages: Sequence[ReportPage] = ()) -> Evaluation:
        columns = tuple(c for c in COLUMNS if all(c in r for r in rows))
        return cls(rows, mean_scores(rows, columns), columns, list(report_pages))

    def pages_where(self, flag: str) -> list[str]:
        """Names of the pages whose row sets ``flag`` (e.g. ``gt_empty``, ``drd_undefined``)."""
        return [r["name"] for r in self.rows if r.get(flag)]

    def to_json(self) -> dict[str, Any]:
        """``{"images": rows, "means": means}``: only finite numbers, ``None`` and flags."""
        return {"images": self.rows, "means": self.means}

    def json_text(self) -> str:
        """:meth:`to_json` as strict JSON (``Infinity``/``NaN`` refused rather than written)."""
        return json.dumps(self.to_json(), indent=2, allow_nan=False)


def evaluate_page(
    pred: np.ndarray,
    gt: np.ndarray,
    *,
    name: str = "page",
    pfm: PfmVariant = "2013",
    weights: Weights | None = None,
    report: bool = False,
    scan: np.ndarray | None = None,
) -> Evaluation:
    """One page's DIBCO metrics (ink = 0 in both images).

    Parameters
    ----------
    pred, gt : ndarray
        Binarized page and its ground truth, same height and width (gray or colour; ink 0, background 255).
    name : str
        The page's name in the row and in error messages.
    pfm : {"2013", "2010"}
        Pseudo-FM variant: weighted (DIBCO 2013+) or skeleton recall (H-DIBCO 2010/2012).
    weights : (ndarray, ndarray), optional
        Official recall/precision weight maps for the 2013 pseudo-FM; default: generated from ``gt``.
    report : bool
        Also make the page's HTML report row, with ``scan`` (the original image) when given.

    Returns
    -------
    Evaluation
        One row; its means are that page's values (an infinite PSNR as its cap).

    Raises
    ------
    DocbinError
        ``ShapeMismatchError`` when the sizes differ, ``ParameterError`` for an unknown ``pfm``; the message
        starts with ``name``.

    Examples
    --------
    >>> gt = np.full((32, 32), 255, np.uint8)
    >>> gt[8:24, 8:12] = 0
    >>> result = evaluate_page(gt, gt)
    >>> result.rows[0]["fm"], result.rows[0]["psnr"], result.means["psnr"]
    (100.0, None, 100.0)
    """
    _check_pfm(pfm)
    try:
        row, page = _score(name, pred, gt, weights, pfm, report, scan)
    except DocbinError as exc:
        raise type(exc)(f"{name}: {exc.message}") from None
    return Evaluation.of([row], [page] if page is not None else [])


def evaluate_folder(
    pred_dir: Path,
    gt_dir: Path,
    *,
    weights_dir: Path | None = None,
    pfm: PfmVariant = "2013",
    layout: str = "auto",
    workers: int = 0,
    report: bool = False,
    before_scoring: Callable[[], None] | None = None,
) -> Evaluation:
    """Every page of ``pred_dir`` scored against its GT, paired by page name
    (:func:`docbin.datasets.pairs.pair_predictions`).

    Parameters
    ----------
    pred_dir : Path
        Binarized pages (ink black), named like the GT pages.
    gt_dir : Path
        A GT folder or a dataset holding one, in ``layout`` (see :mod:`docbin.datasets.dibco`).
    weights_dir : Path, optional
        Official BinEvalWeights ``<name>_RWeights.dat`` / ``_PWeights.dat`` (or ``.dat.gz``) for the 2013
        pseudo-FM; default: weights generated from each GT.
    pfm : {"2013", "2010"}
        Pseudo-FM variant (see :func:`evaluate_page`).
    layout : str
        ``gt_dir``'s layout: auto, dibco (or a year), generic or dkds.
    workers : int
        Pages scored at a time in separate processes (0: one per core; 1: in this process).
    report : bool
        Also make each page's HTML report row (with the dataset's scan when it has one).
    before_scoring : callable, optional
        Called once the pages are paired, before any is scored (the CLI compiles the kernels there).

    Returns
    -------
    Evaluation
        Rows in page-name order and the set means.

    Raises
    ------
    DocbinError
        Unpaired pages or an unknown layout (``DatasetError``), a page that cannot be read or scored (its
        name first in the message), an unknown ``pfm`` (``ParameterError``).
    """
    _check_pfm(pfm)
    pairs = pair_predictions(pred_dir, gt_dir, layout)
    scans = _scans(gt_dir, layout) if report else {}
    jobs = [PageJob(name, pred, gt, weights_dir, pfm, report, scans.get(name)) for name, pred, gt in pairs]
    if before_scoring is not None:
        before_scoring()
    scored = _score_all(jobs, workers or os.cpu_count() or 1)
    return Evaluation.of([row for row, _ in scored], [page for _, page in scored if page is not None])


@dataclass(frozen=True)
class PageJob:
    """One page to score from files: its prediction and GT, where the official weights are (None: generated),
    the pseudo-FM variant, and whether to make its report row (with the scan when there is one)."""

    name: str
    prediction: Path
    gt: Path
    weights_dir: Path | None
    pfm: PfmVariant
    report: bool = False
    scan: Path | None = None


def _check_pfm(pfm: str) -> None:
    if pfm not in ("2013", "2010"):
        raise ParameterError(f"the pseudo-FM variant must be 2013 or 2010, not {pfm!r}")


def _scans(gt_dir: Path, layout: str) -> dict[str, Path]:
    """Each page's scan when ``gt_dir`` is a dataset with scans; a plain GT folder has none (the report then
    shows prediction and errors only)."""
    try:
        return {pair.name: pair.image for pair in load_pairs(gt_dir, layout)}
    except DocbinError:
        return {}


def _score(
    name: str, pred: np.ndarray, gt: np.ndarray, weights: Weights | None, pfm: PfmVariant, report: bool,
    scan: np.ndarray | None,
) -> tuple[dict[str, Any], ReportPage | None]:
    """A page's row (weights given or generated) and, when asked, its report row from the same images. The
    metrics' warnings (a page that is not binary) go into the row's ``warnings``, for the caller to show
    once with the page's name, instead of a worker process printing them."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        row = {"name": name, **evaluate(pred, gt, *(weights or (None, None)), pfm=pfm)}
    row["warnings"] = "; ".join(str(w.message) for w in caught)
    return row, ReportPage.of(name, row, to_gray(pred), to_gray(gt), scan) if report else None


def _score_job(job: PageJob) -> tuple[dict[str, Any], ReportPage | None]:
    """:func:`_score` of a page read from files (its official weights too, when a folder of them is given);
    errors name the page."""
    try:
        gt, pred = io.read_image(job.gt), io.read_image(job.prediction)
        weights = None
        if job.weights_dir is not None and job.pfm == "2013":
            weights = _read_weights(job.weights_dir, job.gt.stem, gt.shape[:2])
        scan = io.read_image(job.scan) if job.report and job.scan is not None else None
        return _score(job.name, pred, gt, weights, job.pfm, job.report, scan)
    except DocbinError as exc:
        raise type(exc)(f"{job.name}: {exc.message}") from None


def _read_weights(folder: Path, stem: str, shape: tuple[int, int]) -> Weights:
    """The official recall and precision weight maps of GT ``stem`` from ``folder``."""
    maps = []
    for kind in ("R", "P"):
        found = [path for path in (folder / f"{stem}_{kind}Weights.dat", folder / f"{stem}_{kind}Weights.dat.gz")
                 if path.exists()]
        if not found:
            raise DatasetError(f"no {stem}_{kind}Weights.dat(.gz) in {folder}")
        maps.append(read_weights_dat(found[0], shape))  # DatasetError for a file of the wrong size
    return maps[0], maps[1]


def _pixels(path: Path) -> int:
    """A page's pixel count from its image header (0 when the header cannot be read: scoring says why)."""
    try:
        return io.pixel_count(path)
    except (DocbinError, OSError):
        return 0


def _score_all(jobs: list[PageJob], workers: int) -> list[tuple[dict[str, Any], ReportPage | None]]:
    """Every page's row (and report row) in input order, ``workers`` pages at a time in separate processes,
    the largest pages first (so no large page is left to run alone at the end)."""
    if workers <= 1 or len(jobs) <= 1:
        return [_score_job(job) for job in jobs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from docbin.engines import START_METHOD

    order = sorted(range(len(jobs)), key=lambda i: -_pixels(jobs[i].gt))
    context = multiprocessing.get_context(START_METHOD)  # fresh workers, as for batch binarization
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
        scored = dict(zip(order, pool.map(_score_job, [jobs[i] for i in order])))
    return [scored[i] for i in range(len(jobs))]
