"""Pixel-count metrics of DIBCO (DIBCO_metrics.m definitions) and the per-image evaluation entry point."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from docbin.errors import ShapeMismatchError
from docbin.preprocess import to_gray


def binary_ink(image: np.ndarray, name: str = "image") -> np.ndarray:
    """Ink mask (True = ink) of a binary image with ink = 0; other gray levels are thresholded at 128
    (ink below), with a warning, and colour images are converted to gray first."""
    gray = to_gray(image)
    if np.any((gray != 0) & (gray != 255)):
        warnings.warn(f"{name} is not binary: thresholded at 128 (ink < 128)", stacklevel=2)
    return gray < 128


@dataclass(frozen=True)
class Counts:
    """Confusion counts on ink pixels: true/false positives/negatives."""

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def total(self) -> int:
        return self.tp + self.fp + self.fn + self.tn


def confusion(pred_ink: np.ndarray, gt_ink: np.ndarray) -> Counts:
    if pred_ink.shape != gt_ink.shape:
        raise ShapeMismatchError(f"prediction {pred_ink.shape} and ground truth {gt_ink.shape} differ in size")
    tp = int(np.count_nonzero(pred_ink & gt_ink))
    fp = int(np.count_nonzero(pred_ink & ~gt_ink))
    fn = int(np.count_nonzero(~pred_ink & gt_ink))
    return Counts(tp, fp, fn, pred_ink.size - tp - fp - fn)


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def f_measure(c: Counts) -> tuple[float, float, float]:
    """(FM, recall, precision) in percent: FM = 2 R P / (R + P)."""
    recall, precision = _ratio(c.tp, c.tp + c.fn), _ratio(c.tp, c.tp + c.fp)
    return 100 * _ratio(2 * recall * precision, recall + precision), 100 * recall, 100 * precision


def psnr(c: Counts) -> float:
    """PSNR = 10 log10(C^2 / MSE) with C = 1 and MSE the share of wrong pixels; inf when perfect."""
    mse = (c.fp + c.fn) / c.total
    return math.inf if mse == 0 else 10 * math.log10(1 / mse)


def nrm(c: Counts) -> float:
    """Negative rate metric: (FN / (FN + TP) + FP / (FP + TN)) / 2."""
    return (_ratio(c.fn, c.fn + c.tp) + _ratio(c.fp, c.fp + c.tn)) / 2


def mcc(c: Counts) -> float:
    """Matthews correlation coefficient of the ink/background decision."""
    den = math.sqrt(float(c.tp + c.fp) * (c.tp + c.fn) * (c.tn + c.fp) * (c.tn + c.fn))
    return _ratio(c.tp * c.tn - c.fp * c.fn, den)


PSNR_CAP = 100.0  # used only where an average needs a number for a perfect image's infinite PSNR


def evaluate(
    pred: np.ndarray,
    gt: np.ndarray,
    recall_weights: np.ndarray | None = None,
    precision_weights: np.ndarray | None = None,
    pfm: Literal["2013", "2010"] = "2013",
) -> dict[str, Any]:
    """All metrics of ``pred`` against ``gt`` (both ink = 0). ``pfm="2013"``: the weighted pseudo-FM of DIBCO
    2013+, from the given recall and precision weight maps (e.g. the official ``.dat`` files) or, without
    them, from weights generated from the GT as BinEvalWeights does (cached per GT); ``pfm="2010"``: the
    skeleton pseudo-FM of H-DIBCO 2010/2012.

    Values that are not finite numbers are ``None`` with a flag, so that the result is strict JSON: PSNR of a
    perfect prediction is ``None`` with ``psnr_infinite: True`` (``avg_score`` then uses PSNR_CAP); DRD is
    ``None`` with ``drd_undefined: True`` when the GT has no non-uniform 8x8 block (NUBN = 0: no ink, all
    ink, or smaller than 8x8) and the prediction differs from it, where DIBCO_metrics.m's DRD_sum / NUBN
    divides by zero, and ``avg_score`` is then ``None`` too (no defined DRD to put in it). ``gt_empty: True``
    marks a GT without ink, where FM, recall and pseudo-FM are 0 even for a perfect prediction."""
    from docbin.metrics.drd import drd
    from docbin.metrics.mpm import mpm
    from docbin.metrics.pseudo import pseudo_f_measure, skeleton_pseudo_f_measure
    from docbin.metrics.weights import pseudo_weights

    gt_ink, pred_ink = binary_ink(gt, "ground truth"), binary_ink(pred, "prediction")
    c = confusion(pred_ink, gt_ink)
    fm, recall, precision = f_measure(c)
    p, d = psnr(c), drd(pred_ink, gt_ink)
    result: dict[str, Any] = {
        "fm": fm, "recall": recall, "precision": precision,
        "psnr": None if math.isinf(p) else p, "psnr_infinite": math.isinf(p),
        "drd": None if math.isinf(d) else d, "drd_undefined": math.isinf(d),
        "nrm": nrm(c), "mcc": mcc(c), "mpm": mpm(pred_ink, gt_ink),
        "tp": c.tp, "fp": c.fp, "fn": c.fn, "tn": c.tn, "gt_empty": c.tp + c.fn == 0,
    }
    if pfm == "2010":
        pseudo, precall = skeleton_pseudo_f_measure(pred_ink, gt_ink)
        result |= {"pseudo_fm": pseudo, "pseudo_recall": precall, "pfm_variant": "2010-skeleton"}
    else:
        given = recall_weights is not None and precision_weights is not None
        if not given:
            recall_weights, precision_weights = pseudo_weights(gt_ink)
        pseudo, precall, pprecision = pseudo_f_measure(pred_ink, gt_ink, recall_weights, precision_weights)
        result |= {"pseudo_fm": pseudo, "pseudo_recall": precall, "pseudo_precision": pprecision,
                   "pfm_variant": "2013-weighted", "pfm_weights": "given" if given else "generated"}
    result["avg_score"] = None if math.isinf(d) else (fm + result["pseudo_fm"] + min(p, PSNR_CAP) + 100 - d) / 4
    return result
