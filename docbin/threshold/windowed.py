"""Sauvola, Niblack, NICK and Wolf in one compiled pass per row: window sums and the rule fused.

The window sums S = sum x and Q = sum x^2 over DoxaPy's clipped window are running sums, exact in
integers: per column over the window's rows (one row added, one dropped per output row), then along the
row (the column entering the window added, the one leaving it dropped). S and Q travel packed in one int64,
(Q << 32) + S: every window's S < 2^24 and Q < 2^31 (its area is at most ``MAX_EXACT_AREA``), so sums and
differences of packed values are the packed sums and differences, without carries between the halves, and
one integer chain along the row carries both sums. The column sums are padded with zeros on both sides, so
the row's running sum needs no border test; a row is processed in chunks of ``CHUNK_COLUMNS`` columns, whose
window sums and thresholds stay in the L1 cache. From the sums the mean S / n (float32), the variance
(n Q - S^2) / n^2 (an exact integer in double, rounded once to float32) and the mean square Q / n are
formed, and the rule is applied in the same float32 operations (with the same fused multiply-adds) as the
OpenCV integral-image tile code these rules ran on before (``bench/windowed.py`` compares the two), so the
binary image is bit for bit that code's, without any page- or tile-sized float buffer: memory is a few rows
per thread. Wolf's first pass, the largest variance, divides only the largest numerator n Q - S^2 (an exact
int64) of each run of equal window areas n: rounding x -> x / n^2 is monotone, so that is the largest
quotient. Phansalkar's rule (its exp is OpenCV's) gets the mean and standard deviation, rounded as the tile
code rounded them, block by block from :func:`map_statistics`. Numba compiles the kernel once per machine
(``cache=True``); later processes load it from the cache.
References: Shafait, Keysers, Breuel, "Efficient implementation of local adaptive thresholding techniques
using integral images", DRR 2008 (O(1) window statistics per pixel).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from docbin.errors import ParameterError
from docbin.threads import default_threads
from docbin.threshold.integral import MAX_EXACT_AREA, parallel_map, split

# Rules (the kernel's ``rule`` argument); LARGEST_VARIANCE, Wolf's first pass; MEAN_DEVIATION, the mean and
# standard deviation (the statistics of Phansalkar's rule, whose exp is OpenCV's).
SAUVOLA, NIBLACK, NICK, WOLF, LARGEST_VARIANCE, MEAN_DEVIATION = range(6)
# Rows per stripe when several threads share a page: enough stripes to balance the threads, each long
# enough that starting its column sums (window rows) stays a small share of its work.
STRIPE_ROWS = 512
# Rows per block of map_statistics: its planes stay near the core (L2 / L3); each block restarts the column
# sums (window rows added).
BLOCK_ROWS = 64
# Columns per chunk of a row: a chunk's window sums (int64) and thresholds (float32) stay in the L1 cache.
CHUNK_COLUMNS = 1024
# The low half of a packed sum (Q << 32) + S: S.
LOW = np.int64(0xFFFFFFFF)

_f32 = np.float32


@intrinsic
def _fma(typingctx, a, b, c):  # type: ignore[no-untyped-def]
    """a * b + c in float32, rounded once (LLVM's fma), as OpenCV's scaleAdd and addWeighted compute it."""
    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.fma(*args)

    return types.float32(types.float32, types.float32, types.float32), codegen


@njit(cache=True, nogil=True)
def _extent(index: int, length: int, before: int, after: int) -> int:
    """Positions of ``[index - before, index + after]`` inside ``[0, length)`` (the clipped window)."""
    return min(index + after, length - 1) - max(index - before, 0) + 1


@njit(cache=True, nogil=True)
def _slide_columns(added: np.ndarray, dropped: np.ndarray, columns: np.ndarray) -> None:
    """Packed column sums (Q << 32) + S gain row ``added`` and lose row ``dropped`` (zeros where there is none)."""
    for x in range(added.shape[0]):
        a, d = np.int64(added[x]), np.int64(dropped[x])
        columns[x] += ((a * a - d * d) << 32) + (a - d)


@njit(cache=True, nogil=True)
def _row_sums(entering: np.ndarray, leaving: np.ndarray, running: int, sums: np.ndarray) -> int:
    """Packed window sums along the row into ``sums``: each is the one before (``running``, the sum left of
    the first) plus the column entering the window minus the column leaving it; returns the last."""
    for x in range(sums.shape[0]):
        running += entering[x] - leaving[x]
        sums[x] = running
    return running


@njit(cache=True, nogil=True)
def _deviation(total: float, packed: int, n: float, inv_n2: float) -> np.float32:
    """s = sqrt(f32((n Q - S^2) * (1 / n^2))) of a packed window sum whose S is ``total``: n Q - S^2 is an
    exact integer in double (below 2^53), rounded once to float32 after the product."""
    return np.sqrt(_f32((n * np.float64(packed >> 32) - total * total) * inv_n2))


@njit(cache=True, nogil=True, error_model="numpy")
def _rule_row(rule: int, params: np.ndarray, sums: np.ndarray, n: np.ndarray, n32: np.ndarray,
              inv_n: np.ndarray, inv_n2: np.ndarray, t: np.ndarray, second: np.ndarray) -> None:
    """Threshold T into ``t`` from packed window sums (Q << 32) + S and their areas n (with 1 / n, 1 / n^2);
    for MEAN_DEVIATION the mean m into ``t`` and the standard deviation s into ``second``.

    m = f32(S) / f32(n); var = f32((n Q - S^2) * (1 / n^2)); E[x^2] = f32(Q * (1 / n)); then each step of
    the rule rounded as its OpenCV call rounds it (``_fma``: scaleAdd, addWeighted; the rest one float32
    operation each). error_model="numpy" keeps the loops free of Python's division check (they vectorize).
    """
    width = sums.shape[0]
    if rule == SAUVOLA:  # T = m * (1 - k) + (k / R * s) * m
        scale, keep = _f32(params[0] / params[1]), _f32(1.0 - params[0])
        for x in range(width):
            total = np.float64(sums[x] & LOW)
            mean = _f32(total) / n32[x]
            deviation = _deviation(total, sums[x], n[x], inv_n2[x])
            t[x] = _fma(mean, keep, (scale * deviation) * mean)
    elif rule == NIBLACK:  # T = s * k + m
        k = _f32(params[0])
        for x in range(width):
            total = np.float64(sums[x] & LOW)
            mean = _f32(total) / n32[x]
            t[x] = _fma(_deviation(total, sums[x], n[x], inv_n2[x]), k, mean)
    elif rule == NICK:  # T = sqrt(E[x^2]) * k + m
        k = _f32(params[0])
        for x in range(width):
            mean = _f32(np.float64(sums[x] & LOW)) / n32[x]
            t[x] = _fma(np.sqrt(_f32(np.float64(sums[x] >> 32) * inv_n[x])), k, mean)
    elif rule == WOLF:  # T = (s * k / max s - k) * (m - min I) + m
        weight, shift, darkest = _f32(params[0] / params[1]), _f32(-params[0]), _f32(params[2])
        for x in range(width):
            total = np.float64(sums[x] & LOW)
            mean = _f32(total) / n32[x]
            deviation = _deviation(total, sums[x], n[x], inv_n2[x])
            t[x] = _fma(deviation, weight, shift) * (mean - darkest) + mean
    elif rule == MEAN_DEVIATION:
        for x in range(width):
            total = np.float64(sums[x] & LOW)
            t[x] = _f32(total) / n32[x]
            second[x] = _deviation(total, sums[x], n[x], inv_n2[x])


@njit(cache=True, nogil=True)
def _divided_spread(sums: np.ndarray, n: np.ndarray) -> float:
    """max (n Q - S^2) / n^2 over packed window sums, in double, one division a column."""
    largest = 0.0
    for x in range(sums.shape[0]):
        total = np.float64(sums[x] & LOW)
        largest = max(largest, (n[x] * np.float64(sums[x] >> 32) - total * total) / (n[x] * n[x]))
    return largest


@njit(cache=True, nogil=True)
def _largest_spread(sums: np.ndarray, n: np.ndarray, flat_from: int, flat_to: int) -> float:
    """max (n Q - S^2) / n^2 over packed window sums, in double. In ``[flat_from, flat_to)``, where n is one
    value, only the largest numerator (an exact int64) is divided: x -> x / n^2 rounds monotonically."""
    largest = max(_divided_spread(sums[:flat_from], n[:flat_from]), _divided_spread(sums[flat_to:], n[flat_to:]))
    if flat_to > flat_from:
        area, spread = np.int64(n[flat_from]), np.int64(0)
        for x in range(flat_from, flat_to):
            total = sums[x] & LOW
            spread = max(spread, area * (sums[x] >> 32) - total * total)
        largest = max(largest, spread / (n[flat_from] * n[flat_from]))
    return largest


@njit(cache=True, nogil=True)
def _ink(gray: np.ndarray, t: np.ndarray, binary: np.ndarray) -> None:
    """0 (ink) where gray <= T, else 255."""
    for x in range(gray.shape[0]):
        binary[x] = 0 if _f32(gray[x]) <= t[x] else 255


@njit(cache=True, nogil=True)
def _stripe(gray: np.ndarray, window: int, top: int, bottom: int, rule: int, params: np.ndarray, chunk: int,
            binary: np.ndarray, planes: np.ndarray) -> float:
    """Rows ``[top, bottom)``: ink (0) where gray <= T into ``binary`` (rows from 0), or, where ``planes``
    has any, T (or m and s for MEAN_DEVIATION) into them; returns the largest variance for LARGEST_VARIANCE."""
    height, width = gray.shape
    before, after = (window - 1) // 2, window // 2
    # Packed column sums, column x at x + before + 1 between zeros: the window of x enters column
    # x + window and leaves column x of this array, never past its ends.
    columns = np.zeros(width + window, np.int64)
    inside = columns[before + 1:before + 1 + width]
    zeros = np.zeros(width, np.uint8)
    for y in range(max(top - before, 0), min(top + after, height - 1) + 1):
        _slide_columns(gray[y], zeros, inside)
    cols = np.empty(width, np.float64)
    for x in range(width):
        cols[x] = _extent(x, width, before, after)
    flat_from = min(before, width)  # columns [flat_from, flat_to) have whole windows: cols == window
    flat_to = max(width - after, flat_from)
    chunk = min(chunk, width)
    sums, t = np.empty(chunk, np.int64), np.empty((2, chunk), np.float32)
    n, n32 = np.empty(width, np.float64), np.empty(width, np.float32)
    inv_n, inv_n2 = np.empty(width, np.float64), np.empty(width, np.float64)
    rows_before, largest = -1.0, 0.0
    for y in range(top, bottom):
        if y > top:
            _slide_columns(gray[y + after] if y + after < height else zeros,
                           gray[y - before - 1] if y > before else zeros, inside)
        rows = np.float64(_extent(y, height, before, after))
        if rows != rows_before:  # window areas n change only in the top and bottom border rows
            for x in range(width):
                n[x] = rows * cols[x]
                n32[x] = n[x]
                inv_n[x] = 1.0 / n[x]
                inv_n2[x] = 1.0 / (n[x] * n[x])
            rows_before = rows
        running = np.int64(0)
        for x in range(min(after, width)):
            running += inside[x]
        for start in range(0, width, chunk):
            stop = min(start + chunk, width)
            part = sums[:stop - start]
            running = _row_sums(columns[start + window:stop + window], columns[start:stop], running, part)
            if rule == LARGEST_VARIANCE:
                spread = _largest_spread(part, n[start:stop], min(max(flat_from - start, 0), stop - start),
                                         min(max(flat_to - start, 0), stop - start))
                largest = max(largest, spread)
                continue
            _rule_row(rule, params, part, n[start:stop], n32[start:stop], inv_n[start:stop], inv_n2[start:stop],
                      t[0], t[1])
            if planes.shape[0]:
                planes[:, y - top, start:stop] = t[:planes.shape[0], :stop - start]
            else:
                _ink(gray[y, start:stop], t[0], binary[y - top, start:stop])
    return largest


def _check_window(window: int) -> None:
    if window * window > MAX_EXACT_AREA:
        raise ParameterError(f"window {window} is too large: at most {int(np.sqrt(MAX_EXACT_AREA))}")


def _stripes(gray: np.ndarray, window: int, rule: int, params: tuple[float, ...], surface: bool
             ) -> tuple[np.ndarray, float]:
    """Run the kernel on row stripes (a thread each, $DOCBIN_THREADS); the binary image or the float32
    surface T, and the largest variance (LARGEST_VARIANCE)."""
    _check_window(window)
    height, width = gray.shape
    out = np.empty((1, height, width) if surface else gray.shape, np.float32 if surface else np.uint8)
    if out.size == 0:
        return out.reshape(gray.shape), 0.0
    threads = default_threads()
    stripes = [(0, height)] if threads == 1 else split(0, height, STRIPE_ROWS)
    values = np.asarray(params, np.float64)
    no_planes = np.empty((0, 0, width), np.float32)
    no_binary = np.empty((0, width), np.uint8)

    def run(bounds: tuple[int, int]) -> float:
        top, bottom = bounds
        binary, planes = (no_binary, out[:, top:bottom]) if surface else (out[top:bottom], no_planes)
        return _stripe(gray, window, top, bottom, rule, values, CHUNK_COLUMNS, binary, planes)

    return out.reshape(gray.shape), max(parallel_map(run, stripes))


def map_statistics(gray: np.ndarray, window: int,
                   job: Callable[[int, np.ndarray, np.ndarray, np.ndarray], None]) -> None:
    """Call ``job(top, mean, deviation, spare)`` for every block of ``BLOCK_ROWS`` rows from ``top`` (row
    stripes on a thread each, $DOCBIN_THREADS): mean m and standard deviation s over the clipped window.

    m = f32(S) / f32(n) and s = sqrt(f32((n Q - S^2) * (1 / n^2))), as the OpenCV tile code computed them,
    float32 arrays of shape (rows, W); ``spare``, shape (2, rows, W), is float32 scratch for the job. All
    three are the stripe's buffers, reused for its next block once ``job`` returns.

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
        The image (C-contiguous).
    window : int
        Window side (DoxaPy's clipped window).
    job : callable
        Receives the block's first row and its m and s.

    Raises
    ------
    ParameterError
        When ``window`` squared exceeds ``MAX_EXACT_AREA`` (the window sums would not be exact).

    Examples
    --------
    >>> import numpy as np
    >>> gray = np.array([[0, 3], [0, 3]], np.uint8)
    >>> map_statistics(gray, 3, lambda top, mean, deviation, spare: print(top, mean[0], deviation[0]))
    0 [1.5 1.5] [1.5 1.5]
    """
    _check_window(window)
    height, width = gray.shape
    if gray.size == 0:
        return
    threads = default_threads()
    stripes = [(0, height)] if threads == 1 else split(0, height, STRIPE_ROWS)
    no_binary, no_params = np.empty((0, width), np.uint8), np.empty(0, np.float64)

    def run(bounds: tuple[int, int]) -> None:
        planes = np.empty((4, min(BLOCK_ROWS, bounds[1] - bounds[0]), width), np.float32)
        for top in range(*bounds, BLOCK_ROWS):
            bottom = min(top + BLOCK_ROWS, bounds[1])
            if bottom - top < planes.shape[1]:
                planes = np.empty((4, bottom - top, width), np.float32)
            _stripe(gray, window, top, bottom, MEAN_DEVIATION, no_params, CHUNK_COLUMNS, no_binary, planes[:2])
            job(top, planes[0], planes[1], planes[2:])

    parallel_map(run, stripes)


def windowed_threshold(gray: np.ndarray, window: int, rule: int, params: tuple[float, ...]) -> np.ndarray:
    """Binary image of a local rule from the fused kernel: ink (0) where gray <= T, background 255.

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
        The image.
    window : int
        Window side (DoxaPy's clipped window).
    rule : int
        ``SAUVOLA``, ``NIBLACK``, ``NICK`` or ``WOLF``.
    params : tuple of float
        The rule's parameters: SAUVOLA (k, R); NIBLACK and NICK (k,); WOLF (k, max s, min I).

    Returns
    -------
    ndarray of uint8, shape (H, W)
        The binary image, bit for bit that of the OpenCV tile code these rules ran on before.

    Raises
    ------
    ParameterError
        When ``window`` squared exceeds ``MAX_EXACT_AREA`` (the window sums would not be exact).

    References
    ----------
    .. [1] F. Shafait, D. Keysers, T. M. Breuel, "Efficient implementation of local adaptive thresholding
       techniques using integral images", Document Recognition and Retrieval XV (DRR), SPIE 6815, 2008.
    .. [2] J. Sauvola, M. Pietikainen, "Adaptive document image binarization", Pattern Recognition 33(2),
       2000.

    Examples
    --------
    >>> import numpy as np
    >>> gray = np.full((5, 5), 200, np.uint8)
    >>> gray[2, 2] = 0
    >>> windowed_threshold(gray, 3, SAUVOLA, (0.2, 128.0))[1:4, 1:4]
    array([[255, 255, 255],
           [255,   0, 255],
           [255, 255, 255]], dtype=uint8)
    """
    return _stripes(np.ascontiguousarray(gray), window, rule, params, surface=False)[0]


def threshold_surface(gray: np.ndarray, window: int, rule: int, params: tuple[float, ...]) -> np.ndarray:
    """The float32 threshold surface T of a local rule (for inspection and the tests against other libraries).

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
        The image.
    window : int
        Window side (DoxaPy's clipped window).
    rule : int
        ``SAUVOLA``, ``NIBLACK``, ``NICK`` or ``WOLF``.
    params : tuple of float
        The rule's parameters: SAUVOLA (k, R); NIBLACK and NICK (k,); WOLF (k, max s, min I).

    Returns
    -------
    ndarray of float32, shape (H, W)
        T per pixel, as the kernel computes it for :func:`windowed_threshold`.

    Raises
    ------
    ParameterError
        When ``window`` squared exceeds ``MAX_EXACT_AREA`` (the window sums would not be exact).

    References
    ----------
    .. [1] F. Shafait, D. Keysers, T. M. Breuel, "Efficient implementation of local adaptive thresholding
       techniques using integral images", Document Recognition and Retrieval XV (DRR), SPIE 6815, 2008.
    .. [2] J. Sauvola, M. Pietikainen, "Adaptive document image binarization", Pattern Recognition 33(2),
       2000.

    Examples
    --------
    Sauvola's T = m (1 + k (s / R - 1)) is 0.8 m on a flat page:

    >>> import numpy as np
    >>> threshold_surface(np.full((3, 4), 200, np.uint8), 3, SAUVOLA, (0.2, 128.0))
    array([[160., 160., 160., 160.],
           [160., 160., 160., 160.],
           [160., 160., 160., 160.]], dtype=float32)
    """
    return _stripes(np.ascontiguousarray(gray), window, rule, params, surface=True)[0]


def largest_variance(gray: np.ndarray, window: int) -> float:
    """The largest local variance of the image, in double (Wolf's max s is its square root).

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
        The image.
    window : int
        Window side (DoxaPy's clipped window).

    Returns
    -------
    float
        max over pixels of (n Q - S^2) / n^2; 0.0 for an empty image.

    Raises
    ------
    ParameterError
        When ``window`` squared exceeds ``MAX_EXACT_AREA`` (the window sums would not be exact).

    References
    ----------
    .. [1] C. Wolf, J.-M. Jolion, "Extraction and recognition of artificial text in multimedia documents",
       Pattern Analysis and Applications 6(4), 2003.

    Examples
    --------
    >>> import numpy as np
    >>> gray = np.full((3, 3), 90, np.uint8)
    >>> gray[1, 1] = 0  # corner windows hold it once in 4 pixels: var = 90^2 * 3 / 16
    >>> largest_variance(gray, 3)
    1518.75
    """
    return _stripes(np.ascontiguousarray(gray), window, LARGEST_VARIANCE, (), surface=False)[1]
