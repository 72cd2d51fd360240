"""Niblack-style local thresholds: T = m + k * s (Niblack) and T = m + k * sqrt(s^2 + m^2) (NICK).

References: W. Niblack, "An Introduction to Digital Image Processing", Prentice-Hall 1986;
K. Khurshid et al., "Comparison of Niblack inspired binarization methods for ancient documents", DRR 2009.
"""

from __future__ import annotations

import numpy as np

from docbin.threshold.windowed import NIBLACK, NICK, windowed_threshold


def niblack(gray: np.ndarray, window: int = 75, k: float = -0.2) -> np.ndarray:
    """Niblack binarization: ink where gray <= T = m + k * s (Niblack 1986).

    m and s are the mean and standard deviation of the window around each pixel. Where a window is flat
    (s = 0, e.g. blank paper far from any ink), T = m and the pixel is ink: Niblack's known noise.

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
        Gray image.
    window : int, optional
        Side of the square local window in pixels, clipped at the image border (default 75, DoxaPy's).
    k : float, optional
        Weight of the local standard deviation (default -0.2).

    Returns
    -------
    ndarray of uint8, shape (H, W)
        Binary image: ink 0 where gray <= T, background 255.

    References
    ----------
    .. [1] W. Niblack, "An Introduction to Digital Image Processing", Prentice-Hall, 1986.

    Examples
    --------
    >>> import numpy as np
    >>> page = np.full((40, 60), 200, np.uint8)
    >>> page[16:24, 10:50] = 40  # a dark stroke on light paper
    >>> binary = niblack(page, window=15)
    >>> binary[20, 5:15].tolist()  # across the stroke's left end
    [255, 255, 255, 255, 255, 0, 0, 0, 0, 0]
    >>> int(binary[2, 2])  # blank paper: a flat window
    0
    """
    return windowed_threshold(gray, window, NIBLACK, (k,))


def nick(gray: np.ndarray, window: int = 75, k: float = -0.1) -> np.ndarray:
    """NICK binarization: ink where gray <= T = m + k * sqrt(s^2 + m^2) (Khurshid et al. 2009).

    Niblack's rule with the standard deviation replaced by the root mean square, so blank paper stays
    background.

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
        Gray image.
    window : int, optional
        Side of the square local window in pixels, clipped at the image border (default 75, DoxaPy's).
    k : float, optional
        Weight of the local root mean square (default -0.1; the paper: -0.1 to -0.2).

    Returns
    -------
    ndarray of uint8, shape (H, W)
        Binary image: ink 0 where gray <= T, background 255.

    References
    ----------
    .. [1] K. Khurshid, I. Siddiqi, C. Faure, N. Vincent, "Comparison of Niblack inspired binarization
       methods for ancient documents", Document Recognition and Retrieval XVI, SPIE 7247, 2009.

    Examples
    --------
    >>> import numpy as np
    >>> page = np.full((40, 60), 200, np.uint8)
    >>> page[16:24, 10:50] = 40  # a dark stroke on light paper
    >>> binary = nick(page, window=15)
    >>> binary[20, 5:15].tolist()  # across the stroke's left end
    [255, 255, 255, 255, 255, 0, 0, 0, 0, 0]
    >>> int(binary[2, 2])  # blank paper
    255
    """
    return windowed_threshold(gray, window, NICK, (k,))
