"""Bernsen's local mid-range threshold with a contrast limit.

The window minimum and maximum are OpenCV's grey erosion and dilation; the rule and the comparison run in
one compiled loop over row stripes (a thread each), without the mid-range and level images.
Reference: J. Bernsen, "Dynamic thresholding of grey-level images", ICPR 1986.
"""

from __future__ import annotations

import cv2
import numpy as np
from numba import njit

from docbin.errors import ParameterError
from docbin.threshold.integral import parallel_map, split

# Pixels per stripe of the rule's loop.
STRIPE_PIXELS = 1 << 20


def local_min_max(gray: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Minimum and maximum over the window clipped to the image (grey erosion and dilation).

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
        The image.
    window : int
        Side of the square window, centred on the pixel.

    Returns
    -------
    low, high : ndarray of uint8, shape (H, W)
        The window minimum and maximum of each pixel.

    References
    ----------
    .. [1] J. Bernsen, "Dynamic thresholding of grey-level images", Proc. 8th International Conference on
       Pattern Recognition (ICPR), 1986.

    Examples
    --------
    >>> import numpy as np
    >>> low, high = local_min_max(np.array([[10, 50, 90, 130]], np.uint8), 3)
    >>> low.tolist(), high.tolist()
    ([[10, 10, 50, 90]], [[50, 90, 130, 130]])
    """
    kernel = np.ones((window, window), np.uint8)
    return cv2.erode(gray, kernel), cv2.dilate(gray, kernel)


@njit(cache=True, nogil=True)
def _bernsen_rows(gray: np.ndarray, low: np.ndarray, high: np.ndarray, contrast_limit: int, threshold: int,
                  top: int, bottom: int, out: np.ndarray) -> None:
    """Rows ``[top, bottom)``: ink (0) where gray <= T, T = (max + min) // 2 where max - min exceeds
    ``contrast_limit``, else ``threshold``."""
    for y in range(top, bottom):
        for x in range(gray.shape[1]):
            least, most = np.int32(low[y, x]), np.int32(high[y, x])
            level = (most + least) >> 1 if most - least > contrast_limit else threshold
            out[y, x] = 255 if gray[y, x] > level else 0


def bernsen(gray: np.ndarray, window: int = 75, contrast_limit: int = 25, threshold: int = 100) -> np.ndarray:
    """Bernsen binarization: ink where gray <= T, T = (max + min) / 2 of the window where its contrast
    max - min exceeds ``contrast_limit``, else the global ``threshold`` (Bernsen 1986).

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
        Gray image.
    window : int, optional
        Side of the square local window in pixels, clipped at the image border (default 75, DoxaPy's).
    contrast_limit : int, optional
        Local contrast max - min at or below which the window counts as uniform (default 25).
    threshold : int, optional
        Global level for uniform windows (default 100).

    Returns
    -------
    ndarray of uint8, shape (H, W)
        Binary image: ink 0 where gray <= T, background 255.

    Raises
    ------
    ParameterError
        When ``threshold`` is not a gray level (0..255).

    References
    ----------
    .. [1] J. Bernsen, "Dynamic thresholding of grey-level images", Proc. 8th International Conference on
       Pattern Recognition (ICPR), 1986.

    Examples
    --------
    >>> import numpy as np
    >>> page = np.full((40, 60), 200, np.uint8)
    >>> page[16:24, 10:50] = 40  # a dark stroke on light paper
    >>> binary = bernsen(page, window=15)
    >>> binary[20, 5:15].tolist()  # across the stroke's left end
    [255, 255, 255, 255, 255, 0, 0, 0, 0, 0]
    """
    if not 0 <= threshold <= 255:
        raise ParameterError(f"threshold must be a gray level 0..255, got {threshold}")
    low, high = local_min_max(gray, window)
    out = np.empty_like(gray)
    rows = max(STRIPE_PIXELS // max(gray.shape[1], 1), 1)
    parallel_map(lambda bounds: _bernsen_rows(gray, low, high, contrast_limit, threshold, *bounds, out),
                 split(0, gray.shape[0], rows))
    return out
