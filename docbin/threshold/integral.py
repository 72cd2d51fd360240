"""Shared helpers of the local thresholds: exact window areas, row splits, threads and box sums.

The local methods take each pixel's statistics over DoxaPy's clipped window: for pixel ``(y, x)`` it spans
rows ``y - (window - 1) // 2`` to ``y + window // 2`` (likewise columns), clipped to the image.
Sauvola, Niblack, NICK, Wolf and Phansalkar take the window sums S = sum x and Q = sum x^2 from the fused
kernel of :mod:`docbin.threshold.windowed` (which replaced the OpenCV integral-image tiles this module
held), exact while the window's area is at most ``MAX_EXACT_AREA``; Su and Bernsen stream row stripes.
This module gives what they share: that limit, the row splits and the thread pool that run stripes in
parallel, box sums and the final comparison.
References: Shafait, Keysers, Breuel, "Efficient implementation of local adaptive thresholding techniques
using integral images", DRR 2008.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import cv2
import numpy as np

from docbin.threads import default_threads, shared_pool

# Largest window area: its sum of squares stays below 2^31, as in DoxaPy's int32 window sums (and the sum
# of x below 2^24, exact in float32).
MAX_EXACT_AREA = (2**31 - 1) // (255 * 255)


T = TypeVar("T")
Item = TypeVar("Item")


def split(start: int, stop: int, size: int, most: int | None = None) -> list[tuple[int, int]]:
    """``[first, last)`` ranges of about ``size`` (never a sliver), and of at most ``most``, covering ``start .. stop``.

    Parameters
    ----------
    start, stop : int
        The span to cover.
    size : int
        Wanted length of a range; the count of ranges is ``(stop - start) / size`` rounded (at least 1).
    most : int, optional
        Longest allowed range: more ranges are made when needed.

    Returns
    -------
    list of tuple of int
        Consecutive non-empty ranges of near-equal length.

    Examples
    --------
    >>> split(0, 10, 4)
    [(0, 5), (5, 10)]
    >>> split(0, 10, 4, most=2)
    [(0, 2), (2, 4), (4, 6), (6, 8), (8, 10)]
    """
    parts = max(round((stop - start) / max(size, 1)), -((start - stop) // most) if most else 1, 1)
    edges = [start + (stop - start) * part // parts for part in range(parts + 1)]
    return [(first, last) for first, last in zip(edges, edges[1:]) if last > first]


def box_sum(image: np.ndarray, window: int, depth: int = cv2.CV_64F) -> np.ndarray:
    """Sum over each pixel's clipped window (zeros outside the image); OpenCV accumulates integers exactly.

    Parameters
    ----------
    image : ndarray
        Single-channel image.
    window : int
        Window side, anchored as DoxaPy does (``(window - 1) // 2`` before the pixel).
    depth : int, optional
        OpenCV depth of the result (``cv2.CV_64F`` by default).

    Returns
    -------
    ndarray, shape of ``image``
        The window sums.

    Examples
    --------
    >>> import numpy as np
    >>> box_sum(np.ones((3, 3), np.uint8), 3)
    array([[4., 6., 4.],
           [6., 9., 6.],
           [4., 6., 4.]])
    """
    anchor = (window - 1) // 2
    return cv2.boxFilter(
        image, depth, (window, window), anchor=(anchor, anchor), normalize=False,
        borderType=cv2.BORDER_CONSTANT,
    )


def parallel_map(job: Callable[[Item], T], items: list[Item]) -> list[T]:
    """``[job(item) for item in items]`` on a thread per core (``$DOCBIN_THREADS``); OpenCV releases the GIL.

    Parameters
    ----------
    job : callable
        Applied to each item.
    items : list
        The inputs; with a single item, or a single thread, the jobs run in the calling thread.

    Returns
    -------
    list
        The results, in the order of ``items``.

    Examples
    --------
    >>> parallel_map(lambda x: x * x, [1, 2, 3])
    [1, 4, 9]
    """
    threads = default_threads()
    if len(items) == 1 or threads == 1:
        return [job(item) for item in items]
    return list(shared_pool("threshold", threads).map(job, items))


def ink_where_at_most(gray: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """Binary image: ink (0) where ``gray <= threshold``, background (255) elsewhere.

    Parameters
    ----------
    gray : ndarray of uint8
        The image.
    threshold : ndarray or scalar
        Threshold surface T, broadcastable to ``gray``.

    Returns
    -------
    ndarray of uint8
        0 where ``gray <= threshold``, else 255.

    Examples
    --------
    >>> import numpy as np
    >>> ink_where_at_most(np.array([[10, 50, 100]], np.uint8), np.float32(50))
    array([[  0,   0, 255]], dtype=uint8)
    """
    background = np.greater(gray, threshold).view(np.uint8)
    background *= 255
    return background
