"""Stress metrics: how much of a binarization's error comes from each failure mode of unseen archives.

Each takes the predicted ink mask (``True`` = ink) and a region mask, and returns a share in [0, 1] (or
``None`` when the region is empty, so a page without the mode does not count as perfect):

- :func:`surround_false_ink`: ink predicted outside the page (scanner bed, cloth, book edges), per surround pixel;
- :func:`faint_recall`: recall on ink laid at low contrast (the ``faint`` mode) or on a dark support (``dark``);
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
    """Share of the surround (pixels outside ``page_region``) predicted as ink.

    Parameters
    ----------
    pred_ink : ndarray of bool, shape (H, W)
        Predicted ink mask (True = ink).
    page_region : ndarray of bool, shape (H, W)
        True on the page; the surround is its complement (scanner bed, cloth, book edges).

    Returns
    -------
    float or None
        Predicted ink pixels outside the page over all pixels outside it, in [0, 1] (0 is best);
        ``None`` when the surround is empty.

    Examples
    --------
    >>> import numpy as np
    >>> pred = np.zeros((4, 4), bool)
    >>> pred[0, 0] = pred[1, 1] = True
    >>> page = np.zeros((4, 4), bool)
    >>> page[1:, 1:] = True  # 7 surround pixels, one of them predicted ink
    >>> round(surround_false_ink(pred, page), 4)
    0.1429
    """
    return _share(pred_ink, ~page_region)


def faint_recall(pred_ink: np.ndarray, faint_ink: np.ndarray) -> float | None:
    """Share of the faint GT ink pixels ``faint_ink`` predicted as ink.

    Parameters
    ----------
    pred_ink : ndarray of bool, shape (H, W)
        Predicted ink mask (True = ink).
    faint_ink : ndarray of bool, shape (H, W)
        GT ink laid at low contrast.

    Returns
    -------
    float or None
        Recall on the faint ink, in [0, 1] (1 is best);
        ``None`` when ``faint_ink`` is empty.

    Examples
    --------
    >>> import numpy as np
    >>> faint = np.zeros((2, 4), bool)
    >>> faint[0] = True
    >>> pred = np.zeros((2, 4), bool)
    >>> pred[0, :3] = True
    >>> faint_recall(pred, faint)
    0.75
    >>> faint_recall(pred, np.zeros((2, 4), bool)) is None
    True
    """
    return _share(pred_ink, faint_ink)


def mark_false_ink(pred_ink: np.ndarray, marks: np.ndarray) -> float | None:
    """Share of the non-ink mark pixels ``marks`` (seals, tide lines, foxing) predicted as ink.

    Parameters
    ----------
    pred_ink : ndarray of bool, shape (H, W)
        Predicted ink mask (True = ink).
    marks : ndarray of bool, shape (H, W)
        Pixels of marks that are not ink (seals, tide lines, foxing).

    Returns
    -------
    float or None
        Predicted ink over mark pixels, in [0, 1] (0 is best);
        ``None`` when ``marks`` is empty.
    """
    return _share(pred_ink, marks)


def bleed_false_ink(pred_ink: np.ndarray, bleed: np.ndarray) -> float | None:
    """Share of the bleed-through pixels ``bleed`` (reverse-side text, away from the GT ink) predicted as ink.

    Parameters
    ----------
    pred_ink : ndarray of bool, shape (H, W)
        Predicted ink mask (True = ink).
    bleed : ndarray of bool, shape (H, W)
        Pixels of the reverse side's text showing through, away from the GT ink.

    Returns
    -------
    float or None
        Predicted ink over bleed pixels, in [0, 1] (0 is best);
        ``None`` when ``bleed`` is empty.
    """
    return _share(pred_ink, bleed)


def far_false_ink(pred_ink: np.ndarray, gt_ink: np.ndarray, reach: int = 10) -> float | None:
    """Share of the predicted ink farther than ``reach`` pixels (chessboard distance) from every GT ink pixel.

    Needs no region, so it also scores real pages: solid surrounds and stains lie far from text, a thick or
    noisy stroke does not.

    Parameters
    ----------
    pred_ink, gt_ink : ndarray of bool, shape (H, W)
        Ink masks of the prediction and the ground truth.
    reach : int, optional
        Chessboard distance (pixels) from the GT ink within which predicted ink does not count.

    Returns
    -------
    float or None
        Predicted ink pixels outside the GT ink dilated by a (2 reach + 1)-square, over all predicted ink
        pixels, in [0, 1] (0 is best); ``None`` when nothing is predicted ink.

    Examples
    --------
    >>> import numpy as np
    >>> gt = np.zeros((20, 20), bool)
    >>> gt[1, 1] = True
    >>> pred = gt.copy()
    >>> pred[18, 18] = True  # 17 pixels from the GT ink
    >>> far_false_ink(pred, gt, reach=2)
    0.5
    """
    near = cv2.dilate(gt_ink.view(np.uint8), np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)).view(bool)
    return _share(~near, pred_ink)


# The metric each synthetic stress mode isolates: (column name, function, region key of the synthetic page).
STRESS_METRICS = {
    "surround": ("surround_false_ink", surround_false_ink, "page"),
    "faint": ("faint_recall", faint_recall, "faint"),
    "marks": ("mark_false_ink", mark_false_ink, "marks"),
    "bleed": ("bleed_false_ink", bleed_false_ink, "bleed"),
    "sharp_bleed": ("bleed_false_ink", bleed_false_ink, "bleed"),
    "dark": ("dark_recall", faint_recall, "dark"),
}


def stress_scores(pred_ink: np.ndarray, gt_ink: np.ndarray, regions: dict[str, np.ndarray] | None = None,
                  mode: str | None = None) -> dict[str, float | None]:
    """Stress scores of one page: far-from-text false ink, and the metric of the page's stress mode.

    Parameters
    ----------
    pred_ink, gt_ink : ndarray of bool, shape (H, W)
        Ink masks of the prediction and the ground truth.
    regions : dict of str to ndarray of bool, optional
        Region masks of a synthetic stress page, keyed as the third field of :data:`STRESS_METRICS`
        (``"page"``, ``"faint"``, ``"marks"``, ``"bleed"``).
    mode : str, optional
        The page's stress mode, a key of :data:`STRESS_METRICS`; ``None`` for other pages.

    Returns
    -------
    dict
        ``"far_ink"``: :func:`far_false_ink` (any page); ``"mode"``: the metric of :data:`STRESS_METRICS` for
        ``mode`` over its region, or ``None`` when ``mode`` or ``regions`` is ``None``. Shares in [0, 1].

    Raises
    ------
    KeyError
        When ``mode`` is not in :data:`STRESS_METRICS` or ``regions`` lacks its region.

    Examples
    --------
    >>> import numpy as np
    >>> gt = np.zeros((4, 4), bool)
    >>> gt[1, 1] = True
    >>> pred = gt.copy()
    >>> pred[0, 0] = True
    >>> page = np.zeros((4, 4), bool)
    >>> page[1:, 1:] = True
    >>> stress_scores(pred, gt, {"page": page}, "surround")
    {'far_ink': 0.0, 'mode': 0.14285714285714285}
    >>> stress_scores(pred, gt)
    {'far_ink': 0.0, 'mode': None}
    """
    value = None
    if mode is not None and regions is not None:
        _, metric, region = STRESS_METRICS[mode]
        value = metric(pred_ink, regions[region])
    return {"far_ink": far_false_ink(pred_ink, gt_ink), "mode": value}
