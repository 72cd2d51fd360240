"""Wolf-Jolion local threshold, normalised by the global minimum grey level and the largest local std.

Reference: C. Wolf, J.-M. Jolion, "Extraction and recognition of artificial text in multimedia
documents", Pattern Analysis and Applications 6(4), 2003 (ICPR 2002).
"""

from __future__ import annotations

import numpy as np

from docbin.threshold.windowed import WOLF, largest_variance, windowed_threshold


def wolf_parameters(gray: np.ndarray, window: int = 75, k: float = 0.5) -> tuple[float, float, float]:
    """Wolf 2002's rule T = m - k * (1 - s / max(s)) * (m - min(I)) as the kernel's parameters.

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
        Gray image.
    window : int, optional
        Side of the square local window in pixels (default 75).
    k : float, optional
        Weight of the contrast term (default 0.5).

    Returns
    -------
    tuple of float
        ``(k, max s, min I)``: max s the largest local standard deviation (a first pass over the image; 1
        where every window is flat), min I the darkest pixel.
    """
    darkest = int(gray.min()) if gray.size else 0
    variance = largest_variance(gray, window)
    return k, float(np.sqrt(variance)) if variance > 0 else 1.0, float(darkest)


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
    return windowed_threshold(gray, window, WOLF, wolf_parameters(gray, window, k))
