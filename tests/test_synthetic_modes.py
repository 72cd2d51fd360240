"""Synthetic failure modes (surrounds, faint ink, seals / tide lines / foxing, bleed-through, dark supports) and the
stress metrics."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from docbin.datasets.stress import MODES, stress_pages
from docbin.datasets.synth_paper import lacunae
from docbin.datasets.synthetic import SynthOptions, render_page
from docbin.errors import ParameterError
from docbin.metrics.stress import bleed_false_ink, far_false_ink, faint_recall, mark_false_ink, surround_false_ink


def page(seed: int, **options: float):
    return render_page(np.random.default_rng(seed), 240, 200, SynthOptions(**options))


@pytest.mark.parametrize("mode", ["surround", "faint", "marks", "heavy_show_through", "sharp_show_through", "camera_light",
                                  "dark_support"])
def test_each_mode_is_reproducible_per_seed(mode: str) -> None:
    a, b = page(4, **{mode: 1.0}), page(4, **{mode: 1.0})
    assert np.array_equal(a.rgb, b.rgb) and np.array_equal(a.gt, b.gt)
    assert all(np.array_equal(a.regions[k], b.regions[k]) for k in a.regions)
    assert not np.array_equal(a.rgb, page(5, **{mode: 1.0}).rgb)


@pytest.mark.parametrize("seed", range(6))
def test_surround_is_background_in_the_ground_truth(seed: int) -> None:
    p = page(seed, surround=1.0)
    outside = ~p.regions["page"]
    assert outside.mean() > 0.02  # some surround shows
    assert np.all(p.gt[outside] == 255)
    assert np.mean(p.gt == 0) > 0.002  # the page's text is still there


@pytest.mark.parametrize("mode", ["faint", "marks", "heavy_show_through", "sharp_show_through", "camera_light"])
def test_appearance_modes_leave_the_ground_truth_alone(mode: str) -> None:
    plain, degraded = page(7), page(7, **{mode: 1.0})
    assert np.array_equal(plain.gt, degraded.gt)
    assert np.abs(plain.rgb.astype(int) - degraded.rgb.astype(int)).mean() > 1


def test_faint_ink_is_lighter_and_marked_faint() -> None:
    plain, faint = page(3, fading=0.0), page(3, fading=0.0, faint=1.0)
    ink = faint.gt == 0
    assert faint.rgb[ink].mean() > plain.rgb[ink].mean() + 20
    assert faint.regions["faint"].sum() == ink.sum() and not plain.regions["faint"].any()


def test_marks_are_marked_away_from_ink_and_darken_the_page() -> None:
    p, plain = page(2, marks=1.0), page(2)
    marks = p.regions["marks"]
    assert marks.any() and not np.any(marks & (p.gt == 0))
    assert p.rgb[marks].mean() < plain.rgb[marks].mean() - 5


def test_bleed_is_marked_away_from_ink_where_the_reverse_side_shows() -> None:
    plain, heavy = page(6, show_through=0.0), page(6, show_through=0.0, heavy_show_through=1.0)
    bleed = heavy.regions["bleed"]
    assert bleed.any() and not plain.regions["bleed"].any() and not np.any(bleed & (heavy.gt == 0))
    assert heavy.rgb[bleed].mean() < plain.rgb[bleed].mean() - 10
    surrounded = page(6, show_through=0.0, heavy_show_through=1.0, surround=1.0)
    assert not np.any(surrounded.regions["bleed"] & ~surrounded.regions["page"])  # carried onto the canvas


def test_sharp_bleed_is_as_dark_as_faint_ink_and_leaves_other_streams_alone() -> None:
    plain = page(8, show_through=0.0)
    sharp = page(8, show_through=0.0, sharp_show_through=1.0)
    faint = page(8, show_through=0.0, fading=0.0, faint=1.0)
    bleed = sharp.regions["bleed"]
    assert bleed.any() and not np.any(bleed & (sharp.gt == 0)) and np.array_equal(sharp.gt, plain.gt)
    darkening = plain.rgb[bleed].mean() - sharp.rgb[bleed].mean()
    faint_darkening = plain.rgb[faint.gt == 0].mean() - faint.rgb[faint.gt == 0].mean()
    assert darkening > 0.3 * faint_darkening  # within the faint ink's range, not a pale ghost
    # its own stream: the other modes draw the same (here the surround's placement and the marks)
    both, alone = page(8, surround=1.0, marks=1.0, sharp_show_through=1.0), page(8, surround=1.0, marks=1.0)
    assert np.array_equal(both.regions["page"], alone.regions["page"])
    assert np.array_equal(both.regions["marks"], alone.regions["marks"])


@pytest.mark.parametrize("seed", range(4))
def test_dark_support_is_dark_keeps_the_text_and_marks_its_ink(seed: int) -> None:
    plain, dark = page(seed, show_through=0.0), page(seed, show_through=0.0, dark_support=1.0)
    ink, dark_ink = plain.gt == 0, dark.gt == 0
    assert not np.any(dark_ink & ~ink)  # the same text; lacunae only take ink away, never add it
    assert dark_ink.sum() > 0.5 * ink.sum()
    assert np.array_equal(dark.regions["dark"], dark_ink) and not plain.regions["dark"].any()
    support = dark.rgb[~cv2.dilate(ink.view(np.uint8), np.ones((5, 5), np.uint8)).view(bool)].mean()
    assert support < plain.rgb[~ink].mean() - 40  # about half of paper's luminance
    contrast = support - dark.rgb[dark_ink].mean()
    assert 0 < contrast < plain.rgb[~ink].mean() - plain.rgb[ink].mean()  # the ink only a little darker


def test_lacunae_are_holes_whose_text_leaves_the_ground_truth() -> None:
    mount, hole = lacunae(np.random.default_rng(3), 300, 260)
    again = lacunae(np.random.default_rng(3), 300, 260)[1]
    assert mount.shape == (3,) and np.array_equal(hole, again)
    assert 0.0 <= hole.min() and hole.max() == 1.0 and 0.0 < hole.mean() < 0.5  # some holes, not the whole page
    removed = sum(np.sum((page(s, show_through=0.0).gt == 0) & (page(s, show_through=0.0, dark_support=1.0).gt == 255))
                  for s in range(8))
    assert removed > 0  # text under a hole is background in the GT


def test_bleed_false_ink_counts_ink_on_the_reverse_text() -> None:
    bleed = np.zeros((8, 8), bool)
    bleed[2:4] = True  # 16 bleed pixels
    pred = np.zeros((8, 8), bool)
    pred[3:6] = True  # 8 of them marked ink
    assert bleed_false_ink(pred, bleed) == 0.5 and bleed_false_ink(pred, np.zeros_like(bleed)) is None


def test_default_options_switch_every_mode_off() -> None:
    p = page(1)
    assert p.regions["page"].all() and not p.regions["marks"].any()


def test_bad_mode_rate_is_a_typed_error() -> None:
    with pytest.raises(ParameterError):
        SynthOptions(surround=1.5)


def test_stress_pages_are_fixed_and_not_training_pages() -> None:
    first, again = stress_pages("surround", 2, 128, 96), stress_pages("surround", 2, 128, 96)
    assert all(np.array_equal(a.rgb, b.rgb) for a, b in zip(first, again))
    assert not (~first[0].regions["page"]).sum() == 0
    assert sorted(MODES) == ["bleed", "dark", "faint", "marks", "sharp_bleed", "surround"]
    with pytest.raises(ParameterError):
        stress_pages("gloom")


def test_surround_marked_all_ink_scores_full_false_ink() -> None:
    region = np.zeros((10, 10), bool)
    region[2:8, 2:8] = True  # the page; 64 surround pixels
    assert surround_false_ink(~region, region) == 1.0
    half = ~region & (np.arange(10)[:, None] < 5)
    assert surround_false_ink(half, region) == pytest.approx(half.sum() / 64)
    assert surround_false_ink(region, region) == 0.0
    assert surround_false_ink(region, np.ones((10, 10), bool)) is None  # no surround: no score


def test_faint_recall_and_mark_false_ink() -> None:
    faint = np.zeros((4, 4), bool)
    faint[0, :] = True
    pred = np.zeros((4, 4), bool)
    pred[0, :2] = True
    assert faint_recall(pred, faint) == 0.5
    assert mark_false_ink(pred, faint) == 0.5
    assert faint_recall(pred, np.zeros((4, 4), bool)) is None


def test_far_false_ink_counts_only_ink_away_from_text() -> None:
    gt = np.zeros((40, 40), bool)
    gt[5, 5] = True
    pred = np.zeros((40, 40), bool)
    pred[5, 6] = True  # beside the stroke
    pred[30, 30] = pred[30, 31] = pred[31, 30] = True  # a blob far away
    assert far_false_ink(pred, gt, reach=3) == 0.75
    assert far_false_ink(np.zeros((40, 40), bool), gt) is None


def test_stress_scores_pick_the_mode_metric_and_far_ink() -> None:
    from docbin.metrics.stress import stress_scores

    page = np.zeros((6, 6), bool)
    page[1:5, 1:5] = True
    pred = ~page  # the whole surround marked ink, no text predicted
    gt = np.zeros((6, 6), bool)
    gt[3, 3] = True
    assert stress_scores(pred, gt, {"page": page}, "surround") == {"far_ink": 0.0, "mode": 1.0}
    assert stress_scores(pred, gt) == {"far_ink": 0.0, "mode": None}  # reach 10: every pixel is near the stroke
