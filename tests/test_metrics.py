"""DIBCO metrics: hand-computed tiny cases, edge cases, and agreement with the official reference values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import REFERENCE, needs_shared, reference_scores

from docbin import io
from docbin.errors import ShapeMismatchError
from docbin.metrics import evaluate, pseudo_f_measure, read_weights_dat
from docbin.metrics.drd import nubn, weight_matrix


def img(rows: list[str]) -> np.ndarray:
    """'#' = ink (0), '.' = background (255)."""
    return np.array([[0 if ch == "#" else 255 for ch in row] for row in rows], np.uint8)


def test_counts_fm_psnr_nrm_mcc_by_hand() -> None:
    gt = img(["##..", "##..", "....", "...."])
    pred = img(["#...", "##.#", "....", "...."])
    m = evaluate(pred, gt)
    assert (m["tp"], m["fp"], m["fn"], m["tn"]) == (3, 1, 1, 11)
    recall = precision = 0.75
    assert m["fm"] == pytest.approx(100 * 2 * recall * precision / (recall + precision))
    assert m["psnr"] == pytest.approx(10 * math.log10(16 / 2))
    assert m["nrm"] == pytest.approx((1 / 4 + 1 / 12) / 2)
    assert m["mcc"] == pytest.approx((3 * 11 - 1 * 1) / math.sqrt(4 * 4 * 12 * 12))


def test_drd_weight_matrix_and_single_flip_by_hand() -> None:
    w = weight_matrix()
    assert w[2, 2] == 0 and w.sum() == pytest.approx(1) and w[1, 2] == pytest.approx(w[2, 1])
    gt_ink = np.zeros((8, 8), bool)
    gt_ink[:, :4] = True  # one non-uniform 8x8 block
    assert nubn(gt_ink) == 1
    pred_ink = gt_ink.copy()
    pred_ink[4, 4] = True  # false ink right of the edge: GT background in columns 2-4 of its 5x5 block
    expected = w[:, 2:].sum()
    from docbin.metrics import drd

    assert drd(pred_ink, gt_ink) == pytest.approx(expected)


def test_drd_ignores_block_entries_outside_the_image() -> None:
    from docbin.metrics import drd

    gt_ink = np.zeros((8, 8), bool)
    gt_ink[4:, 4:] = True
    pred_ink = gt_ink.copy()
    pred_ink[0, 0] = True  # corner flip: only the in-image part of the 5x5 block counts
    assert drd(pred_ink, gt_ink) == pytest.approx(weight_matrix()[2:, 2:].sum())


def test_drd_equals_the_whole_page_filtering_bit_for_bit() -> None:
    """DRD summed at the flipped pixels equals DIBCO_metrics.m's formulation, a 5x5 filtering of the whole GT
    (and of an all-ones page for the in-image weights, zero outside), exactly, on random pages of any size."""
    import cv2

    from docbin.metrics import drd

    rng = np.random.default_rng(3)
    for k in range(60):
        shape = tuple(int(n) for n in rng.integers(1, 40, 2))
        gt_ink = rng.random(shape) < rng.random()
        pred_ink = gt_ink ^ (rng.random(shape) < 0.3 * rng.random())
        ink_around = cv2.filter2D(gt_ink.astype(np.float64), -1, weight_matrix(), borderType=cv2.BORDER_CONSTANT)
        inside = cv2.filter2D(np.ones(shape), -1, weight_matrix(), borderType=cv2.BORDER_CONSTANT)
        total = float(np.where(pred_ink, inside - ink_around, ink_around)[pred_ink != gt_ink].sum())
        blocks = nubn(gt_ink)
        expected = total / blocks if blocks else (0.0 if total == 0 else math.inf)
        assert drd(pred_ink, gt_ink) == expected, (k, shape)


def test_perfect_empty_and_all_ink_predictions() -> None:
    gt = img(["#..", ".#.", "..."])
    perfect = evaluate(gt, gt)
    assert perfect["psnr"] is None and perfect["psnr_infinite"] and perfect["fm"] == 100 and perfect["drd"] == 0
    empty = evaluate(np.full_like(gt, 255), gt)
    assert empty["fm"] == 0 and empty["recall"] == 0 and empty["nrm"] == pytest.approx(0.5)
    all_ink = evaluate(np.zeros_like(gt), gt)
    assert all_ink["recall"] == 100 and all_ink["precision"] == pytest.approx(100 * 2 / 9)


def test_gt_without_ink_and_size_mismatch_and_non_binary() -> None:
    blank = np.full((4, 4), 255, np.uint8)
    m = evaluate(blank, blank)
    assert m["fm"] == 0 and m["psnr_infinite"] and m["mcc"] == 0
    with pytest.raises(ShapeMismatchError):
        evaluate(blank, np.full((4, 5), 255, np.uint8))
    gray = np.array([[10, 200], [127, 128]], np.uint8)
    with pytest.warns(UserWarning, match="thresholded at 128"):
        m = evaluate(gray, img(["#.", "#."]))
    assert (m["tp"], m["fp"]) == (2, 0)


def test_undefined_drd_and_gt_without_ink_are_null_with_flags() -> None:
    """NUBN = 0 with flipped pixels: DRD and Avg-Score None with drd_undefined, never inf (strict JSON)."""
    import json

    blank, black = np.full((16, 16), 255, np.uint8), np.zeros((16, 16), np.uint8)
    m = evaluate(black, blank)
    assert m["drd"] is None and m["drd_undefined"] and m["avg_score"] is None and m["gt_empty"]
    assert m["fm"] == 0 and m["mpm"] == 1 and json.loads(json.dumps(m, allow_nan=False)) == m
    perfect = evaluate(blank, blank)  # nothing flipped: DRD 0 although NUBN = 0
    assert perfect["drd"] == 0 and not perfect["drd_undefined"] and perfect["gt_empty"]
    assert perfect["avg_score"] == (0 + 0 + 100 + 100 - 0) / 4  # FM and pseudo-FM 0, PSNR at its cap
    all_ink = evaluate(blank, black)  # a GT that is all ink has no non-uniform block either
    assert all_ink["drd_undefined"] and not all_ink["gt_empty"]
    gt = img(["........", "..##....", "..##....", "........", "........", "........", "........", "........"])
    inked = evaluate(black[:8, :8], gt)
    assert not inked["drd_undefined"] and inked["drd"] > 0 and not inked["gt_empty"]


def test_pseudo_fm_by_hand() -> None:
    gt_ink = np.array([[True, True, False, False]])
    pred_ink = np.array([[True, False, True, False]])
    rw = np.array([[0.25, 0.75, 0.0, 0.0]])
    pw = np.array([[0.0, 0.0, 1.0, 0.0]])
    pfm, precall, pprecision = pseudo_f_measure(pred_ink, gt_ink, rw, pw)
    assert precall == pytest.approx(25) and pprecision == pytest.approx(100 / 3)
    assert pfm == pytest.approx(2 * 25 * 100 / 3 / (25 + 100 / 3))


@needs_shared
@pytest.mark.parametrize(
    "method,expected",
    [
        ("Sauvola", (93.2047, 93.3930, 16.3292, 1.9519, 91.3811, 95.1025, 92.7954, 93.9983)),
        ("Otsu", (92.0901, 92.9249, 15.8222, 2.2001, 87.1708, 97.5978, 89.1155, 97.0744)),
        ("Niblack", (92.5486, 92.1003, 15.9387, 2.1324, 90.5332, 94.6557, 90.7719, 93.4683)),
    ],
)
def test_official_2johnc1v3_values_with_official_weights(method: str, expected: tuple[float, ...]) -> None:
    folder = REFERENCE / "pseudo_weights"
    gt = io.read_image(folder / "2JohnC1V3-GroundTruth.pbm")
    rw = read_weights_dat(folder / "2JohnC1V3-GroundTruth_RWeights.dat.gz", gt.shape)
    pw = read_weights_dat(folder / "2JohnC1V3-GroundTruth_PWeights.dat.gz", gt.shape)
    m = evaluate(io.read_image(folder / f"2JohnC1V3-{method}.pbm"), gt, rw, pw)
    keys = ("fm", "pseudo_fm", "psnr", "drd", "recall", "precision", "pseudo_recall", "pseudo_precision")
    for key, value in zip(keys, expected):
        assert m[key] == pytest.approx(value, abs=1e-4), key


@needs_shared
def test_75_reference_images_agree_to_1e_3() -> None:
    """Every metric of the official-equivalent table, pseudo-FM and Avg-Score with docbin's own weights."""
    keys = ("fm", "pseudo_fm", "psnr", "drd", "recall", "precision", "pseudo_recall", "pseudo_precision", "nrm",
            "mcc", "avg_score")
    worst = dict.fromkeys(keys, 0.0)
    scores = reference_scores()
    assert len(scores) == 75
    for row, m in scores:
        expected = {key: float(row[key]) for key in keys if key in row}
        expected["avg_score"] = (expected["fm"] + expected["pseudo_fm"] + expected["psnr"] + 100 - expected["drd"]) / 4
        for key in keys:
            worst[key] = max(worst[key], abs(m[key] - expected[key]))
    print("worst deviation per metric:", worst)
    assert max(worst.values()) < 1e-3, worst


def test_mpm_by_hand() -> None:
    from docbin.metrics.mpm import contour, mpm

    gt_ink = np.zeros((5, 5), bool)
    gt_ink[1:4, 1:4] = True
    assert contour(gt_ink).sum() == 8 and not contour(gt_ink)[2, 2]  # a 3x3 square's ring
    assert mpm(gt_ink, gt_ink) == 0
    pred_ink = gt_ink.copy()
    pred_ink[2, 2] = False  # missed centre: distance 1 from the contour
    pred_ink[0, 0] = True  # false ink at the corner: distance sqrt(2) from (1, 1)
    import cv2

    d = cv2.distanceTransform((~contour(gt_ink)).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    assert mpm(pred_ink, gt_ink) == pytest.approx((d[2, 2] + d[0, 0]) / d.sum() / 2)
    assert d[0, 0] == pytest.approx(np.sqrt(2), abs=1e-3)
