"""Synthetic degraded pages: determinism, shapes, exact GT, degradations that leave the GT alone."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import numpy as np
import pytest

from conftest import SAMPLES

from docbin.datasets.synthetic import SynthOptions, SyntheticPages, generate_page
from docbin.errors import ParameterError



def page(seed: int, **options: object) -> tuple[np.ndarray, np.ndarray]:
    return generate_page(np.random.default_rng(seed), 160, 224, **options)


def test_same_seed_same_page() -> None:
    rgb_a, gt_a = page(7)
    rgb_b, gt_b = page(7)
    assert np.array_equal(rgb_a, rgb_b) and np.array_equal(gt_a, gt_b)
    rgb_c, _ = page(8)
    assert not np.array_equal(rgb_a, rgb_c)


def test_shapes_dtypes_and_binary_gt() -> None:
    rgb, gt = page(1)
    assert rgb.shape == (160, 224, 3) and rgb.dtype == np.uint8
    assert gt.shape == (160, 224) and gt.dtype == np.uint8
    assert set(np.unique(gt)) == {0, 255}


@pytest.mark.parametrize("hand", ["opencv", "pillow", "cursive"])
def test_ink_coverage_plausible_for_every_hand(hand: str) -> None:
    coverage = [np.mean(page(seed, hands=(hand,))[1] == 0) for seed in range(4)]
    assert all(0.005 < c < 0.35 for c in coverage), coverage


def test_degradations_change_the_image_not_the_gt() -> None:
    rgb_clean, gt_clean = page(3, options=SynthOptions.clean())
    heavy = SynthOptions(stains=1.0, show_through=1.0, fading=1.0, illumination=1.0, blur=1.0,
                         noise=1.0, jpeg=1.0)
    rgb_dirty, gt_dirty = page(3, options=heavy)
    assert np.array_equal(gt_clean, gt_dirty)
    assert np.abs(rgb_clean.astype(int) - rgb_dirty.astype(int)).mean() > 5


def test_gt_is_the_rendered_ink_of_a_clean_page() -> None:
    rgb, gt = page(5, options=SynthOptions.clean(inks=("black",)))
    gray = rgb.mean(axis=2)
    # a single grey level separates GT ink from GT background: the GT is the rendered mask
    assert gray[gt == 0].max() < gray[gt == 255].min()


def test_ink_stays_darker_than_paper_after_degradation() -> None:
    rgb, gt = page(11)
    gray = rgb.mean(axis=2)
    assert np.median(gray[gt == 0]) < np.median(gray[gt == 255]) - 20


def test_stream_is_indexable_and_endless() -> None:
    pages = SyntheticPages(seed=2, height=96, width=128, noise=0.0)
    first_three = list(islice(iter(pages), 3))
    assert len(first_three) == 3
    assert np.array_equal(first_three[2][0], pages[2][0])
    assert not np.array_equal(first_three[0][1], first_three[1][1])


@pytest.mark.parametrize(
    "bad",
    [{"blur": 1.5}, {"inks": ("gold",)}, {"hands": ()}, {"cap_height": 1.0}, {"sparkle": 1.0},
     {"options": SynthOptions(), "blur": 0.0}],
)
def test_bad_options_raise_typed_errors(bad: dict[str, object]) -> None:
    with pytest.raises(ParameterError):
        page(0, **bad)


def test_too_small_page_is_refused() -> None:
    with pytest.raises(ParameterError):
        generate_page(np.random.default_rng(0), 32, 32)


def f_measure(pred: np.ndarray, gt: np.ndarray) -> float:
    tp = np.sum((pred == 0) & (gt == 0))
    precision, recall = tp / np.sum(pred == 0), tp / np.sum(gt == 0)
    return float(200 * precision * recall / (precision + recall))


def test_bundled_sample_is_what_the_script_makes() -> None:
    import cv2

    from docbin.datasets.make_sample import sample_page

    rgb, gt = sample_page()
    stored_rgb = cv2.imread(str(SAMPLES / "sample_scan.png"), cv2.IMREAD_COLOR)[..., ::-1]
    stored_gt = cv2.imread(str(SAMPLES / "sample_gt.png"), cv2.IMREAD_GRAYSCALE)
    assert np.array_equal(stored_gt, gt)
    assert np.abs(stored_rgb.astype(int) - rgb.astype(int)).mean() < 1.0


def test_sauvola_is_reasonable_but_imperfect_on_the_sample() -> None:
    import cv2

    from docbin import registry

    rgb = cv2.imread(str(SAMPLES / "sample_scan.png"), cv2.IMREAD_COLOR)[..., ::-1]
    gt = cv2.imread(str(SAMPLES / "sample_gt.png"), cv2.IMREAD_GRAYSCALE)
    assert 65 < f_measure(registry.binarize(rgb, "sauvola"), gt) < 95


def test_synth_command_writes_pairs_and_refuses_to_overwrite(tmp_path: Path) -> None:
    import cv2
    from typer.testing import CliRunner

    from docbin.cli import app

    args = ["synth", "-o", str(tmp_path), "-n", "2", "--height", "96", "--width", "128", "-q"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    names = sorted(p.name for p in (tmp_path / "images").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "gt").iterdir()) == ["synth_000000.png", "synth_000001.png"]
    rgb = cv2.imread(str(tmp_path / "images" / names[1]), cv2.IMREAD_COLOR)[..., ::-1]
    gt = cv2.imread(str(tmp_path / "gt" / names[1]), cv2.IMREAD_GRAYSCALE)
    expected_rgb, expected_gt = SyntheticPages(0, 96, 128)[1]
    assert np.array_equal(gt, expected_gt) and np.array_equal(rgb, expected_rgb)
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 2 and "already exist" in again.output
