"""Su, Lu and Tan's contrast-based binarization: local max/min contrast, Otsu on it, local stroke test.

Compiled passes over row stripes (a thread each), holding no page-sized buffer besides the input and the
output: the first computes each stripe's uint8 contrast image and counts its histogram, whose Otsu level
marks the high-contrast pixels (stroke edges); the second recomputes a stripe's contrast (with a window of
rows above and below), keeps running window sums of the high-contrast pixels' count, gray levels and
squares (exact integers: per column, one row in and one out per output row, then along the row) and applies
the rule in the float32 operations of the OpenCV code it replaced (``box_sum`` images divided by the count),
so the binary image is bit for bit that code's.
Reference: B. Su, S. Lu, C. L. Tan, "Binarization of historical document images using the local maximum
and minimum", DAS 2010.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from docbin.errors import ParameterError
from docbin.threshold.integral import MAX_EXACT_AREA, parallel_map, split
from docbin.threshold.otsu import clear_otsu_level, count_levels, otsu_level

# The paper's epsilon keeps the contrast finite where max + min = 0.
EPSILON = 1e-4
# Pixels per stripe: enough stripes to balance the threads, each long enough that starting its column
# sums (a window of rows) stays a small share of its work.
STRIPE_PIXELS = 1 << 20

_f32 = np.float32


def stripes(height: int, width: int) -> list[tuple[int, int]]:
    """Row ranges ``[top, bottom)`` of about ``STRIPE_PIXELS`` pixels each, covering the image.

    Parameters
    ----------
    height, width : int
        Image size.

    Returns
    -------
    list of tuple of int
        Consecutive row ranges (:func:`docbin.threshold.integral.split`).

    Examples
    --------
    >>> stripes(4000, 1000)
    [(0, 1000), (1000, 2000), (2000, 3000), (3000, 4000)]
    """
    return split(0, height, max(STRIPE_PIXELS // max(width, 1), 1))


@njit(cache=True, nogil=True)
def _contrast(low: np.uint8, high: np.uint8) -> np.uint8:
    """255 (max - min) / (max + min + EPSILON) in float32, truncated to uint8."""
    return np.uint8(_f32(255) * (_f32(high) - _f32(low)) / (_f32(high) + _f32(low) + _f32(EPSILON)))


@njit(cache=True, nogil=True, error_model="numpy")
def _contrast_rows(gray: np.ndarray, top: int, bottom: int, out: np.ndarray) -> None:
    """Rows ``[top, bottom)`` of the contrast image into ``out`` (its row 0 is row ``top``): min and max of
    the rows above, at and below each pixel, then of those columns left, at and right (the 3 x 3
    neighbourhood clipped to the image)."""
    height, width = gray.shape
    low, high = np.empty(width, np.uint8), np.empty(width, np.uint8)
    for y in range(top, bottom):
        above, below = gray[max(y - 1, 0)], gray[min(y + 1, height - 1)]
        for x in range(width):
            low[x] = min(above[x], gray[y, x], below[x])
            high[x] = max(above[x], gray[y, x], below[x])
        row = out[y - top]
        if width == 1:
            row[0] = _contrast(low[0], high[0])
            continue
        row[0] = _contrast(min(low[0], low[1]), max(high[0], high[1]))
        for x in range(1, width - 1):
            row[x] = _contrast(min(low[x - 1], low[x], low[x + 1]), max(high[x - 1], high[x], high[x + 1]))
        row[width - 1] = _contrast(min(low[width - 2], low[width - 1]), max(high[width - 2], high[width - 1]))


@njit(cache=True, nogil=True)
def _slide_columns(gray: np.ndarray, contrast: np.ndarray, first: int, level: int, y: int, sign: int,
                   col_n: np.ndarray, col_s: np.ndarray, col_q: np.ndarray) -> None:
    """Add (sign 1) or drop (sign -1) row ``y``'s high-contrast pixels: their count, gray levels, squares
    (``contrast`` holds the contrast image's rows from ``first``)."""
    for x in range(col_n.shape[0]):
        edge = np.int32(contrast[y - first, x] > level) * np.int32(sign)
        value = np.int32(gray[y, x])
        col_n[x] += edge
        col_s[x] += edge * value
        col_q[x] += edge * value * value


@njit(cache=True, nogil=True, error_model="numpy")
def _su_rows(gray: np.ndarray, contrast: np.ndarray, first: int, level: int, window: int, min_n: int,
             weight: np.float32, top: int, bottom: int, out: np.ndarray) -> None:
    """Rows ``[top, bottom)`` of Su's binary image into ``out``: ink (0) where N_e >= min_n and
    gray <= E_mean + weight E_std, the statistics over the window's pixels whose contrast exceeds ``level``
    (``contrast`` holds the contrast image's rows from ``first``, those of every window in the stripe)."""
    height, width = gray.shape
    before, after = (window - 1) // 2, window // 2
    col_n, col_s, col_q = np.zeros(width, np.int32), np.zeros(width, np.int32), np.zeros(width, np.int32)
    for y in range(max(top - before, 0), min(top + after, height - 1) + 1):
        _slide_columns(gray, contrast, first, level, y, 1, col_n, col_s, col_q)
    n, s, q = np.empty(width, np.int32), np.empty(width, np.int32), np.empty(width, np.int32)
    for y in range(top, bottom):
        if y > top and y + after < height:
            _slide_columns(gray, contrast, first, level, y + after, 1, col_n, col_s, col_q)
        if y > top and y - before - 1 >= 0:
            _slide_columns(gray, contrast, first, level, y - before - 1, -1, col_n, col_s, col_q)
        run_n, run_s, run_q = np.int32(0), np.int32(0), np.int32(0)
        for x in range(min(after, width)):
            run_n += col_n[x]
            run_s += col_s[x]
            run_q += col_q[x]
        for x in range(width):
            if x + after < width:
                run_n += col_n[x + after]
                run_s += col_s[x + after]
                run_q += col_q[x + after]
            if x > before:
                run_n -= col_n[x - before - 1]
                run_s -= col_s[x - before - 1]
                run_q -= col_q[x - before - 1]
            n[x], s[x], q[x] = run_n, run_s, run_q
        for x in range(width):  # E = box sum / max(N_e, 1), each step one float32 operation as numpy's
            count = max(_f32(n[x]), _f32(1))
            mean = _f32(s[x]) / count
            variance = _f32(q[x]) / count - mean * mean
            threshold = mean + weight * np.sqrt(max(variance, _f32(0)))
            out[y, x] = 0 if n[x] >= min_n and _f32(gray[y, x]) <= threshold else 255


def contrast_image(gray: np.ndarray) -> np.ndarray:
    """Su's local contrast D(x, y) = (max - min) / (max + min + eps) over 3 x 3 neighbourhoods, x 255 as uint8.

    Computed in row stripes on a thread per core; the neighbourhood is clipped to the image.

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
        The image.

    Returns
    -------
    ndarray of uint8, shape (H, W)
        ``255 (max - min) / (max + min + EPSILON)``, truncated.

    References
    ----------
    .. [1] B. Su, S. Lu, C. L. Tan, "Binarization of historical document images using the local maximum and
       minimum", Proc. 9th IAPR International Workshop on Document Analysis Systems (DAS), 2010.

    Examples
    --------
    >>> import numpy as np
    >>> gray = np.full((5, 5), 200, np.uint8)
    >>> gray[2, 2] = 0
    >>> contrast_image(gray)
    array([[  0,   0,   0,   0,   0],
           [  0, 254, 254, 254,   0],
           [  0, 254, 254, 254,   0],
           [  0, 254, 254, 254,   0],
           [  0,   0,   0,   0,   0]], dtype=uint8)
    """
    gray = np.ascontiguousarray(gray)
    out = np.empty_like(gray)
    parallel_map(lambda bounds: _contrast_rows(gray, *bounds, out[bounds[0]:bounds[1]]), stripes(*gray.shape))
    return out


def contrast_level(gray: np.ndarray) -> int:
    """Otsu's level of the contrast image, its histogram counted stripe by stripe (no page-sized image).

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
        The image.

    Returns
    -------
    int
        The level t of :func:`docbin.threshold.otsu.otsu_level` on :func:`contrast_image`: pixels whose
        contrast exceeds t are the high-contrast (stroke edge) pixels.

    Examples
    --------
    >>> import numpy as np
    >>> gray = np.full((5, 5), 200, np.uint8)
    >>> gray[2, 2] = 0
    >>> contrast_level(gray)
    0
    """
    gray = np.ascontiguousarray(gray)

    def count(bounds: tuple[int, int]) -> np.ndarray:
        block = np.empty((bounds[1] - bounds[0], gray.shape[1]), np.uint8)
        _contrast_rows(gray, *bounds, block)
        return count_levels(block.ravel())

    counts = parallel_map(count, stripes(*gray.shape))
    level = clear_otsu_level(np.sum(counts, axis=0) if counts else np.zeros(256, np.int64))
    return level if level >= 0 else int(otsu_level(contrast_image(gray)))


def high_contrast_mask(gray: np.ndarray) -> np.ndarray:
    """High-contrast (stroke edge) pixels: Otsu's threshold on the contrast image, as 0/1 uint8.

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
        The image.

    Returns
    -------
    ndarray of uint8, shape (H, W)
        1 where :func:`contrast_image` exceeds its Otsu threshold, else 0.

    References
    ----------
    .. [1] B. Su, S. Lu, C. L. Tan, "Binarization of historical document images using the local maximum and
       minimum", Proc. 9th IAPR International Workshop on Document Analysis Systems (DAS), 2010.
    .. [2] N. Otsu, "A threshold selection method from gray-level histograms", IEEE Transactions on
       Systems, Man, and Cybernetics 9(1), 1979.

    Examples
    --------
    >>> import numpy as np
    >>> gray = np.full((5, 5), 200, np.uint8)
    >>> gray[2, 2] = 0
    >>> high_contrast_mask(gray)
    array([[0, 0, 0, 0, 0],
           [0, 1, 1, 1, 0],
           [0, 1, 1, 1, 0],
           [0, 1, 1, 1, 0],
           [0, 0, 0, 0, 0]], dtype=uint8)
    """
    gray = np.ascontiguousarray(gray)
    return (contrast_image(gray) > contrast_level(gray)).view(np.uint8)


def su(gray: np.ndarray, window: int = 9, min_n: int = 9, deviation_weight: float = 0.5) -> np.ndarray:
    """Su binarization: ink where N_e >= N_min and I <= E_mean + E_std / 2 over the window's high-contrast
    pixels (Su, Lu & Tan 2010).

    The high-contrast pixels (stroke edges) are Otsu's threshold on the local contrast
    (max - min) / (max + min + eps) of 3 x 3 neighbourhoods (:func:`high_contrast_mask`); N_e counts them in
    the window, E_mean and E_std are the mean and standard deviation of their gray levels.

    ``deviation_weight`` is the paper's 1/2; DoxaPy 0.9.2 computes E_std as |sum(I - E_mean)| / sqrt(2),
    which is always 0, so it equals this rule with ``deviation_weight=0`` (for odd windows; DoxaPy widens
    an even window by one pixel, docbin keeps DoxaPy's Sauvola extent for every method).

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
        Gray image.
    window : int, optional
        Side of the square window in pixels, clipped at the image border (default 9).
    min_n : int, optional
        N_min, the least number of high-contrast pixels in the window for ink (default 9).
    deviation_weight : float, optional
        Weight of E_std (default 0.5, the paper's), applied in float32.

    Returns
    -------
    ndarray of uint8, shape (H, W)
        Binary image: ink 0 where gray <= T, background 255.

    Raises
    ------
    ParameterError
        When ``window`` squared exceeds ``MAX_EXACT_AREA`` (the int32 window sums would overflow).

    References
    ----------
    .. [1] B. Su, S. Lu, C. L. Tan, "Binarization of historical document images using the local maximum
       and minimum", Proc. 9th IAPR International Workshop on Document Analysis Systems (DAS), 2010.

    Examples
    --------
    >>> import numpy as np
    >>> page = np.full((40, 60), 200, np.uint8)
    >>> page[16:24, 10:50] = 40  # a dark stroke on light paper
    >>> binary = su(page, window=15)
    >>> binary[20, 5:15].tolist()  # across the stroke's left end
    [255, 255, 255, 255, 255, 0, 0, 0, 0, 0]
    """
    if window * window > MAX_EXACT_AREA:
        raise ParameterError(f"window {window} is too large: at most {int(np.sqrt(MAX_EXACT_AREA))}")
    gray = np.ascontiguousarray(gray)
    level = contrast_level(gray)
    out = np.empty_like(gray)
    weight = _f32(deviation_weight)
    before, after = (window - 1) // 2, window // 2

    def binarize(bounds: tuple[int, int]) -> None:
        top, bottom = bounds
        first, last = max(top - before, 0), min(bottom + after, gray.shape[0])
        contrast = np.empty((last - first, gray.shape[1]), np.uint8)
        _contrast_rows(gray, first, last, contrast)
        _su_rows(gray, contrast, first, level, window, min_n, weight, top, bottom, out)

    parallel_map(binarize, stripes(*gray.shape))
    return out
