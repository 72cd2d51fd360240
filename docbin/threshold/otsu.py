"""Global thresholding by Otsu's criterion.

Reference: N. Otsu, "A threshold selection method from gray-level histograms", IEEE TSMC 9(1), 1979.
"""

from __future__ import annotations

import cv2
import numpy as np


def otsu_level(gray: np.ndarray) -> float:
    """The level t maximising the between-class variance of the histogram split {<= t} / {> t} (Otsu 1979).

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
        Gray image.

    Returns
    -------
    float
        The level t (an integer value, 0..255).

    Examples
    --------
    >>> import numpy as np
    >>> otsu_level(np.array([[10, 10, 200, 200]], np.uint8))
    10.0
    """
    level, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return level


def otsu(gray: np.ndarray) -> np.ndarray:
    """Global Otsu binarization: ink where gray <= t, t maximising the between-class variance (Otsu 1979).

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
        Gray image.

    Returns
    -------
    ndarray of uint8, shape (H, W)
        Binary image: ink 0 where gray <= T, background 255.

    References
    ----------
    .. [1] N. Otsu, "A threshold selection method from gray-level histograms", IEEE Transactions on
       Systems, Man, and Cybernetics 9(1), 1979.

    Examples
    --------
    >>> import numpy as np
    >>> page = np.full((40, 60), 200, np.uint8)
    >>> page[16:24, 10:50] = 40  # a dark stroke on light paper
    >>> binary = otsu(page)
    >>> binary[20, 5:15].tolist()  # across the stroke's left end
    [255, 255, 255, 255, 255, 0, 0, 0, 0, 0]
    >>> int((binary == 0).sum())  # the stroke's 8 x 40 pixels
    320
    """
    _, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return binary
