"""Self-contained HTML evaluation report: per page the scan, the prediction and an error map beside its
metrics, in a table sortable by any column."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

THUMB_WIDTH = 360
FALSE_INK = (220, 30, 30)  # red: predicted ink where the GT has background
MISSED_INK = (30, 90, 230)  # blue: GT ink the prediction missed


@dataclass(frozen=True)
class ReportPage:
    """One report row: a page's metrics and its scan, prediction and error map as PNG thumbnails.

    Small enough to pass between processes.

    Attributes
    ----------
    name : str
        The page's name.
    metrics : dict
        Its metric values, by column name.
    thumbnails : (str or None, str, str)
        Data URIs of the scan (None without one), the prediction and the :func:`error_map`.
    """

    name: str
    metrics: dict[str, Any]
    thumbnails: tuple[str | None, str, str]

    @classmethod
    def of(cls, name: str, metrics: dict[str, Any], prediction: np.ndarray, ground_truth: np.ndarray,
           scan: np.ndarray | None = None) -> ReportPage:
        """The row of a gray prediction and GT (ink < 128) and the optional scan.

        Parameters
        ----------
        name : str
            The page's name.
        metrics : dict
            Its metric values.
        prediction, ground_truth : ndarray of uint8, shape (H, W)
            Gray images, ink below 128.
        scan : ndarray of uint8, optional
            The scan, gray or RGB.

        Returns
        -------
        ReportPage
            The row, images downscaled to ``THUMB_WIDTH`` at most.
        """
        errors = error_map(prediction < 128, ground_truth < 128)
        return cls(name, metrics, (None if scan is None else _thumbnail(scan), _thumbnail(prediction),
                                   _thumbnail(errors)))


def error_map(pred_ink: np.ndarray, gt_ink: np.ndarray) -> np.ndarray:
    """RGB error map of a prediction: correct ink black, false ink red, missed ink blue, background white.

    Parameters
    ----------
    pred_ink, gt_ink : ndarray of bool, shape (H, W)
        Ink masks of the prediction and the ground truth.

    Returns
    -------
    ndarray of uint8, shape (H, W, 3)
        Black where both are ink, ``FALSE_INK`` where only the prediction is, ``MISSED_INK`` where only the
        GT is, white elsewhere.

    Examples
    --------
    >>> import numpy as np
    >>> error_map(np.array([[True, True, False, False]]), np.array([[True, False, True, False]])).tolist()
    [[[0, 0, 0], [220, 30, 30], [30, 90, 230], [255, 255, 255]]]
    """
    out = np.full((*gt_ink.shape, 3), 255, np.uint8)
    out[pred_ink & gt_ink] = 0
    out[pred_ink & ~gt_ink] = FALSE_INK
    out[~pred_ink & gt_ink] = MISSED_INK
    return out


def _thumbnail(image: np.ndarray) -> str:
    """A downscaled PNG data URI (RGB or gray input)."""
    h, w = image.shape[:2]
    scale = min(1.0, THUMB_WIDTH / w)
    small = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    if small.ndim == 3:
        small = cv2.cvtColor(small, cv2.COLOR_RGB2BGR)
    ok, png = cv2.imencode(".png", small)
    return "data:image/png;base64," + base64.b64encode(png.tobytes()).decode()


def _cell(metrics: dict[str, Any], column: str) -> str:
    """A metric's cell, its number in ``data-v`` for sorting. ``None`` is an infinite value (``<column>_infinite``,
    e.g. a perfect page's PSNR: shown as the symbol, sorted above every number) or an undefined one (n/a, no
    ``data-v``: sorted last)."""
    value = metrics.get(column)
    if value is None:
        return '<td data-v="1e308">&infin;</td>' if metrics.get(f"{column}_infinite") else "<td>n/a</td>"
    return f'<td data-v="{value}">{value:.3f}</td>' if isinstance(value, float) else f"<td>{html.escape(str(value))}</td>"


SORT_SCRIPT = """
document.querySelectorAll('th').forEach((th, col) => th.addEventListener('click', () => {
  const body = th.closest('table').tBodies[0];
  const dir = th.dataset.dir = th.dataset.dir === 'asc' ? 'desc' : 'asc';
  const key = (row) => { const c = row.cells[col]; return c.dataset.v !== undefined ? parseFloat(c.dataset.v) : c.textContent; };
  const na = (row) => row.cells[col].textContent === 'n/a';  // undefined values last in either direction
  [...body.rows].sort((a, b) => na(a) - na(b) ||
      (key(a) > key(b) ? 1 : key(a) < key(b) ? -1 : 0) * (dir === 'asc' ? 1 : -1))
    .forEach((row) => body.append(row));
}));
"""


def render_report(pages: Sequence[ReportPage], columns: Sequence[str], title: str) -> str:
    """The whole report as one self-contained HTML document (images embedded, columns sortable).

    Parameters
    ----------
    pages : sequence of ReportPage
        The rows, in the order shown.
    columns : sequence of str
        Metric names, one column each, from each page's ``metrics`` (a missing or ``None`` value shows as
        n/a, or as infinity when ``<column>_infinite`` is true).
    title : str
        Page title and heading (escaped).

    Returns
    -------
    str
        The HTML document.

    Examples
    --------
    >>> import numpy as np
    >>> gt = np.full((4, 4), 255, np.uint8)
    >>> gt[1:3, 1:3] = 0
    >>> row = ReportPage.of("p1", {"fm": 97.5}, gt, gt)
    >>> html_text = render_report([row], ["fm"], "demo")
    >>> html_text.startswith("<!doctype html>"), '<td data-v="97.5">97.500</td>' in html_text
    (True, True)
    """
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ("page", *columns, "scan", "prediction", "errors"))
    rows = []
    for page in pages:
        thumbs = "".join(
            f'<td><img src="{uri}" loading="lazy"></td>' if uri is not None else "<td>-</td>" for uri in page.thumbnails
        )
        cells = "".join(_cell(page.metrics, c) for c in columns)
        rows.append(f"<tr><td>{html.escape(page.name)}</td>{cells}{thumbs}</tr>")
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:1rem}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.3rem;vertical-align:top;font-size:.85rem}}th{{cursor:pointer;background:#eee}}
img{{width:{THUMB_WIDTH // 1.5:.0f}px;display:block}}.key span{{padding:0 .4rem}}</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="key">Error map: <span style="background:#000;color:#fff">correct ink</span>
<span style="background:rgb{FALSE_INK};color:#fff">false ink</span>
<span style="background:rgb{MISSED_INK};color:#fff">missed ink</span>. Click a column header to sort.</p>
<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>
<script>{SORT_SCRIPT}</script></body></html>"""
