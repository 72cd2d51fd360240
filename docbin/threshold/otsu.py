"""Global thresholding by Otsu's criterion.

The histogram is counted by a compiled loop over pairs of pixels (65536-bin tables folded to the 256
levels), faster per core than OpenCV's ``THRESH_OTSU`` (``bench/classical.py``). The level is the split
whose between-class variance clearly wins; on a near-tie OpenCV's own ``THRESH_OTSU`` chooses, so the
level, and the binary image, are always OpenCV's.
Reference: N. Otsu, "A threshold selection method from gray-level histograms", IEEE TSMC 9(1), 1979.
"""

from __future__ import annotations

import cv2
import numpy as np
from numba import njit

from docbin.threads import default_threads
from docbin.threshold.integral import parallel_map, split

# Pixels per stripe when the histogram is counted on several threads.
STRIPE_PIXELS = 1 << 22


@njit(cache=True, nogil=True)
def count_levels(flat: np.ndarray) -> np.ndarray:
    """Histogram of the 256 gray levels of a 1-D uint8 array, counted two pixels at a time, in this thread.

    Each pair of pixels is one increment in a 65536-bin table, alternate pairs in two tables (so that runs
    of one value, flat paper or a flat contrast image, do not wait on the previous increment of the same
    counter), then the tables are folded to 256 levels: about half the work of counting single pixels.

    Parameters
    ----------
    flat : ndarray of uint8, shape (N,)
        The pixels (contiguous).

    Returns
    -------
    ndarray of int64, shape (256,)
        ``counts[v]`` pixels have the value ``v``.

    Examples
    --------
    >>> import numpy as np
    >>> count_levels(np.array([7, 7, 0, 7, 255], np.uint8))[[0, 7, 255]]
    array([1, 3, 1])
    """
    pairs = np.zeros((2, 1 << 16), np.uint32)
    whole = flat.size - flat.size % 4
    for quad in flat[:whole].view(np.uint32):
        pairs[0, quad & 0xFFFF] += 1
        pairs[1, quad >> 16] += 1
    counts = np.zeros(256, np.int64)
    for second in range(256):  # pair = second pixel * 256 + first pixel (little-endian)
        row = np.int64(0)
        for first in range(256):
            both = np.int64(pairs[0, second * 256 + first]) + pairs[1, second * 256 + first]
            counts[first] += both
            row += both
        counts[second] += row
    for i in range(whole, flat.size):
        counts[flat[i]] += 1
    return counts


def histogram(gray: np.ndarray) -> np.ndarray:
    """Number of pixels at each gray level, counted in row stripes on a thread per core (large images).

    Parameters
    ----------
    gray : ndarray of uint8
        The image.

    Returns
    -------
    ndarray of int64, shape (256,)
        ``histogram[v]`` pixels have the value ``v``.

    Examples
    --------
    >>> import numpy as np
    >>> histogram(np.array([[0, 3, 3], [255, 3, 0]], np.uint8))[[0, 3, 255]]
    array([2, 3, 1])
    """
    rows = np.ascontiguousarray(gray)
    if rows.size < 2 * STRIPE_PIXELS or default_threads() == 1:
        return count_levels(rows.ravel())
    stripes = split(0, rows.shape[0], max(STRIPE_PIXELS // rows.shape[1], 1))
    return np.sum(parallel_map(lambda bounds: count_levels(rows[bounds[0]:bounds[1]].ravel()), stripes), axis=0)


@njit(cache=True, nogil=True)
def clear_otsu_level(counts: np.ndarray) -> int:
    """The level t maximising the between-class variance w0 w1 (m0 - m1)^2 of a 256-bin histogram (Otsu
    1979), when one split clearly wins; else -1.

    Splits are taken at occupied levels only (t is the largest value of the dark class, as OpenCV reports
    it). The winner is clear when no other split comes within ``1e-9`` of its variance (relative; float64
    rounding is ~1e-16) and each of its classes holds at least ``1e-6`` of the pixels (OpenCV skips splits
    whose smaller class is under FLT_EPSILON). Then every exact maximiser is this split, and OpenCV's
    ``THRESH_OTSU`` (Intel IPP's arithmetic in the opencv-python wheels, which ranks exact ties by its own
    roundings) picks it too; -1 leaves the choice to it.

    Parameters
    ----------
    counts : ndarray of int64, shape (256,)
        The histogram (:func:`histogram`).

    Returns
    -------
    int
        The level t (pixels <= t form the dark class), or -1 when no split clearly wins (a tie, a class
        under 1e-6 of the pixels, a single level).

    Examples
    --------
    >>> import numpy as np
    >>> counts = np.zeros(256, np.int64)
    >>> counts[[10, 200]] = 2
    >>> clear_otsu_level(counts)
    10
    >>> counts[:] = 0
    >>> counts[[10, 100, 190]] = 1  # {10} | {100, 190} and {10, 100} | {190} tie
    >>> clear_otsu_level(counts)
    -1
    """
    total = np.float64(counts.sum())
    grand = 0.0
    for i in range(256):
        grand += i * np.float64(counts[i])
    dark, dark_sum, best, second, smaller, level = 0.0, 0.0, -1.0, -1.0, 0.0, -1
    for i in range(255):
        if counts[i] == 0:
            continue
        dark += counts[i]
        dark_sum += i * np.float64(counts[i])
        light = total - dark
        if light == 0.0:
            break
        gap = dark_sum / dark - (grand - dark_sum) / light
        sigma = dark * light * gap * gap
        if sigma > best:
            best, second, smaller, level = sigma, best, min(dark, light), i
        elif sigma > second:
            second = sigma
    clear = second < best * (1.0 - 1e-9) and smaller >= 1e-6 * total
    return level if clear else -1


def otsu_level(gray: np.ndarray) -> float:
    """The level t maximising the between-class variance of the histogram split {<= t} / {> t} (Otsu 1979).

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
        Gray image.

    Returns
    -------
    float
        The level t (an integer value, 0..255), the one OpenCV's ``THRESH_OTSU`` picks: the histogram's
        clear winner (:func:`clear_otsu_level`), else OpenCV's own choice.

    Examples
    --------
    >>> import numpy as np
    >>> otsu_level(np.array([[10, 10, 200, 200]], np.uint8))
    10.0
    """
    level = clear_otsu_level(histogram(gray))
    if level < 0:
        return cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[0]
    return float(level)


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
    _, binary = cv2.threshold(gray, otsu_level(gray), 255, cv2.THRESH_BINARY)
    return binary
