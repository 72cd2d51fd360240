"""The generators' supervised losses: soft Dice, the soft skeleton and clDice on hand-made strokes, and the
trainer adding clDice when its weight is set."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from docbin.errors import ParameterError  # noqa: E402
from docbin.models.losses import cldice_loss, dice_loss, soft_skeleton  # noqa: E402
from docbin.models.train import TrainConfig, Trainer  # noqa: E402


def logits_of(ink: torch.Tensor) -> torch.Tensor:
    """Confident logits of a binary map: P(ink) ~ 1 on ink, ~ 0 elsewhere."""
    return torch.where(ink > 0, 20.0, -20.0)


def strokes() -> torch.Tensor:
    """A 10-pixel-wide bar (rows 20-29) and a 1-pixel hairline (row 40) across a 64 x 64 map."""
    ink = torch.zeros(1, 1, 64, 64)
    ink[..., 20:30, 5:60] = 1
    ink[..., 40, 5:60] = 1
    return ink


def test_soft_skeleton_of_a_binary_bar_is_its_centre_line() -> None:
    ink = strokes()
    skeleton = soft_skeleton(ink)
    assert torch.all(skeleton <= ink)  # inside the strokes
    column = skeleton[0, 0, :, 32]
    assert column[40] == 1  # a hairline is its own skeleton
    assert column[20:30].sum() <= 2 and column[24:26].sum() >= 1  # the bar thins to its middle rows


def test_cldice_is_zero_on_the_truth_and_weighs_a_missed_hairline_like_a_stroke() -> None:
    ink = strokes()
    assert cldice_loss(logits_of(ink), ink).item() == pytest.approx(0.0, abs=1e-6)
    without_hairline = ink.clone()
    without_hairline[..., 40, :] = 0
    # the hairline is 55 of 605 ink pixels but about half of the centre lines
    assert dice_loss(logits_of(without_hairline), ink).item() < 0.06
    assert cldice_loss(logits_of(without_hairline), ink).item() > 0.2


def test_cldice_gradient_raises_the_missed_hairline() -> None:
    ink = strokes()
    missed = ink.clone()
    missed[..., 40, :] = 0
    logits = torch.where(missed > 0, 3.0, -3.0).requires_grad_(True)
    cldice_loss(logits, ink).backward()
    assert logits.grad is not None
    assert torch.all(logits.grad[0, 0, 40, 10:55] < 0)  # descent raises P(ink) along the hairline


def test_trainer_adds_cldice_to_the_supervised_loss(tmp_path) -> None:  # type: ignore[no-untyped-def]
    base = dict(name="gray", adversarial=False, generator={"in_channels": 1, "base": 4, "depth": 2},
                checkpoint_dir=str(tmp_path), threads=1)
    inputs, targets = torch.rand(2, 1, 32, 32), strokes()[..., :32, :32].repeat(2, 1, 1, 1)
    plain = Trainer(TrainConfig(**base)).train_step(inputs, targets)
    with_skeleton = Trainer(TrainConfig(**base, cldice=0.5)).train_step(inputs, targets)
    assert "cldice" not in plain and 0 < with_skeleton["cldice"] <= 1
    assert with_skeleton["generator"] == pytest.approx(plain["generator"] + 0.5 * with_skeleton["cldice"], rel=1e-5)


def test_a_negative_cldice_weight_is_refused() -> None:
    with pytest.raises(ParameterError, match="cldice"):
        TrainConfig(name="gray", cldice=-0.5)
