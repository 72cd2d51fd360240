"""Set means of per-page DIBCO metrics: the one averaging rule of ``docbin evaluate``, ``docbin benchmark`` and
model validation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from docbin.metrics.basic import PSNR_CAP


def mean_scores(rows: Sequence[Mapping[str, Any]], keys: Iterable[str]) -> dict[str, float | None]:
    """Mean of each metric in ``keys`` over the per-page results ``rows`` of :func:`docbin.metrics.evaluate`.

    mean_k = sum_{pages where k is defined} value_k / their count. An infinite PSNR (``None`` with
    ``psnr_infinite``) counts as :data:`PSNR_CAP` dB, as DIBCO averages need a number; any other ``None`` (DRD
    and Avg-Score where ``drd_undefined``) is left out of its mean, which is ``None`` when no page defines it.
    So every mean is finite or ``None``, never ``inf`` or ``nan``.

    Parameters
    ----------
    rows : sequence of mappings
        Per-page metrics, each holding every key of ``keys``.
    keys : iterable of str
        The metrics to average, e.g. ``("fm", "psnr", "drd")``.

    Returns
    -------
    dict
        Metric name to its mean (``None``: undefined on every page).

    Examples
    --------
    >>> mean_scores([{"psnr": None, "drd": 1.0}, {"psnr": 20.0, "drd": None}], ["psnr", "drd"])
    {'psnr': 60.0, 'drd': 1.0}
    """
    means: dict[str, float | None] = {}
    for key in keys:
        values = [PSNR_CAP if r[key] is None and key == "psnr" else r[key] for r in rows]
        defined = [v for v in values if v is not None]
        means[key] = sum(defined) / len(defined) if defined else None
    return means
