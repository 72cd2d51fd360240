"""Distance-reciprocal distortion (Lu, Kot, Shi, IEEE SPL 11(2) 2004), as DIBCO_metrics.m computes it."""

from __future__ import annotations

import numpy as np
from numba import njit

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
    # Ink counts per block (at most 64: uint8 sums), a block's rows summed first.
    rows = gt_ink[:h, :w].view(np.uint8).reshape(h // BLOCK, BLOCK, w).sum(axis=1, dtype=np.uint8)
    blocks = rows.reshape(h // BLOCK, w // BLOCK, BLOCK).sum(axis=2, dtype=np.uint8)
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
    flipped = pred_ink != gt_ink
    total = float(_flip_distortions(pred_ink, gt_ink, np.count_nonzero(flipped), weight_matrix()).sum())
    blocks = nubn(gt_ink)
    return total / blocks if blocks else (0.0 if total == 0 else float("inf"))


@njit(cache=True, nogil=True)
def _flip_distortions(pred_ink: np.ndarray, gt_ink: np.ndarray, flips: int, w: np.ndarray) -> np.ndarray:
    """DRD_k = sum_ij |GT_k(i, j) - B(k)| W_ij of each of the ``flips`` flipped pixels k, in raster order
    (Lu, Kot, Shi 2004): the weights of the block's GT pixels inside the image that differ from B(k), summed
    over the block in raster order as a 5 x 5 filter does, without filtering the whole image."""
    h, wd = gt_ink.shape
    out = np.empty(flips)
    n = 0
    for y in range(h):
        for x in range(wd):
            if pred_ink[y, x] == gt_ink[y, x]:
                continue
            ink = inside = 0.0
            for i in range(max(0, RADIUS - y), min(2 * RADIUS + 1, h + RADIUS - y)):
                for j in range(max(0, RADIUS - x), min(2 * RADIUS + 1, wd + RADIUS - x)):
                    inside += w[i, j]
                    if gt_ink[y + i - RADIUS, x + j - RADIUS]:
                        ink += w[i, j]
            out[n] = inside - ink if pred_ink[y, x] else ink  # predicted ink differs from GT background
            n += 1
    return out
