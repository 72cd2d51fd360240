"""Global thresholding by Otsu's criterion.

Reference: N. Otsu, "A threshold selection method from gray-level histograms", IEEE TSMC 9(1), 1979.
"""

from __future__ import annotations

import cv2
import numpy as np


def otsu_level(gray: np.ndarray) -> float:
    """The level t maximising the between-class variance of the histogram split {<= t} / {> t}."""
    level, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return level


def otsu(gray: np.ndarray) -> np.ndarray:
    """Ink (0) where gray <= t_Otsu, background (255) elsewhere."""
    _, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return binary
