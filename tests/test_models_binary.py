"""1-bit convolutions: each estimator's forward values and backward slopes on toy weights, alpha, the
progressive schedule and the conversion of an fp32 generator."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from docbin.models.binary import (  # noqa: E402
    BinaryConv2d,
    BinarySettings,
    binarize,
    binary_layers,
    load_real_weights,
    realised_weights,
    reste_derivative,
    reste_o,
)
from docbin.models.networks import build_generator  # noqa: E402

W = torch.tensor([-2.0, -1.2, -0.5, -0.05, 0.0, 0.05, 0.3, 0.9, 1.4, 2.0])


def grad_of(estimator: str, w: torch.Tensor, **kw: float) -> tuple[torch.Tensor, torch.Tensor]:
    w = w.clone().requires_grad_(True)
    out = binarize(w, estimator, **kw)  # type: ignore[arg-type]
    out.sum().backward()
    return out.detach(), w.grad


def test_ste_is_sign_forward_and_clipped_identity_backward() -> None:
    out, grad = grad_of("ste", W)
    assert out.tolist() == [-1, -1, -1, -1, 1, 1, 1, 1, 1, 1]  # sign(0) = +1: every weight is one bit
    assert grad.tolist() == [0, 0, 1, 1, 1, 1, 1, 1, 0, 0]


def test_reste_backward_follows_the_power_function() -> None:
    o = 3.0
    out, grad = grad_of("reste", W, o=o)
    assert out.tolist() == [-1, -1, -1, -1, 1, 1, 1, 1, 1, 1]
    # d/dw sign(w)|w|^(1/o) inside (0.1, t = 1.5], checked against autograd of the power function itself
    inside = (W.abs() > 0.1) & (W.abs() <= 1.5)
    w = W[inside].clone().requires_grad_(True)
    (torch.sign(w) * w.abs() ** (1 / o)).sum().backward()
    torch.testing.assert_close(grad[inside], w.grad)
    assert (grad[W.abs() > 1.5] == 0).all()  # clipped beyond t
    # near zero: the secant slope 0.1^(1/o) / 0.1, finite where |w|^((1-o)/o) is not
    near = W.abs() <= 0.1
    assert torch.allclose(grad[near], torch.full_like(grad[near], 0.1 ** (1 / o) / 0.1))


def test_reste_with_o_1_is_the_clipped_ste() -> None:
    assert torch.equal(reste_derivative(W, 1.0), (W.abs() <= 1.5).float())


def test_reste_o_grows_from_1_to_o_end() -> None:
    assert reste_o(0.0, 3.0) == 1.0 and math.isclose(reste_o(1.0, 3.0), 3.0)
    assert 1.0 < reste_o(0.5, 3.0) < reste_o(0.9, 3.0) < 3.0


def test_biper_is_a_square_wave_with_the_sines_gradient() -> None:
    omega = 20.0
    w = torch.linspace(-0.4, 0.4, 81)
    out, grad = grad_of("biper", w, omega=omega)
    assert torch.equal(out, torch.where(torch.sin(omega * w) >= 0, 1.0, -1.0))
    assert out[(w > 0.01) & (w < math.pi / omega - 0.01)].eq(1).all()  # first half period: sign(w)
    assert out[(w > math.pi / omega + 0.01) & (w < 2 * math.pi / omega - 0.01)].eq(-1).all()  # then flips
    torch.testing.assert_close(grad, omega * torch.cos(omega * w))


def test_unknown_estimator_is_refused() -> None:
    with pytest.raises(ValueError, match="estimator"):
        binarize(W, "xnor")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="estimator"):
        BinarySettings(estimator="xnor")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown binary"):
        BinarySettings.from_mapping({"estimater": "ste"})


@pytest.mark.parametrize("estimator", ["ste", "reste", "biper"])
@pytest.mark.parametrize("alpha", ["mean", "learned"])
def test_binary_conv_uses_alpha_times_sign_and_trains_its_latent_weights(estimator: str, alpha: str) -> None:
    torch.manual_seed(0)
    conv = BinaryConv2d(3, 4, estimator=estimator, alpha=alpha)  # type: ignore[arg-type]
    x = torch.randn(2, 3, 8, 8)
    expected = torch.nn.functional.conv2d(x, conv.weight.abs().mean(dim=(1, 2, 3)).view(-1, 1, 1, 1)
                                          * conv.signs(), padding=1)
    y = conv(x)
    torch.testing.assert_close(y, expected)
    assert set(conv.signs().unique().tolist()) == {-1.0, 1.0}
    y.square().mean().backward()
    assert conv.weight.grad is not None and conv.weight.grad.abs().sum() > 0
    if alpha == "learned":
        assert conv.alpha.grad is not None and conv.alpha.grad.shape == (4,)


def test_progressive_schedule_binarizes_a_growing_fraction_of_channels() -> None:
    settings = BinarySettings(progressive_steps=100, start_fraction=0.25)
    assert [settings.fraction(s) for s in (0, 50, 100, 500)] == [0.25, 0.625, 1.0, 1.0]
    conv = BinaryConv2d(2, 8)
    conv.set_progress(0.25)
    w = conv.effective_weight()
    assert torch.equal(w[2:], conv.weight[2:])  # channels not yet binarized stay real
    assert torch.equal(w[:2], conv.binary_weight()[:2])
    net = build_generator({"in_channels": 1, "base": 4, "depth": 2}, {"estimator": "reste", "o_end": 3.0})
    settings = BinarySettings(estimator="reste", progressive_steps=10)
    settings.schedule(net, 5, 20)
    assert {(layer.binary_channels * 2 == layer.out_channels, layer.o) for layer in binary_layers(net)} == {
        (True, reste_o(0.25, 3.0))}


def test_fp32_generator_converts_to_its_binary_network_with_float_first_and_last_convs() -> None:
    spec = {"in_channels": 1, "base": 4, "depth": 2}
    real = build_generator(spec)
    net = build_generator(spec, {"alpha": "learned"})
    load_real_weights(net, real.state_dict())
    layers = binary_layers(net)
    # every inner 3x3 conv is binary; the stem, the transposed convs and the 1x1 head are not
    assert len(layers) == 2 * (2 * 2 + 1) - 1
    assert not isinstance(net.encoders[0][0], BinaryConv2d) and not isinstance(net.head, BinaryConv2d)
    for layer in layers:
        torch.testing.assert_close(layer.alpha, layer.weight.abs().mean(dim=(1, 2, 3)))
    with pytest.raises(ValueError, match="counterpart"):
        load_real_weights(net, build_generator({"in_channels": 3, "base": 4, "depth": 2}).state_dict() | {"x": W})


def test_real_levels_keep_the_finest_levels_inner_convs_real() -> None:
    spec = {"in_channels": 1, "base": 4, "depth": 2}
    net = build_generator(spec, {"real_levels": 1})
    real = [net.encoders[0][3], net.decoders[0][0], net.decoders[0][3]]  # level 0's inner convs, encoder and decoder
    assert all(type(conv) is torch.nn.Conv2d for conv in real)
    assert len(binary_layers(net)) == len(binary_layers(build_generator(spec, {}))) - len(real)
    assert isinstance(net.encoders[1][0], BinaryConv2d) and isinstance(net.decoders[1][3], BinaryConv2d)
    assert len(binary_layers(build_generator({**spec, "depth": 1}, {"real_levels": 1}))) == 2  # the bottom level's
    for wrong in (-1, 3):
        with pytest.raises(ValueError, match="real_levels"):
            build_generator(spec, {"real_levels": wrong})


def test_a_1bit_generator_starts_one_with_real_levels_as_the_same_function() -> None:
    """Its convs that become real take alpha_c sign(w), the others keep latent weights and learned alphas."""
    spec = {"in_channels": 1, "base": 4, "depth": 2}
    torch.manual_seed(0)
    source = build_generator(spec, {"estimator": "reste", "alpha": "learned"})
    for layer in binary_layers(source):
        layer.alpha.data.uniform_(0.5, 1.5)  # trained alphas, not mean |w_c|
    net = build_generator(spec, {"estimator": "reste", "alpha": "learned", "real_levels": 1})
    load_real_weights(net, realised_weights(source, net))
    x = torch.rand(2, 1, 32, 48)
    with torch.inference_mode():
        torch.testing.assert_close(net.eval()(x), source.eval()(x))
    torch.testing.assert_close(net.encoders[0][3].weight, source.encoders[0][3].binary_weight())
    torch.testing.assert_close(net.encoders[1][0].alpha, source.encoders[1][0].alpha)
    torch.testing.assert_close(net.encoders[1][0].weight, source.encoders[1][0].weight)
