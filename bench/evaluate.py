"""CPU time of docbin's DIBCO evaluator against DoxaPy's, on real DIBCO pages, one core, one process.

Every page of the DIBCO 2009-2016 sets in ../shared/data is binarized with docbin's Otsu and scored against
its GT, in one process on one core (DOCBIN_THREADS=1, OpenCV limited to 1 thread), by (a) DoxaPy's
``calculate_performance`` (C++: accuracy, FM, MCC, PSNR, NRM, DRD), (b) docbin's metrics for the same set (FM,
PSNR, DRD, NRM, MCC, from the uint8 images as DoxaPy gets them), (c) DoxaPy >= 0.9.9's full evaluation: its
C++ port of BinEvalWeights (``generate_pseudo_weights``: the pseudo-FM weights from the GT) and of
DIBCO_metrics (``calculate_performance`` with those weights: the same metrics plus pseudo-FM, pseudo-recall and
pseudo-precision) and (d) docbin's full per-page evaluation, ``docbin.metrics.evaluate`` (also recall,
precision, MPM, Avg-Score and the weighted pseudo-FM, its weights generated from the GT on every call, as
``docbin evaluate`` does for each page). Times are CPU seconds (``time.process_time``), the best of 3 runs
per page (``--repeat``), the tools taking turns so background load hits them alike. The table gives seconds
and docbin's time ratio to DoxaPy's (> 1: docbin slower); below it, the largest differences between values.

DoxaPy 0.9.9 (the version with the weights) needs Python >= 3.12; pip resolves DoxaPy 0.9.2 on 3.11. Run with
another Python, the script re-runs itself in ``bench/.venv312`` when that exists (docbin and DoxaPy 0.9.9 then
share one 3.12 process), and otherwise compares (a) with (b) alone, saying why. Create it once with pyenv's
3.12 (numpy, SciPy, OpenCV and scikit-image pinned to the main environment's versions)::

    PYENV_VERSION=3.12 python3.12 -m venv bench/.venv312
    bench/.venv312/bin/pip install -e . doxapy==0.9.9 \\
        $(.venv/bin/pip freeze | grep -iE '^(numpy|scipy|opencv-contrib-python-headless|scikit-image)==')

    python bench/evaluate.py
    python bench/evaluate.py --sets dibco2013 hdibco2016 --limit 3   # a quick subset
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import cv2
import doxapy
import numpy as np

from docbin.datasets.dibco import load_pairs
from docbin.io import read_image
from docbin.metrics import binary_ink, confusion, drd, evaluate, f_measure, mcc, nrm, psnr
from docbin.metrics.drd import BLOCK, nubn
from docbin.metrics.weights import WEIGHTS_CACHE
from docbin.registry import binarize
from docbin.threads import THREADS_ENV

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
VENV312 = REPO / "bench" / ".venv312" / "bin" / "python"
SETS = ("dibco2009", "dibco2011", "hdibco2012", "dibco2013", "hdibco2014", "hdibco2016")
METRICS = ("fm", "psnr", "drd", "nrm", "mcc")
PSEUDO = ("pseudo_fm", "pseudo_recall", "pseudo_precision")
AGREE = 1e-9  # a larger difference in a metric is reported with its cause
FULL = hasattr(doxapy, "generate_pseudo_weights")  # DoxaPy >= 0.9.9: the full evaluation is compared too

Scores = dict[str, Any]
Scorer = Callable[[np.ndarray, np.ndarray], Scores]


def _doxapy_names(scores: Scores, keys: tuple[str, ...] = ()) -> Scores:
    """DoxaPy's result in docbin's names: METRICS and the given ``keys``."""
    return {"fm": scores["fm"], "psnr": scores["psnr"], "drd": scores["drdm"], "nrm": scores["nrm"],
            "mcc": scores["mcc"], **{key: scores[key] for key in keys}}


def doxapy_scores(binary: np.ndarray, gt: np.ndarray) -> Scores:
    """DoxaPy's metrics. Its argument order is (ground truth, binary): swapped, NRM and DRD change."""
    return _doxapy_names(doxapy.calculate_performance(gt, binary))


