"""Distance-reciprocal distortion (Lu, Kot, Shi, IEEE SPL 11(2) 2004), as DIBCO_metrics.m computes it."""

from __future__ import annotations

import cv2
import numpy as np

BLOCK = 8  # NUBN block size
RADIUS = 2  # 5x5 weight matrix


def weight_matrix() -> np.ndarray:
    """W_ij = 1 / sqrt((i - 2)^2 + (j - 2)^2), centre 0, normalised to sum 1."""
    i, j = np.mgrid[-RADIUS : RADIUS + 1, -RADIUS : RADIUS + 1]
    distance = np.hypot(i, j)
    w = np.divide(1.0, distance, out=np.zeros_like(distance), where=distance > 0)
    return w / w.sum()


def nubn(gt_ink: np.ndarray) -> int:
    """Number of whole 8x8 GT blocks that hold both ink and background."""
    h, w = (s // BLOCK * BLOCK for s in gt_ink.shape)
    blocks = gt_ink[:h, :w].reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK).sum(axis=(1, 3))
    return int(np.count_nonzero((blocks > 0) & (blocks < BLOCK * BLOCK)))


def drd(pred_ink: np.ndarray, gt_ink: np.ndarray) -> float:
    """DRD = sum_k DRD_k / NUBN with DRD_k = sum_ij |GT_k(i, j) - B(x, y)| W_ij over the 5x5 block around
    each flipped pixel k (block entries outside the image contribute nothing)."""
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
