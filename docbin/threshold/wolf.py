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
    largest_variance = max(map_tiles(gray, window, Tile.largest_variance), default=0.0)
    largest_deviation = float(np.sqrt(largest_variance)) if largest_variance > 0 else 1.0

    # T = m + a * (m - min I) with a = k * (s / max s - 1).
    def threshold(tile: Tile) -> np.ndarray:
        deviation = cv2.sqrt(tile.variance(), dst=tile.scratch)
        weight = cv2.addWeighted(deviation, k / largest_deviation, deviation, 0.0, -k, dst=deviation)
        mean = tile.mean()
        above_darkest = cv2.subtract(mean, float(darkest), dst=tile.spare)
        contrast = cv2.multiply(weight, above_darkest, dst=weight)
        return cv2.add(contrast, mean, dst=contrast)

    return threshold


def wolf(gray: np.ndarray, window: int = 75, k: float = 0.5) -> np.ndarray:
    """Wolf-Jolion binarization: ink where gray <= T = m - k * (1 - s / max s) * (m - min I) (Wolf & Jolion
    2003), with max s the largest local standard deviation and min I the darkest pixel of the whole image.

    Two passes over the image: one for max s, one for the thresholds.

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
        Gray image.
    window : int, optional
        Side of the square local window in pixels, clipped at the image border (default 75, DoxaPy's).
    k : float, optional
        Weight of the contrast term (default 0.5, the paper's a).

    Returns
    -------
    ndarray of uint8, shape (H, W)
        Binary image: ink 0 where gray <= T, background 255.

    References
    ----------
    .. [1] C. Wolf, J.-M. Jolion, "Extraction and recognition of artificial text in multimedia documents",
       Pattern Analysis and Applications 6(4), 2003.

    Examples
    --------
    >>> import numpy as np
    >>> page = np.full((40, 60), 200, np.uint8)
    >>> page[16:24, 10:50] = 40  # a dark stroke on light paper
    >>> binary = wolf(page, window=15)
    >>> binary[20, 5:15].tolist()  # across the stroke's left end
    [255, 255, 255, 255, 255, 0, 0, 0, 0, 0]
    """
    return local_threshold(gray, window, wolf_rule(gray, window, k))
