"""docbin.evaluation (the library behind ``docbin evaluate``) and the one averaging rule, mean_scores."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from docbin.errors import ParameterError, ShapeMismatchError
from docbin.evaluation import COLUMNS, evaluate_folder, evaluate_page
from docbin.metrics import evaluate, mean_scores
from docbin.metrics.basic import PSNR_CAP


def strict_json(text: str) -> Any:
    """Parse as a strict parser (a browser's JSON.parse) would: Infinity and NaN are errors."""
    def refuse(token: str) -> None:
        raise ValueError(f"not JSON: {token}")

    return json.loads(text, parse_constant=refuse)


def page(shift: int, size: int = 32) -> np.ndarray:
    gt = np.full((size, size), 255, np.uint8)
    gt[8:24, 8 + shift : 12 + shift] = 0
    return gt


def test_mean_scores_caps_infinite_psnr_and_skips_undefined_values() -> None:
    rows = [{"psnr": None, "drd": None, "fm": 90.0}, {"psnr": 20.0, "drd": 2.0, "fm": 80.0},
            {"psnr": 10.0, "drd": 4.0, "fm": 70.1}]
    means = mean_scores(rows, ["psnr", "drd", "fm"])
    assert means == {"psnr": (PSNR_CAP + 20 + 10) / 3, "drd": 3.0, "fm": (90.0 + 80.0 + 70.1) / 3}
    assert means["fm"] == sum(r["fm"] for r in rows) / 3  # summed in page order: the values docbin always gave
    assert mean_scores([{"drd": None}], ["drd"]) == {"drd": None}


def test_evaluate_page_from_arrays_has_one_row_and_its_means() -> None:
    gt = page(0)
    pred = gt.copy()
    pred[0, 0] = 0
    result = evaluate_page(pred, gt, name="a")
    assert [r["name"] for r in result.rows] == ["a"] and result.columns == COLUMNS
    assert result.rows[0] == {"name": "a", **evaluate(pred, gt), "warnings": ""}
    assert result.means == {c: result.rows[0][c] for c in COLUMNS}
    perfect = evaluate_page(gt, gt)
    assert perfect.rows[0]["psnr"] is None and perfect.means["psnr"] == PSNR_CAP
    assert strict_json(perfect.json_text()) == perfect.to_json()
    two_ten = evaluate_page(pred, gt, pfm="2010")
    assert two_ten.rows[0]["pfm_variant"] == "2010-skeleton" and "pseudo_precision" not in two_ten.rows[0]


def test_evaluate_page_errors_name_the_page() -> None:
    with pytest.raises(ShapeMismatchError, match="^left: prediction"):
        evaluate_page(page(0), page(0, 40), name="left")
    with pytest.raises(ParameterError, match="2013 or 2010"):
        evaluate_page(page(0), page(0), pfm="2011")  # type: ignore[arg-type]


def test_a_gt_without_ink_gives_finite_means_and_strict_json() -> None:
    blank = np.full((32, 32), 255, np.uint8)
    result = evaluate_page(np.zeros_like(blank), blank, name="blank")
    assert result.pages_where("drd_undefined") == ["blank"] and result.pages_where("gt_empty") == ["blank"]
    assert result.means["drd"] is None and result.means["avg_score"] is None
    assert strict_json(result.json_text())["means"]["fm"] == 0


def test_evaluate_folder_matches_evaluate_page_and_keeps_name_order(tmp_path: Path) -> None:
    (tmp_path / "gt").mkdir()
    (tmp_path / "pred").mkdir()
    pages = {"b": (page(1), page(2)), "a": (page(0), page(0)), "c": (np.full((32, 32), 255, np.uint8), page(3))}
    for name, (pred, gt) in pages.items():
        Image.fromarray(gt).save(tmp_path / "gt" / f"{name}.png")
        Image.fromarray(pred).save(tmp_path / "pred" / f"{name}.png")
    for workers in (1, 2):
        result = evaluate_folder(tmp_path / "pred", tmp_path / "gt", workers=workers)
        assert [r["name"] for r in result.rows] == ["a", "b", "c"]
        assert result.rows == [evaluate_page(*pages[n], name=n).rows[0] for n in "abc"]
        assert result.means == mean_scores(result.rows, COLUMNS) and result.report_pages == []
    reported = evaluate_folder(tmp_path / "pred", tmp_path / "gt", workers=1, report=True)
    assert [p.name for p in reported.report_pages] == ["a", "b", "c"]
