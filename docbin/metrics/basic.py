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
    """Ink mask (True = ink) of a binary image with ink = 0.

    Parameters
    ----------
    image : ndarray of uint8, shape (H, W) or (H, W, 3)
        Binary image (ink 0, background 255). Other gray levels are thresholded at 128 (ink below) with a
        ``UserWarning``; a colour image is converted to gray first.
    name : str, optional
        What the image is, for the warning.

    Returns
    -------
    ndarray of bool, shape (H, W)
        True where ``image`` is ink.

    Examples
    --------
    >>> import numpy as np
    >>> binary_ink(np.array([[0, 255, 0]], np.uint8)).tolist()
    [[True, False, True]]
    """
    gray = to_gray(image)
    if np.any((gray != 0) & (gray != 255)):
        warnings.warn(f"{name} is not binary: thresholded at 128 (ink < 128)", stacklevel=2)
    return gray < 128


@dataclass(frozen=True)
class Counts:
    """Confusion counts with ink as the positive class: true/false positives/negatives (:func:`confusion`)."""

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def total(self) -> int:
        return self.tp + self.fp + self.fn + self.tn


def confusion(pred_ink: np.ndarray, gt_ink: np.ndarray) -> Counts:
    """Confusion counts of a predicted ink mask against the ground truth's, ink being the positive class.

    Parameters
    ----------
    pred_ink, gt_ink : ndarray of bool, shape (H, W)
        Ink masks (:func:`binary_ink`) of the prediction and the ground truth.

    Returns
    -------
    Counts
        TP (ink in both), FP (ink only in the prediction), FN (ink only in the GT), TN.

    Raises
    ------
    ShapeMismatchError
        When the two masks differ in shape.

    Examples
    --------
    >>> import numpy as np
    >>> gt = np.full((8, 8), 255, np.uint8)
    >>> gt[2:6, 2:6] = 0  # 16 ink pixels
    >>> pred = gt.copy()
    >>> pred[2, 2:6], pred[7, 7] = 255, 0  # 4 ink pixels missed, 1 false ink
    >>> confusion(binary_ink(pred), binary_ink(gt))
    Counts(tp=12, fp=1, fn=4, tn=47)
    """
    if pred_ink.shape != gt_ink.shape:
        raise ShapeMismatchError(f"prediction {pred_ink.shape} and ground truth {gt_ink.shape} differ in size")
    tp = int(np.count_nonzero(pred_ink & gt_ink))
    fp = int(np.count_nonzero(pred_ink & ~gt_ink))
    fn = int(np.count_nonzero(~pred_ink & gt_ink))
    return Counts(tp, fp, fn, pred_ink.size - tp - fp - fn)


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def f_measure(c: Counts) -> tuple[float, float, float]:
    """F-measure, recall and precision in percent: R = TP / (TP + FN), P = TP / (TP + FP), FM = 2 R P / (R + P).

    Parameters
    ----------
    c : Counts

    Returns
    -------
    fm, recall, precision : float
        In percent; 0 where a denominator is 0 (e.g. recall of a GT without ink).

    References
    ----------
    .. [1] I. Pratikakis, B. Gatos, K. Ntirogiannis, "ICDAR 2013 Document Image Binarization Contest
       (DIBCO 2013)", ICDAR 2013 (the DIBCO metric definitions).

    Examples
    --------
    >>> c = Counts(tp=12, fp=1, fn=4, tn=47)
    >>> [round(v, 2) for v in f_measure(c)]
    [82.76, 75.0, 92.31]
    """
    recall, precision = _ratio(c.tp, c.tp + c.fn), _ratio(c.tp, c.tp + c.fp)
    return 100 * _ratio(2 * recall * precision, recall + precision), 100 * recall, 100 * precision


def psnr(c: Counts) -> float:
    """Peak signal-to-noise ratio in dB: PSNR = 10 log10(C^2 / MSE), C = 1, MSE = (FP + FN) / pixels.

    Parameters
    ----------
    c : Counts

    Returns
    -------
    float
        PSNR in dB; ``inf`` for a perfect prediction (set means count it as :data:`PSNR_CAP`).

    Examples
    --------
    >>> c = Counts(tp=12, fp=1, fn=4, tn=47)
    >>> round(psnr(c), 2)
    11.07
    """
    mse = (c.fp + c.fn) / c.total
    return math.inf if mse == 0 else 10 * math.log10(1 / mse)


def nrm(c: Counts) -> float:
    """Negative rate metric: NRM = (FN / (FN + TP) + FP / (FP + TN)) / 2 (0 is best).

    Parameters
    ----------
    c : Counts

    Returns
    -------
    float
        NRM in [0, 1]; a term whose denominator is 0 counts 0.

    Examples
    --------
    >>> c = Counts(tp=12, fp=1, fn=4, tn=47)
    >>> round(nrm(c), 4)
    0.1354
    """
    return (_ratio(c.fn, c.fn + c.tp) + _ratio(c.fp, c.fp + c.tn)) / 2


def mcc(c: Counts) -> float:
    """Matthews correlation coefficient of the ink/background decision:
    MCC = (TP TN - FP FN) / sqrt((TP + FP)(TP + FN)(TN + FP)(TN + FN)).

    Parameters
    ----------
    c : Counts

    Returns
    -------
    float
        MCC in [-1, 1]; 0 when a factor of the denominator is 0.

    Examples
    --------
    >>> c = Counts(tp=12, fp=1, fn=4, tn=47)
    >>> round(mcc(c), 4)
    0.7848
    """
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
    marks a GT without ink, where FM, recall and pseudo-FM are 0 even for a perfect prediction.

    Parameters
    ----------
    pred, gt : ndarray of uint8, shape (H, W)
        Binary prediction and ground truth (ink 0, background 255; see :func:`binary_ink`).
    recall_weights, precision_weights : ndarray of float, shape (H, W), optional
        Pseudo-FM weight maps (:func:`docbin.metrics.read_weights_dat`); both or neither.
    pfm : {"2013", "2010"}, optional
        Which pseudo-F-measure.

    Returns
    -------
    dict
        ``fm``, ``recall``, ``precision``, ``pseudo_fm``, ``pseudo_recall`` (and ``pseudo_precision``),
        ``psnr``, ``drd``, ``nrm``, ``mcc``, ``mpm``, ``avg_score`` = (FM + pFM + PSNR + 100 - DRD) / 4, the
        counts ``tp``, ``fp``, ``fn``, ``tn`` and the flags above.

    Raises
    ------
    ShapeMismatchError
        When ``pred`` and ``gt`` differ in size.

    References
    ----------
    .. [1] K. Ntirogiannis, B. Gatos, I. Pratikakis, "Performance evaluation methodology for historical
       document image binarization", IEEE Transactions on Image Processing 22(2), 2013.
    .. [2] H. Lu, A. C. Kot, Y. Q. Shi, "Distance-reciprocal distortion measure for binary document
       images", IEEE Signal Processing Letters 11(2), 2004.

    Examples
    --------
    >>> import numpy as np
    >>> gt = np.full((8, 8), 255, np.uint8)
    >>> gt[2:6, 2:6] = 0
    >>> pred = gt.copy()
    >>> pred[2, 2:6], pred[7, 7] = 255, 0
    >>> scores = evaluate(pred, gt)
    >>> {k: round(scores[k], 2) for k in ("fm", "pseudo_fm", "psnr", "drd", "avg_score")}
    {'fm': 82.76, 'pseudo_fm': 94.12, 'psnr': 11.07, 'drd': 2.08, 'avg_score': 71.47}
    """
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
