"""Stress metrics: how much of a binarization's error comes from each failure mode of unseen archives.

Each takes the predicted ink mask (``True`` = ink) and a region mask, and returns a share in [0, 1] (or
``None`` when the region is empty, so a page without the mode does not count as perfect):

- :func:`surround_false_ink`: ink predicted outside the page (scanner bed, cloth, book edges), per surround pixel;
- :func:`faint_recall`: recall on ink laid at low contrast;
- :func:`mark_false_ink`: ink predicted on seals, tide lines and foxing, per mark pixel;
- :func:`bleed_false_ink`: ink predicted on the reverse side's text showing through, per bleed pixel;
- :func:`far_false_ink`: the share of predicted ink lying farther than ``reach`` pixels from any GT ink, which
  needs no region and so also scores real pages (solid surrounds and stains are far from text; a thick or
  noisy stroke is not).

All are 0-1 shares; docbin prints them as percentages.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["bleed_false_ink", "far_false_ink", "faint_recall", "mark_false_ink", "stress_scores", "surround_false_ink", "STRESS_METRICS"]


def _share(pred_ink: np.ndarray, region: np.ndarray) -> float | None:
    """Mean of ``pred_ink`` over ``region``; ``None`` for an empty region."""
    count = int(np.count_nonzero(region))
    return None if count == 0 else int(np.count_nonzero(pred_ink & region)) / count


def surround_false_ink(pred_ink: np.ndarray, page_region: np.ndarray) -> float | None:
    """Share of the surround (pixels outside ``page_region``) predicted as ink."""
    return _share(pred_ink, ~page_region)


def faint_recall(pred_ink: np.ndarray, faint_ink: np.ndarray) -> float | None:
    """Share of the faint GT ink pixels ``faint_ink`` predicted as ink."""
    return _share(pred_ink, faint_ink)


def mark_false_ink(pred_ink: np.ndarray, marks: np.ndarray) -> float | None:
    """Share of the non-ink mark pixels ``marks`` (seals, tide lines, foxing) predicted as ink."""
    return _share(pred_ink, marks)


def bleed_false_ink(pred_ink: np.ndarray, bleed: np.ndarray) -> float | None:
    """Share of the bleed-through pixels ``bleed`` (reverse-side text, away from the GT ink) predicted as ink."""
    return _share(pred_ink, bleed)


def far_false_ink(pred_ink: np.ndarray, gt_ink: np.ndarray, reach: int = 10) -> float | None:
    """Share of the predicted ink farther than ``reach`` pixels (chessboard distance) from every GT ink pixel."""
    near = cv2.dilate(gt_ink.view(np.uint8), np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)).view(bool)
    return _share(~near, pred_ink)


# The metric each synthetic stress mode isolates: (column name, function, region key of the synthetic page).
STRESS_METRICS = {
    "surround": ("surround_false_ink", surround_false_ink, "page"),
    "faint": ("faint_recall", faint_recall, "faint"),
    "marks": ("mark_false_ink", mark_false_ink, "marks"),
    "bleed": ("bleed_false_ink", bleed_false_ink, "bleed"),
    "sharp_bleed": ("bleed_false_ink", bleed_false_ink, "bleed"),
}


def stress_scores(pred_ink: np.ndarray, gt_ink: np.ndarray, regions: dict[str, np.ndarray] | None = None,
                  mode: str | None = None) -> dict[str, float | None]:
    """``far_ink``: :func:`far_false_ink` (any page); ``mode``: the metric of :data:`STRESS_METRICS` that
    isolates a stress page's failure ``mode`` over its ``regions`` (``None`` for other pages). Shares in [0, 1]."""
    value = None
    if mode is not None and regions is not None:
        _, metric, region = STRESS_METRICS[mode]
        value = metric(pred_ink, regions[region])
    return {"far_ink": far_false_ink(pred_ink, gt_ink), "mode": value}