def docbin_scores(binary: np.ndarray, gt: np.ndarray) -> Scores:
    """docbin's FM, PSNR, DRD, NRM and MCC, the metrics doxapy computes."""
    pred_ink, gt_ink = binary_ink(binary, "prediction"), binary_ink(gt, "ground truth")
    counts = confusion(pred_ink, gt_ink)
    return {"fm": f_measure(counts)[0], "psnr": psnr(counts), "drd": drd(pred_ink, gt_ink), "nrm": nrm(counts),
            "mcc": mcc(counts)}


def doxapy_full(binary: np.ndarray, gt: np.ndarray) -> Scores:
    """DoxaPy 0.9.9's whole evaluation: the pseudo-FM weights generated from the GT, then every metric."""
    precision_weights, recall_weights = doxapy.generate_pseudo_weights(gt)
    scores = doxapy.calculate_performance(gt, binary, precision_weights=precision_weights,
                                          recall_weights=recall_weights)
    return _doxapy_names(scores, PSEUDO)


def docbin_full(binary: np.ndarray, gt: np.ndarray) -> Scores:
    """docbin's whole per-page evaluation, weighted pseudo-FM included (weights generated from the GT)."""
    WEIGHTS_CACHE.clear()  # as for a new page: no weights of an earlier run
    return evaluate(binary, gt)


SCORERS: dict[str, Scorer] = {"doxapy": doxapy_scores, "docbin": docbin_scores}
if FULL:
    SCORERS |= {"doxapy full": doxapy_full}
SCORERS |= {"docbin full": docbin_full}


@dataclass(frozen=True)
class Page:
    """A page's Otsu binarization and its GT, both uint8 gray with ink 0 and background 255."""

    name: str
    binary: np.ndarray
    gt: np.ndarray


def load_pages(root: Path, limit: int | None) -> list[Page]:
    """The first ``limit`` pages of a dataset, paired with their GT by docbin's loader."""
    pages = []
    for pair in load_pairs(root)[:limit]:
        binary = binarize(read_image(pair.image), "otsu")
        gt = np.where(binary_ink(read_image(pair.gt), "ground truth"), np.uint8(0), np.uint8(255))
        pages.append(Page(f"{root.name}/{pair.name}", binary, gt))
    return pages


def time_page(page: Page, repeat: int) -> tuple[dict[str, float], dict[str, Scores]]:
    """Best-of-``repeat`` CPU seconds and the scores of every scorer on ``page``, the scorers taking turns."""
    best = dict.fromkeys(SCORERS, math.inf)
    scores: dict[str, Scores] = {}
    for _ in range(repeat):
        for name, score in SCORERS.items():
            start = time.process_time()
            scores[name] = score(page.binary, page.gt)
            best[name] = min(best[name], time.process_time() - start)
    return best, scores


def doxapy_nubn(gt_ink: np.ndarray) -> int:
    """NUBN as DoxaPy 0.9.2 counts it: a whole 8x8 block counts when its top-left 7x7 pixels hold ink and
    background (its loop takes the block's inclusive corner as an exclusive bound)."""
    h, w = (s // BLOCK * BLOCK for s in gt_ink.shape)
    blocks = gt_ink[:h, :w].reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK)[:, :-1, :, :-1].sum(axis=(1, 3))
    return int(np.count_nonzero((blocks > 0) & (blocks < (BLOCK - 1) ** 2)))


