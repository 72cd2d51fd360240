"""Bernsen's local mid-range threshold with a contrast limit.

Reference: J. Bernsen, "Dynamic thresholding of grey-level images", ICPR 1986.
"""

from __future__ import annotations

import cv2
import numpy as np

from docbin.threshold.integral import ink_where_at_most


def local_min_max(gray: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Minimum and maximum over the window clipped to the image (grey erosion and dilation)."""
    kernel = np.ones((window, window), np.uint8)
    return cv2.erode(gray, kernel), cv2.dilate(gray, kernel)


def bernsen(gray: np.ndarray, window: int = 75, contrast_limit: int = 25, threshold: int = 100) -> np.ndarray:
    """Bernsen 1986: T = (max + min) / 2 where max - min > L, else the global level; ink where gray <= T."""
    low, high = local_min_max(gray, window)
    midrange = ((high.astype(np.uint16) + low) >> 1).astype(np.uint8)
    level = np.where(cv2.subtract(high, low) > contrast_limit, midrange, np.uint8(threshold))
    return ink_where_at_most(gray, level)
