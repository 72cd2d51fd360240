"""Speed of docbin's DIBCO evaluator against DoxaPy's ``calculate_performance``, on real DIBCO pages.

Every page of the DIBCO 2009-2016 sets in ../shared/data is binarized with docbin's Otsu and scored against
its GT, in one process on one core (OpenCV limited to 1 thread), by (a) ``doxapy.calculate_performance``
(C++: accuracy, FM, MCC, PSNR, NRM, DRD), (b) docbin's metrics for the same set (FM, PSNR, DRD, NRM, MCC, from
the uint8 images as doxapy gets them) and (c) docbin's full per-page evaluation, ``docbin.metrics.evaluate``
(also recall, precision, MPM, Avg-Score and the weighted pseudo-FM, its weights generated from the GT on every
call, as ``docbin evaluate`` does for each page). Times are the best of 3 runs per page, the three tools taking
turns so background load hits them alike. The table gives seconds, megapixels/s and docbin's time ratio to
doxapy (> 1: docbin slower); below it, the largest difference between docbin's and doxapy's values.

    python bench/evaluate.py
    python bench/evaluate.py --sets dibco2013 hdibco2016 --limit 3   # a quick subset
"""

from __future__ import annotations

import argparse
import math
import os
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

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
SETS = ("dibco2009", "dibco2011", "hdibco2012", "dibco2013", "hdibco2014", "hdibco2016")
REPEAT = 3
METRICS = ("fm", "psnr", "drd", "nrm", "mcc")
AGREE = 1e-9  # a larger difference in a metric is reported with its cause

Scores = dict[str, Any]
Scorer = Callable[[np.ndarray, np.ndarray], Scores]


def doxapy_scores(binary: np.ndarray, gt: np.ndarray) -> Scores:
    """DoxaPy's metrics. Its argument order is (ground truth, binary): swapped, NRM and DRD change."""
    scores = doxapy.calculate_performance(gt, binary)
    return {"fm": scores["fm"], "psnr": scores["psnr"], "drd": scores["drdm"], "nrm": scores["nrm"],
            "mcc": scores["mcc"]}


def docbin_scores(binary: np.ndarray, gt: np.ndarray) -> Scores:
    """docbin's FM, PSNR, DRD, NRM and MCC, the metrics doxapy computes."""
    pred_ink, gt_ink = binary_ink(binary, "prediction"), binary_ink(gt, "ground truth")
    counts = confusion(pred_ink, gt_ink)
    return {"fm": f_measure(counts)[0], "psnr": psnr(counts), "drd": drd(pred_ink, gt_ink), "nrm": nrm(counts),
            "mcc": mcc(counts)}


def docbin_full(binary: np.ndarray, gt: np.ndarray) -> Scores:
    """docbin's whole per-page evaluation, weighted pseudo-FM included."""
    return evaluate(binary, gt)


SCORERS: dict[str, Scorer] = {"doxapy": doxapy_scores, "docbin": docbin_scores, "docbin full": docbin_full}


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


def time_page(page: Page) -> tuple[dict[str, float], dict[str, Scores]]:
    """Best-of-REPEAT seconds and the scores of every scorer on ``page``, the scorers taking turns."""
    best = dict.fromkeys(SCORERS, math.inf)
    scores: dict[str, Scores] = {}
    for _ in range(REPEAT):
        WEIGHTS_CACHE.clear()  # the full evaluation generates the pseudo-FM weights each time, as for a new page
        for name, score in SCORERS.items():
            start = time.perf_counter()
            scores[name] = score(page.binary, page.gt)
            best[name] = min(best[name], time.perf_counter() - start)
    return best, scores


def doxapy_nubn(gt_ink: np.ndarray) -> int:
    """NUBN as DoxaPy 0.9.2 counts it: a whole 8x8 block counts when its top-left 7x7 pixels hold ink and
    background (its loop takes the block's inclusive corner as an exclusive bound)."""
    h, w = (s // BLOCK * BLOCK for s in gt_ink.shape)
    blocks = gt_ink[:h, :w].reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK)[:, :-1, :, :-1].sum(axis=(1, 3))
    return int(np.count_nonzero((blocks > 0) & (blocks < (BLOCK - 1) ** 2)))


