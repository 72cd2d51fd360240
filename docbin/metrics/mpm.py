"""Misclassification penalty metric (DIBCO 2009/2011; Young & Ferryman, VS-PETS 2005)."""

from __future__ import annotations

import cv2
import numpy as np


def contour(gt_ink: np.ndarray) -> np.ndarray:
    """GT ink pixels with a background pixel among their 8 neighbours (image border counts as background).

    Parameters
    ----------
    gt_ink : ndarray of bool, shape (H, W)
        Ground-truth ink mask.

    Returns
    -------
    ndarray of bool, shape (H, W)
        The contour: ``gt_ink`` minus its erosion by a 3 x 3 square, pixels outside the image being
        background.

    Examples
    --------
    >>> import numpy as np
    >>> gt = np.zeros((5, 5), bool)
    >>> gt[1:4, 1:4] = True
    >>> contour(gt).astype(int)
    array([[0, 0, 0, 0, 0],
           [0, 1, 1, 1, 0],
           [0, 1, 0, 1, 0],
           [0, 1, 1, 1, 0],
           [0, 0, 0, 0, 0]])
    """
    padded = np.pad(gt_ink, 1, constant_values=False).astype(np.uint8)
    eroded = cv2.erode(padded, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return gt_ink & ~eroded[1:-1, 1:-1].astype(bool)


def mpm(pred_ink: np.ndarray, gt_ink: np.ndarray) -> float:
    """Misclassification penalty metric: misclassified pixels weighted by their distance to the GT contour.

    MPM = (MP_FN + MP_FP) / 2 with MP_X = sum_{k in X} d_k / D: d_k is the Euclidean distance of a
    misclassified pixel to the GT contour (:func:`contour`) and D the sum of those distances over the whole
    image.

    Parameters
    ----------
    pred_ink, gt_ink : ndarray of bool, shape (H, W)
        Ink masks of the prediction and the ground truth.

    Returns
    -------
    float
        MPM (0 is best). When the GT has no contour (no ink): 0 if the prediction equals the GT, else 1;
        0 also when D is 0.

    References
    ----------
    .. [1] D. P. Young, J. M. Ferryman, "PETS metrics: on-line performance evaluation service", Joint IEEE
       International Workshop on Visual Surveillance and Performance Evaluation of Tracking and
       Surveillance (VS-PETS), 2005.
    .. [2] B. Gatos, K. Ntirogiannis, I. Pratikakis, "ICDAR 2009 document image binarization contest
       (DIBCO 2009)", ICDAR 2009.

    Examples
    --------
    >>> import numpy as np
    >>> gt = np.zeros((5, 5), bool)
    >>> gt[1:4, 1:4] = True
    >>> mpm(gt, gt)
    0.0
    >>> pred = gt.copy()
    >>> pred[0, 0] = True  # a false positive one diagonal step from the contour
    >>> round(mpm(pred, gt), 4)
    0.0379
    """
    edge = contour(gt_ink)
    if not edge.any():
        return 0.0 if not (pred_ink ^ gt_ink).any() else 1.0
    distance = cv2.distanceTransform((~edge).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    total = float(distance.sum())
    if total == 0:
        return 0.0
    fn = float(distance[~pred_ink & gt_ink].sum()) / total
    fp = float(distance[pred_ink & ~gt_ink].sum()) / total
    return (fn + fp) / 2
