"""Shapes, conv swapping and ONNX export of the three-stage networks."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from docbin.models.networks import PatchCritic, UNetGenerator, build_generator  # noqa: E402


def test_generator_shapes_and_parameter_count() -> None:
    torch.manual_seed(0)
    gen = build_generator({"in_channels": 3, "base": 8, "depth": 4}).eval()
    out = gen(torch.rand(2, 3, 64, 96))
    assert out.shape == (2, 1, 64, 96) and torch.isfinite(out).all()
    assert 0.4e6 < sum(p.numel() for p in gen.parameters()) < 0.6e6  # SIZING.md's 0.49 M


def test_conv_factory_reaches_every_inner_conv_but_not_stem_or_head() -> None:
    built: list[nn.Module] = []

    def tracking(i: int, o: int) -> nn.Module:
        built.append(nn.Conv2d(i, o, 3, padding=1, bias=False))
        return built[-1]

    gen = UNetGenerator(1, base=4, depth=2, conv=tracking)
    convs = [m for m in gen.modules() if isinstance(m, nn.Conv2d)]
    assert len(built) == len(convs) - 2  # all 3x3 convs except the float stem; the 1x1 head is float too
    assert gen.encoders[0][0] not in built and gen.head not in built


def test_critic_scores_patches() -> None:
    critic = PatchCritic(in_channels=2)
    scores = critic(torch.rand(3, 1, 64, 64), torch.rand(3, 1, 64, 64))
    assert scores.shape == (3, 1, 7, 7)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in critic.modules())  # WGAN-GP: no batch norm


def test_build_generator_rejects_unknown_settings() -> None:
    with pytest.raises(ValueError, match="unknown"):
        build_generator({"width": 8})


def test_generator_exports_through_docbin_export(tmp_path) -> None:
    """The real generator passes the exporter's checks (onnx checker, dynamic axes, torch parity)."""
    pytest.importorskip("onnxruntime")
    from docbin.models.export import export_generator

    torch.manual_seed(1)
    gen = build_generator({"in_channels": 3, "base": 4, "depth": 3}).eval()
    assert export_generator(gen, tmp_path / "g.onnx", in_channels=3) < 1e-4
