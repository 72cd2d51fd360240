"""Bernsen's local mid-range threshold with a contrast limit.

Reference: J. Bernsen, "Dynamic thresholding of grey-level images", ICPR 1986.
"""

from __future__ import annotations

import cv2
import numpy as np

from docbin.threshold.integral import ink_where_at_most


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
    low, high = local_min_max(gray, window)
    midrange = ((high.astype(np.uint16) + low) >> 1).astype(np.uint8)
    level = np.where(cv2.subtract(high, low) > contrast_limit, midrange, np.uint8(threshold))
    return ink_where_at_most(gray, level)
