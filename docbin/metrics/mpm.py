"""Misclassification penalty metric (DIBCO 2009/2011; Young & Ferryman, VS-PETS 2005)."""

from __future__ import annotations

import cv2
import numpy as np


def contour(gt_ink: np.ndarray) -> np.ndarray:
    """GT ink pixels with a background pixel among their 8 neighbours (image border counts as background)."""
    padded = np.pad(gt_ink, 1, constant_values=False).astype(np.uint8)
    eroded = cv2.erode(padded, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return gt_ink & ~eroded[1:-1, 1:-1].astype(bool)


def mpm(pred_ink: np.ndarray, gt_ink: np.ndarray) -> float:
    """MPM = (MP_FN + MP_FP) / 2 with MP_X = sum_{k in X} d_k / D: d_k is the Euclidean distance of a
    misclassified pixel to the GT contour and D the sum of those distances over the whole image."""
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
