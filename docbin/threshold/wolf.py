"""Wolf-Jolion local threshold, normalised by the global minimum grey level and the largest local std.

Reference: C. Wolf, J.-M. Jolion, "Extraction and recognition of artificial text in multimedia
documents", Pattern Analysis and Applications 6(4), 2003 (ICPR 2002).
"""

from __future__ import annotations

import cv2
import numpy as np

from docbin.threshold.integral import Rule, Tile, local_threshold, map_tiles


def wolf_rule(gray: np.ndarray, window: int = 75, k: float = 0.5) -> Rule:
    """Wolf 2002: T = m - k * (1 - s / max(s)) * (m - min(I)), with min and max over the whole image."""
    darkest = int(gray.min()) if gray.size else 0
    largest_variance = max(map_tiles(gray, window, lambda tile: float(tile.variance().max())), default=0.0)
    largest_deviation = float(np.sqrt(largest_variance)) if largest_variance > 0 else 1.0

    # T = m + a * (m - min I) with a = k * (s / max s - 1).
    def threshold(tile: Tile) -> np.ndarray:
        deviation = cv2.sqrt(tile.variance(), dst=tile.scratch)
        weight = cv2.addWeighted(deviation, k / largest_deviation, deviation, 0.0, -k, dst=deviation)
        above_darkest = cv2.subtract(tile.mean, float(darkest), dst=tile.mean_square)
        contrast = cv2.multiply(weight, above_darkest, dst=weight)
        return cv2.add(contrast, tile.mean, dst=contrast)

    return threshold


def wolf(gray: np.ndarray, window: int = 75, k: float = 0.5) -> np.ndarray:
    """Wolf-Jolion binarization: ink where gray <= T (see :func:`wolf_rule`); two passes over the image."""
    return local_threshold(gray, window, wolf_rule(gray, window, k))
