"""Distance-reciprocal distortion (Lu, Kot, Shi, IEEE SPL 11(2) 2004), as DIBCO_metrics.m computes it."""

from __future__ import annotations

import cv2
import numpy as np

BLOCK = 8  # NUBN block size
RADIUS = 2  # 5x5 weight matrix


def weight_matrix() -> np.ndarray:
    """The 5 x 5 DRD weights: W_ij = 1 / sqrt((i - 2)^2 + (j - 2)^2), centre 0, normalised to sum 1.

    Returns
    -------
    ndarray of float64, shape (5, 5)
        The normalised reciprocal-distance weights.

    References
    ----------
    .. [1] H. Lu, A. C. Kot, Y. Q. Shi, "Distance-reciprocal distortion measure for binary document
       images", IEEE Signal Processing Letters 11(2), 2004.

    Examples
    --------
    >>> w = weight_matrix()
    >>> w.shape, float(w[2, 2]), round(float(w.sum()), 12)
    ((5, 5), 0.0, 1.0)
    """
    i, j = np.mgrid[-RADIUS : RADIUS + 1, -RADIUS : RADIUS + 1]
    distance = np.hypot(i, j)
    w = np.divide(1.0, distance, out=np.zeros_like(distance), where=distance > 0)
    return w / w.sum()


def nubn(gt_ink: np.ndarray) -> int:
    """Number of whole 8 x 8 GT blocks that hold both ink and background (NUBN, the DRD normaliser).

    Blocks are laid from the top-left corner; a partial block at the right or bottom edge is left out.

    Parameters
    ----------
    gt_ink : ndarray of bool, shape (H, W)
        Ground-truth ink mask.

    Returns
    -------
    int
        The count of non-uniform 8 x 8 blocks.

    References
    ----------
    .. [1] H. Lu, A. C. Kot, Y. Q. Shi, "Distance-reciprocal distortion measure for binary document
       images", IEEE Signal Processing Letters 11(2), 2004.

    Examples
    --------
    >>> import numpy as np
    >>> gt = np.zeros((16, 20), bool)  # two whole blocks per row, two rows; columns 16-19 left out
    >>> gt[2:6, 2:6] = True  # inside the first block
    >>> gt[10:16, 18:20] = True  # only in the left-out columns
    >>> nubn(gt)
    1
    """
    h, w = (s // BLOCK * BLOCK for s in gt_ink.shape)
    blocks = gt_ink[:h, :w].reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK).sum(axis=(1, 3))
    return int(np.count_nonzero((blocks > 0) & (blocks < BLOCK * BLOCK)))


def drd(pred_ink: np.ndarray, gt_ink: np.ndarray) -> float:
    """Distance-reciprocal distortion: DRD = sum_k DRD_k / NUBN, DRD_k = sum_ij |GT_k(i, j) - B(x, y)| W_ij
    over the 5 x 5 block around each flipped pixel k (entries outside the image contribute nothing).

    W_ij = 1 / sqrt((i - 2)^2 + (j - 2)^2) normalised to sum 1 (:func:`weight_matrix`); NUBN is the number
    of 8 x 8 GT blocks holding both ink and background (:func:`nubn`). As DIBCO_metrics.m computes it.

    Parameters
    ----------
    pred_ink, gt_ink : ndarray of bool, shape (H, W)
        Ink masks of the prediction and the ground truth.

    Returns
    -------
    float
        DRD (0 is best); ``inf`` when NUBN is 0 and the prediction differs from the GT.

    References
    ----------
    .. [1] H. Lu, A. C. Kot, Y. Q. Shi, "Distance-reciprocal distortion measure for binary document
       images", IEEE Signal Processing Letters 11(2), 2004.

    Examples
    --------
    >>> import numpy as np
    >>> gt = np.zeros((8, 8), bool)
    >>> gt[2:6, 2:6] = True
    >>> pred = gt.copy()
    >>> pred[2, 2:6], pred[7, 7] = False, True
    >>> round(drd(pred, gt), 4)
    2.0789
    """
    w = weight_matrix().astype(np.float64)
    gt = gt_ink.astype(np.float64)
    inside = np.ones_like(gt)
    ink_around = cv2.filter2D(gt, -1, w, borderType=cv2.BORDER_CONSTANT)
    weight_inside = cv2.filter2D(inside, -1, w, borderType=cv2.BORDER_CONSTANT)
    flipped = pred_ink != gt_ink
    # A pixel predicted ink differs from GT background around it, and vice versa.
    per_pixel = np.where(pred_ink, weight_inside - ink_around, ink_around)
    total = float(per_pixel[flipped].sum())
    blocks = nubn(gt_ink)
    return total / blocks if blocks else (0.0 if total == 0 else float("inf"))