@dataclass
class Differences:
    """Largest |docbin - doxapy| per metric (with its page) of the metrics and, with DoxaPy 0.9.9, of the
    full evaluations; and the same for docbin's DRD rescaled to DoxaPy 0.9.2's NUBN divisor."""

    largest: dict[str, tuple[float, str]] = field(
        default_factory=lambda: dict.fromkeys(METRICS + (PSEUDO if FULL else ()), (0.0, "-")))
    rescaled_drd: float = 0.0
    wrapped_pages: int = 0
    relative_drd: float = 0.0  # the largest |docbin - doxapy| / doxapy of DRD

    def add(self, page: Page, scores: dict[str, Scores]) -> None:
        pairs = [(scores["docbin"], scores["doxapy"], METRICS)]
        if FULL:
            pairs.append((scores["docbin full"], scores["doxapy full"], METRICS + PSEUDO))
        for ours, theirs, metrics in pairs:
            for metric in metrics:
                gap = abs(ours[metric] - theirs[metric])
                if gap > self.largest[metric][0]:
                    self.largest[metric] = (gap, page.name)
            if theirs["drd"]:
                self.relative_drd = max(self.relative_drd, abs(ours["drd"] / theirs["drd"] - 1))
        gt_ink = page.gt == 0
        theirs_nubn = doxapy_nubn(gt_ink)
        self.wrapped_pages += int(theirs_nubn * 10**6 >= 2**32)
        divisor = theirs_nubn * 10**6 % 2**32  # DoxaPy 0.9.2's NUBN x 10^6 is a 32-bit unsigned int
        if divisor:
            rescaled = scores["docbin"]["drd"] * nubn(gt_ink) * 10**6 / divisor
            self.rescaled_drd = max(self.rescaled_drd, abs(rescaled - scores["doxapy"]["drd"]))

    def report(self, pages: int) -> None:
        print(f"\nlargest |docbin - doxapy| over {pages} page(s):")
        for metric, (gap, name) in self.largest.items():
            print(f"  {metric.upper():<16} {gap:.3g} ({name})")
        if self.largest["drd"][0] > AGREE and FULL:
            print(f"note: DRD differs by rounding (relative {self.relative_drd:.1g}): DoxaPy 0.9.9 counts NUBN over "
                  "whole 8x8 blocks as docbin and DIBCO_metrics.m do")
        elif self.largest["drd"][0] > AGREE:
            print("note: DRD differs by definition: docbin follows DIBCO_metrics.m (NUBN = 8x8 GT blocks holding "
                  "ink and background); DoxaPy 0.9.2 tests only each block's top-left 7x7 pixels and wraps "
                  f"NUBN x 10^6 at 2^32 (its NUBN > 4294 on {self.wrapped_pages} of these pages); docbin's DRD "
                  f"rescaled to DoxaPy's divisor matches it within {self.rescaled_drd:.1g} (DoxaPy rounds the 5x5 "
                  "weights to 1e-6).")
        others = [m.upper() for m in self.largest if m != "drd" and self.largest[m][0] > AGREE]
        if others:
            print(f"note: {', '.join(others)} differ beyond {AGREE:g}")


@dataclass
class Row:
    """One table row: a set (or the total) with its pages, megapixels and best-of-N CPU seconds per scorer;
    with DoxaPy 0.9.9, also the pages whose full evaluation took docbin longer than DoxaPy and the worst
    such page ratio."""

    name: str
    pages: int = 0
    megapixels: float = 0.0
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SCORERS, 0.0))
    slower: int = 0
    worst: float = 0.0

    def add(self, pages: int, megapixels: float, seconds: dict[str, float], slower: int, worst: float) -> None:
        self.pages += pages
        self.megapixels += megapixels
        for name, value in seconds.items():
            self.seconds[name] += value
        self.slower += slower
        self.worst = max(self.worst, worst)

    def add_page(self, page: Page, seconds: dict[str, float]) -> None:
        ratio = seconds["docbin full"] / seconds["doxapy full"] if FULL else 0.0
        self.add(1, page.gt.size / 1e6, seconds, int(ratio > 1), ratio)

    def print(self) -> None:
        s = self.seconds
        cells = [self.name, str(self.pages), f"{self.megapixels:.1f}", *(f"{s[name]:.3f}" for name in SCORERS),
                 f"{s['docbin'] / s['doxapy']:.2f}"]
        if FULL:
            cells += [f"**{s['docbin full'] / s['doxapy full']:.2f}**", f"{self.slower}", f"{self.worst:.2f}"]
        print("| " + " | ".join(cells) + " |", flush=True)


