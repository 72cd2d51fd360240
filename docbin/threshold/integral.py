"""O(N) local window statistics with box filters, streamed in horizontal stripes.

A local method looks at a ``window`` x ``window`` neighbourhood of every pixel. Its sums are taken with
OpenCV box filters (integer accumulation, so exact), which cost O(1) per pixel whatever the window size.
The window follows DoxaPy's conventions: for pixel ``(y, x)`` it spans rows ``y - (window - 1) // 2`` to
``y + window // 2`` (likewise columns) and is clipped to the image, so statistics near the border are
taken over the in-image pixels only. Images are processed in stripes of rows (each read with a halo of
``window`` rows), so memory stays at a few stripe-sized float32 buffers even for a 50 MP page.
Reference: Shafait, Keysers, Breuel, "Efficient implementation of local adaptive thresholding techniques
using integral images", DRR 2008.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import cv2
import numpy as np

from docbin.errors import ParameterError
from docbin.threads import default_threads, shared_pool

# Pixels per stripe: small enough that a stripe's buffers stay in cache (measured best on 12 MP scans).
STRIPE_PIXELS = 1 << 18
# Box sums of squares are accumulated exactly in int32 by OpenCV up to this window area.
MAX_EXACT_AREA = (2**31 - 1) // (255 * 255)


@dataclass(frozen=True)
class Stripe:
    """Rows ``[top, bottom)`` of the image with their local mean and variance (float32)."""

    top: int
    bottom: int
    gray: np.ndarray
    mean: np.ndarray
    variance: np.ndarray


# A thresholding rule maps a stripe's statistics to its threshold surface T (ink where gray <= T).
Rule = Callable[[Stripe], np.ndarray]
T = TypeVar("T")


def window_counts(length: int, window: int) -> np.ndarray:
    """Number of in-image positions covered by the clipped window along one axis (DoxaPy's extent)."""
    index = np.arange(length)
    first = np.maximum(index - (window - 1) // 2, 0)
    last = np.minimum(index + window // 2, length - 1)
    return (last - first + 1).astype(np.float64)


def stripe_bounds(height: int, width: int, window: int) -> list[tuple[int, int]]:
    """Consecutive row ranges ``[top, bottom)`` of about ``STRIPE_PIXELS`` pixels (and >= 2 windows) each."""
    rows = max(STRIPE_PIXELS // max(width, 1), 2 * window, 1)
    return [(top, min(top + rows, height)) for top in range(0, height, rows)]


def box_sum(image: np.ndarray, window: int, depth: int = cv2.CV_64F) -> np.ndarray:
    """Sum over the clipped window (zeros outside the image); OpenCV accumulates integers exactly."""
    anchor = (window - 1) // 2
    return cv2.boxFilter(
        image, depth, (window, window), anchor=(anchor, anchor), normalize=False,
        borderType=cv2.BORDER_CONSTANT,
    )


def _stripe_statistics(gray: np.ndarray, window: int, top: int, bottom: int,
                       row_counts: np.ndarray, col_counts: np.ndarray) -> Stripe:
    """Local mean E[x] and variance E[x^2] - E[x]^2 for rows ``[top, bottom)``, read with a window halo."""
    lo, hi = max(top - (window - 1) // 2, 0), min(bottom + window // 2, gray.shape[0])
    block = gray[lo:hi]
    inner = slice(top - lo, bottom - lo)
    count = np.outer(row_counts[top:bottom], col_counts)
    mean = box_sum(block, window)[inner]
    mean /= count
    mean_square = box_sum(np.square(block, dtype=np.uint16), window)[inner]
    mean_square /= count
    mean_square -= mean * mean
    # In float64 this is never negative: a nonzero variance (n Q - S^2) / n^2 is >= 1 / n^2, far above the
    # rounding error of Q / n - m^2 (~1e-11), and a zero one comes out exactly 0 (Q / n = m^2 exactly).
    variance = mean_square.astype(np.float32)
    mean = mean.astype(np.float32)
    return Stripe(top, bottom, gray[top:bottom], mean, variance)


def map_stripes(gray: np.ndarray, window: int, job: Callable[[Stripe], T]) -> list[T]:
    """Run ``job`` on the statistics of every stripe (on a thread per core; OpenCV releases the GIL)."""
    if window * window > MAX_EXACT_AREA:
        raise ParameterError(f"window {window} is too large: at most {int(np.sqrt(MAX_EXACT_AREA))}")
    height, width = gray.shape
    row_counts, col_counts = window_counts(height, window), window_counts(width, window)

    def run(bounds: tuple[int, int]) -> T:
        return job(_stripe_statistics(gray, window, *bounds, row_counts, col_counts))

    stripes = stripe_bounds(height, width, window)
    if len(stripes) == 1:
        return [run(stripes[0])]
    return list(shared_pool("threshold", default_threads()).map(run, stripes))


def ink_where_at_most(gray: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """Binary image: ink (0) where ``gray <= threshold``, background (255) elsewhere."""
    background = np.greater(gray, threshold).view(np.uint8)
    background *= 255
    return background


def threshold_surface(gray: np.ndarray, window: int, rule: Rule) -> np.ndarray:
    """The whole float32 threshold surface T of ``rule`` (for inspection or as a model input channel)."""
    out = np.empty(gray.shape, np.float32)

    def store(stripe: Stripe) -> None:
        out[stripe.top:stripe.bottom] = rule(stripe)

    map_stripes(gray, window, store)
    return out


def local_threshold(gray: np.ndarray, window: int, rule: Rule) -> np.ndarray:
    """Apply a local rule T = rule(stripe statistics) stripe by stripe; ink where gray <= T.

    Unlike ``ink_where_at_most(gray, threshold_surface(...))`` this never holds a page-sized float buffer.
    """
    out = np.empty(gray.shape, np.uint8)

    def binarize(stripe: Stripe) -> None:
        out[stripe.top:stripe.bottom] = ink_where_at_most(stripe.gray, rule(stripe))

    map_stripes(gray, window, binarize)
    return out
