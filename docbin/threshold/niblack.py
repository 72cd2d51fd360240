"""Niblack-style local thresholds: T = m + k * s (Niblack) and T = m + k * sqrt(s^2 + m^2) (NICK).

References: W. Niblack, "An Introduction to Digital Image Processing", Prentice-Hall 1986;
K. Khurshid et al., "Comparison of Niblack inspired binarization methods for ancient documents", DRR 2009.
"""

from __future__ import annotations

import cv2
import numpy as np

from docbin.threshold.integral import Rule, Tile, local_threshold


def niblack_rule(k: float = -0.2) -> Rule:
    """Niblack 1986: T = m + k * s."""

    def threshold(tile: Tile) -> np.ndarray:
        deviation = cv2.sqrt(tile.variance(), dst=tile.scratch)
        return cv2.scaleAdd(deviation, k, tile.mean, dst=deviation)

    return threshold


def niblack(gray: np.ndarray, window: int = 75, k: float = -0.2) -> np.ndarray:
    """Niblack binarization: ink where gray <= T (see :func:`niblack_rule`)."""
    return local_threshold(gray, window, niblack_rule(k))


def nick_rule(k: float = -0.1) -> Rule:
    """Khurshid 2009 (NICK): T = m + k * sqrt(s^2 + m^2), i.e. m + k * sqrt(sum(p^2) / NP)."""

    def threshold(tile: Tile) -> np.ndarray:
        root_mean_square = cv2.sqrt(tile.mean_square, dst=tile.scratch)  # sqrt(s^2 + m^2) = sqrt(E[x^2])
        return cv2.scaleAdd(root_mean_square, k, tile.mean, dst=root_mean_square)

    return threshold


def nick(gray: np.ndarray, window: int = 75, k: float = -0.1) -> np.ndarray:
    """NICK binarization: ink where gray <= T (see :func:`nick_rule`)."""
    return local_threshold(gray, window, nick_rule(k))