def header() -> None:
    columns = ["set", "pages", "MP", *(f"{name} s" for name in SCORERS), "docbin / doxapy"]
    if FULL:
        columns += ["full: docbin / doxapy", "pages > 1", "worst page"]
    print("| " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * (len(columns) - 1))


def bench_set(root: Path, limit: int | None, repeat: int, differences: Differences) -> Row:
    row = Row(root.name)
    for page in load_pages(root, limit):
        seconds, scores = time_page(page, repeat)
        row.add_page(page, seconds)
        differences.add(page, scores)
    return row


def switch_to_venv312() -> None:
    """Re-run this script in bench/.venv312 (DoxaPy 0.9.9 on Python 3.12) when this Python's DoxaPy has no
    weights and that environment exists; else say why the full comparison is skipped."""
    if FULL:
        return
    if VENV312.exists() and Path(sys.executable) != VENV312:
        print(f"doxapy {version('doxapy')} here has no generate_pseudo_weights: re-running in {VENV312.parent.parent}",
              flush=True)
        os.execv(VENV312, [str(VENV312), __file__, *sys.argv[1:]])
    why = ("bench/.venv312 has no DoxaPy >= 0.9.9" if VENV312.exists() else
           "no bench/.venv312 (DoxaPy 0.9.9 needs Python >= 3.12; the commands that make it are in this "
           "script's docstring)")
    print(f"skipping the full evaluation against DoxaPy 0.9.9: doxapy {version('doxapy')} has no "
          f"generate_pseudo_weights and {why}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=list(SETS), help=f"dataset folders under {DATA}")
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N pages of each set")
    parser.add_argument("--repeat", type=int, default=3, metavar="N", help="best of N runs per page (default 3)")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"error: {DATA} not found: this benchmark needs the DIBCO data in ../shared beside the repository")
    missing = [name for name in args.sets if not (DATA / name).is_dir()]
    if missing:
        sys.exit(f"error: no {', '.join(missing)} under {DATA}")
    switch_to_venv312()
    os.environ[THREADS_ENV] = "1"
    cv2.setNumThreads(1)
    print(f"Python {platform.python_version()}, doxapy {version('doxapy')}, numpy {np.__version__}, OpenCV "
          f"{cv2.__version__}; {os.cpu_count()} cores, one used: OpenCV threads {cv2.getNumThreads()}, "
          f"{THREADS_ENV}=1, DoxaPy's C++ is serial")
    print(f"input: docbin Otsu binarization of each page vs its GT; CPU time, best of {args.repeat} per page, tools "
          "taking turns")
    print("doxapy: FM, PSNR, DRD, NRM, MCC (+ accuracy); docbin: the same metrics; "
          + ("doxapy full: generate_pseudo_weights + calculate_performance with them; " if FULL else "")
          + "docbin full: evaluate(), all metrics incl. pseudo-FM weights generated from the GT\n")
    header()
    start = time.perf_counter()
    total, differences = Row("total"), Differences()
    for name in args.sets:
        row = bench_set(DATA / name, args.limit, args.repeat, differences)
        row.print()
        total.add(row.pages, row.megapixels, row.seconds, row.slower, row.worst)
    total.print()
    print("(CPU time ratios: > 1 means docbin is slower than doxapy" + ("; pages > 1: pages whose full evaluation "
          "took docbin longer, worst page: the largest page ratio)" if FULL else ")"))
    differences.report(total.pages)
    print(f"\nwall time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