@dataclass
class Differences:
    """Largest |docbin - doxapy| per metric (with its page), and the same for docbin's DRD rescaled to
    DoxaPy's NUBN divisor."""

    largest: dict[str, tuple[float, str]] = field(default_factory=lambda: dict.fromkeys(METRICS, (0.0, "-")))
    rescaled_drd: float = 0.0
    wrapped_pages: int = 0

    def add(self, page: Page, ours: Scores, theirs: Scores) -> None:
        for metric in METRICS:
            gap = abs(ours[metric] - theirs[metric])
            if gap > self.largest[metric][0]:
                self.largest[metric] = (gap, page.name)
        gt_ink = page.gt == 0
        theirs_nubn = doxapy_nubn(gt_ink)
        self.wrapped_pages += int(theirs_nubn * 10**6 >= 2**32)
        divisor = theirs_nubn * 10**6 % 2**32  # DoxaPy's NUBN x 10^6 is a 32-bit unsigned int
        if divisor:
            rescaled = ours["drd"] * nubn(gt_ink) * 10**6 / divisor
            self.rescaled_drd = max(self.rescaled_drd, abs(rescaled - theirs["drd"]))

    def report(self, pages: int) -> None:
        print(f"\nlargest |docbin - doxapy| over {pages} page(s):")
        for metric, (gap, name) in self.largest.items():
            print(f"  {metric.upper():<4} {gap:.3g} ({name})")
        if self.largest["drd"][0] > AGREE:
            print("note: DRD differs by definition: docbin follows DIBCO_metrics.m (NUBN = 8x8 GT blocks holding "
                  "ink and background); DoxaPy 0.9.2 tests only each block's top-left 7x7 pixels and wraps "
                  f"NUBN x 10^6 at 2^32 (its NUBN > 4294 on {self.wrapped_pages} of these pages); docbin's DRD "
                  f"rescaled to DoxaPy's divisor matches it within {self.rescaled_drd:.1g} (DoxaPy rounds the 5x5 "
                  "weights to 1e-6).")
        others = [m.upper() for m in METRICS if m != "drd" and self.largest[m][0] > AGREE]
        if others:
            print(f"warning: {', '.join(others)} differ beyond {AGREE:g}, unexplained")


@dataclass
class Row:
    """One table row: a set (or the total) with its pages, megapixels and best-of-REPEAT seconds per scorer."""

    name: str
    pages: int = 0
    megapixels: float = 0.0
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SCORERS, 0.0))

    def add(self, pages: int, megapixels: float, seconds: dict[str, float]) -> None:
        self.pages += pages
        self.megapixels += megapixels
        for name, value in seconds.items():
            self.seconds[name] += value

    def print(self) -> None:
        s = self.seconds
        speeds = " | ".join(f"{self.megapixels / s[name]:.1f}" for name in SCORERS)
        print(f"| {self.name} | {self.pages} | {self.megapixels:.1f} | {s['doxapy']:.3f} | {s['docbin']:.3f} | "
              f"{s['docbin full']:.3f} | {speeds} | {s['docbin'] / s['doxapy']:.2f} | "
              f"{s['docbin full'] / s['doxapy']:.1f} |", flush=True)


def bench_set(root: Path, limit: int | None, differences: Differences) -> Row:
    pages = load_pages(root, limit)
    row = Row(root.name)
    for page in pages:
        seconds, scores = time_page(page)
        row.add(1, page.gt.size / 1e6, seconds)
        differences.add(page, scores["docbin"], scores["doxapy"])
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=list(SETS), help=f"dataset folders under {DATA}")
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N pages of each set")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"error: {DATA} not found: this benchmark needs the DIBCO data in ../shared beside the repository")
    missing = [name for name in args.sets if not (DATA / name).is_dir()]
    if missing:
        sys.exit(f"error: no {', '.join(missing)} under {DATA}")
    cv2.setNumThreads(1)
    print(f"cores: {os.cpu_count()}; single-threaded: OpenCV threads {cv2.getNumThreads()} (docbin's metrics have no "
          f"thread pool of their own), doxapy {version('doxapy')} calculate_performance is serial C++")
    print(f"input: docbin Otsu binarization of each page vs its GT; best of {REPEAT} per page, tools taking turns")
    print("(a) doxapy: FM, PSNR, DRD, NRM, MCC (+ accuracy); (b) docbin: the same metrics; "
          "(c) docbin full: all metrics incl. pseudo-FM weights generated from the GT\n")
    print("| set | pages | MP | doxapy s | docbin s | full s | doxapy MP/s | docbin MP/s | full MP/s "
          "| docbin/doxapy | full incl. pseudo-FM weights/doxapy |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    start = time.perf_counter()
    total, differences = Row("total"), Differences()
    for name in args.sets:
        row = bench_set(DATA / name, args.limit, differences)
        row.print()
        total.add(row.pages, row.megapixels, row.seconds)
    total.print()
    print("(time ratios: > 1 means docbin is slower than doxapy)")
    differences.report(total.pages)
    print(f"\nwall time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
