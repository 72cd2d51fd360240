"""Pseudo-F-measures: the weighted one of DIBCO 2013+ (Ntirogiannis, Gatos, Pratikakis, IEEE TIP 22(2) 2013)
and the skeleton one of H-DIBCO 2010/2012 (Pratikakis, Gatos, Ntirogiannis, ICFHR 2010)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from docbin.errors import DatasetError


def read_weights_dat(path: str | Path, shape: tuple[int, int]) -> np.ndarray:
    """Read an official BinEvalWeights weight file.

    Parameters
    ----------
    path : str or Path
        ``*_RWeights.dat`` or ``*_PWeights.dat`` (whitespace-separated doubles, row-major), ``.gz`` allowed.
    shape : (int, int)
        ``(H, W)`` of its ground truth.

    Returns
    -------
    ndarray
        ``(H, W)`` float64 weights.

    Raises
    ------
    DatasetError
        When the file does not hold one weight per pixel of ``shape``.

    References
    ----------
    .. [1] K. Ntirogiannis, B. Gatos, I. Pratikakis, "Performance evaluation methodology for historical
       document image binarization", IEEE Transactions on Image Processing 22(2), 2013.
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as handle:
        values = np.array(handle.read().split(), dtype=np.float64)
    if values.size != shape[0] * shape[1]:
        raise DatasetError(f"{path}: {values.size} weights for an image of {shape[0]}x{shape[1]} pixels")
    return values.reshape(shape)


def pseudo_f_measure(
    pred_ink: np.ndarray, gt_ink: np.ndarray, recall_weights: np.ndarray, precision_weights: np.ndarray
) -> tuple[float, float, float]:
    """Weighted pseudo-F-measure of DIBCO 2013+ from BinEvalWeights-style weight maps:
    pseudo-recall = sum_TP RW / sum_GTink RW, pseudo-precision = TP / (TP + sum_FP (1 + PW)).

    Parameters
    ----------
    pred_ink, gt_ink : ndarray of bool, shape (H, W)
        Ink masks of the prediction and the ground truth.
    recall_weights, precision_weights : ndarray of float, shape (H, W)
        RW and PW, as in the official ``_RWeights.dat`` / ``_PWeights.dat`` (:func:`read_weights_dat`) or
        generated from the GT (:func:`docbin.metrics.pseudo_weights`).

    Returns
    -------
    pfm, pseudo_recall, pseudo_precision : float
        In percent; 0 where a denominator is 0.

    References
    ----------
    .. [1] K. Ntirogiannis, B. Gatos, I. Pratikakis, "Performance evaluation methodology for historical
       document image binarization", IEEE Transactions on Image Processing 22(2), 2013.

    Examples
    --------
    With unit recall weights and zero precision weights it is the plain F-measure:

    >>> import numpy as np
    >>> gt = np.zeros((8, 8), bool)
    >>> gt[2:6, 2:6] = True
    >>> pred = gt.copy()
    >>> pred[2, 2:6], pred[7, 7] = False, True
    >>> [round(v, 2) for v in pseudo_f_measure(pred, gt, np.ones(gt.shape), np.zeros(gt.shape))]
    [82.76, 75.0, 92.31]
    """
    tp_mask, fp_mask = pred_ink & gt_ink, pred_ink & ~gt_ink
    gt_weight = float(recall_weights[gt_ink].sum())
    recall = float(recall_weights[tp_mask].sum()) / gt_weight if gt_weight else 0.0
    tp = float(np.count_nonzero(tp_mask))
    penalised = tp + float((1.0 + precision_weights[fp_mask]).sum())
    precision = tp / penalised if penalised else 0.0
    fm = 2 * recall * precision / (recall + precision) if recall + precision else 0.0
    return 100 * fm, 100 * recall, 100 * precision


def thinned_skeleton(gt_ink: np.ndarray) -> np.ndarray:
    """The GT skeleton of the 2010 pseudo-FM: MATLAB's ``bwmorph(gt_ink, 'thin', Inf)``.

    Guo-Hall two-subiteration thinning with the conditions G1, G2, G3/G3' of Lam, Lee, Suen, pixels outside
    the image counting as background. ``skimage.morphology.thin`` is that algorithm with MATLAB's lookup
    tables (the DKDS authors' ``Base/bwmorph_thin.py`` port gives the same pixels); ``skeletonize``
    (Zhang-Suen) keeps other pixels: a 2-pixel-thick bar keeps its lower row under ``thin`` and its upper row
    under ``skeletonize``.

    Parameters
    ----------
    gt_ink : ndarray of bool, shape (H, W)
        Ground-truth ink mask.

    Returns
    -------
    ndarray of bool, shape (H, W)
        The one-pixel-wide skeleton.

    References
    ----------
    .. [1] L. Lam, S.-W. Lee, C. Y. Suen, "Thinning methodologies - a comprehensive survey", IEEE
       Transactions on Pattern Analysis and Machine Intelligence 14(9), 1992, p. 879.
    .. [2] Z. Guo, R. W. Hall, "Parallel thinning with two-subiteration algorithms", Communications of the
       ACM 32(3), 1989.

    Examples
    --------
    >>> import numpy as np
    >>> bar = np.zeros((4, 7), bool)
    >>> bar[1:3, 1:6] = True  # 2 pixels thick
    >>> thinned_skeleton(bar).astype(int)
    array([[0, 0, 0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0, 0, 0],
           [0, 1, 1, 1, 1, 0, 0],
           [0, 0, 0, 0, 0, 0, 0]])
    """
    from skimage.morphology import thin

    return thin(gt_ink)


def skeleton_pseudo_f_measure(pred_ink: np.ndarray, gt_ink: np.ndarray) -> tuple[float, float]:
    """(pFM, pseudo-recall) of H-DIBCO 2010/2012: recall over the GT skeleton, combined with precision.

    The pseudo-recall is the share of :func:`thinned_skeleton` pixels predicted as ink; the precision is the
    ordinary one (predicted ink that is GT ink); pFM is their harmonic mean. Also the definition of DKDS and
    the three-stage paper.

    Parameters
    ----------
    pred_ink, gt_ink : ndarray of bool, shape (H, W)
        Ink masks of the prediction and the ground truth.

    Returns
    -------
    pfm, pseudo_recall : float
        In percent; each is 0 when its denominator is (no skeleton, no predicted ink, or both terms 0).

    References
    ----------
    .. [1] I. Pratikakis, B. Gatos, K. Ntirogiannis, "H-DIBCO 2010 - Handwritten Document Image Binarization
       Competition", ICFHR 2010.

    Examples
    --------
    >>> import numpy as np
    >>> gt = np.zeros((4, 7), bool)
    >>> gt[1:3, 1:6] = True
    >>> upper_row = gt.copy()
    >>> upper_row[2] = False  # misses the row the skeleton lies on
    >>> [float(v) for v in skeleton_pseudo_f_measure(upper_row, gt)]
    [0.0, 0.0]
    >>> lower_row = gt.copy()
    >>> lower_row[1] = False
    >>> [float(v) for v in skeleton_pseudo_f_measure(lower_row, gt)]
    [100.0, 100.0]
    """
    skeleton = thinned_skeleton(gt_ink)
    on_skeleton = int(np.count_nonzero(skeleton))
    recall = np.count_nonzero(pred_ink & skeleton) / on_skeleton if on_skeleton else 0.0
    predicted = int(np.count_nonzero(pred_ink))
    precision = np.count_nonzero(pred_ink & gt_ink) / predicted if predicted else 0.0
    fm = 2 * recall * precision / (recall + precision) if recall + precision else 0.0
    return 100 * fm, 100 * recall
