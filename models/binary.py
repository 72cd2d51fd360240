"""1-bit weights for the generators' inner convolutions: w_b = alpha_c * sign(w) with latent real weights w
and a per-output-channel scale alpha_c, trained through one of three gradient estimators of sign():

- ``ste``: clipped straight-through estimator, d sign(w)/dw := 1{|w| <= 1} (Courbariaux et al., 2016).
- ``reste``: rectified STE (Wu et al., ICCV 2023): forward sign(w); backward through the power function
  f_o(w) = sign(w) |w|^(1/o), i.e. (1/o) |w|^((1 - o)/o) for interval < |w| <= t, the secant slope
  interval^(1/o) / interval for |w| <= interval, 0 beyond t; the equilibrium parameter o grows from 1 (the
  STE) towards ``o_end`` during training (:func:`reste_o`).
- ``biper``: BiPer (Vargas et al., CVPR 2024): forward the square wave sign(sin(omega w)), backward through
  the sine: d/dw = omega cos(omega w).

sign(0) is +1 everywhere (training, export and the packed bits agree on it). The progressive schedule
binarizes a growing fraction of each layer's output channels (:meth:`BinaryConv2d.set_progress`); channels
not yet binarized use their real weights.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn
from torch.nn import functional as F

from docbin.errors import ParameterError
from docbin.models import settings

Estimator = Literal["ste", "reste", "biper"]
AlphaMode = Literal["mean", "learned"]
ESTIMATORS: tuple[Estimator, ...] = ("ste", "reste", "biper")
ALPHA_MODES: tuple[AlphaMode, ...] = ("mean", "learned")

RESTE_T = 1.5  # ReSTE's clipping threshold t (the authors' code)
RESTE_INTERVAL = 0.1  # below it ReSTE uses the secant slope instead of the unbounded power-function derivative
BIPER_OMEGA = 20.0  # BiPer's frequency (the authors' CIFAR-10 setting)


def sign(w: torch.Tensor) -> torch.Tensor:
    """+1 where w >= 0, -1 elsewhere (no zeros: every weight is one bit)."""
    return torch.where(w >= 0, 1.0, -1.0).to(w.dtype)


class ClippedSTE(torch.autograd.Function):
    """sign(w) forward; backward grad * 1{|w| <= 1}."""

    @staticmethod
    def forward(ctx: Any, w: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(w)
        return sign(w)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        (w,) = ctx.saved_tensors
        return grad * (w.abs() <= 1).to(grad.dtype)


def reste_derivative(w: torch.Tensor, o: float, t: float = RESTE_T, interval: float = RESTE_INTERVAL) -> torch.Tensor:
    """ReSTE's backward slope: d/dw sign(w)|w|^(1/o) = (1/o)|w|^((1-o)/o) on interval < |w| <= t, the secant
    slope interval^(1/o)/interval on |w| <= interval, 0 on |w| > t."""
    a = w.abs()
    power = (1.0 / o) * a.clamp(min=interval) ** ((1.0 - o) / o)
    slope = torch.where(a <= interval, torch.full_like(a, interval ** (1.0 / o) / interval), power)
    return torch.where(a <= t, slope, torch.zeros_like(a))


class ReSTESign(torch.autograd.Function):
    """sign(w) forward; backward grad * :func:`reste_derivative` (w, o)."""

    @staticmethod
    def forward(ctx: Any, w: torch.Tensor, o: float) -> torch.Tensor:
        ctx.save_for_backward(w)
        ctx.o = o
        return sign(w)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        (w,) = ctx.saved_tensors
        return grad * reste_derivative(w, ctx.o), None


class IdentitySign(torch.autograd.Function):
    """sign(x) forward, identity backward: BiPer's sign of the sine, whose gradient is the sine's."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        return sign(x)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        return grad


def binarize(w: torch.Tensor, estimator: Estimator, o: float = 1.0, omega: float = BIPER_OMEGA) -> torch.Tensor:
    """The +-1 weights of ``w`` under ``estimator`` (``o``: ReSTE's equilibrium parameter, ``omega``: BiPer's
    frequency)."""
    if estimator == "ste":
        return ClippedSTE.apply(w)
    if estimator == "reste":
        return ReSTESign.apply(w, o)
    if estimator == "biper":
        return IdentitySign.apply(torch.sin(omega * w))
    raise ParameterError(f"unknown estimator {estimator!r}; choose one of {ESTIMATORS}")


def reste_o(progress: float, o_end: float) -> float:
    """ReSTE's schedule of o over training progress in [0, 1]: 1 + (1 - cos(pi/2 progress)) (o_end - 1)."""
    return 1.0 + (1.0 - math.cos(0.5 * math.pi * min(max(progress, 0.0), 1.0))) * (o_end - 1.0)


class BinaryConv2d(nn.Conv2d):
    """A convolution whose weights are alpha_c * sign(w) on the first ``binary_channels`` output channels
    (all of them once the progressive schedule ends) and the latent real w on the rest.

    alpha_c is mean |w_c| (``alpha="mean"``, recomputed every call) or a learned parameter initialised to it
    (``alpha="learned"``, see :meth:`reset_alpha`)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, padding: int = 1,
                 estimator: Estimator = "ste", alpha: AlphaMode = "mean", omega: float = BIPER_OMEGA,
                 bias: bool = False) -> None:
        super().__init__(in_channels, out_channels, kernel_size, padding=padding, bias=bias)
        if estimator not in ESTIMATORS:
            raise ParameterError(f"unknown estimator {estimator!r}; choose one of {ESTIMATORS}")
        if alpha not in ALPHA_MODES:
            raise ParameterError(f"unknown alpha {alpha!r}; choose one of {ALPHA_MODES}")
        self.estimator, self.alpha_mode, self.omega = estimator, alpha, omega
        self.o = 1.0  # ReSTE's equilibrium parameter, set by the training schedule
        self.binary_channels = out_channels
        if alpha == "learned":
            self.alpha = nn.Parameter(self.mean_abs().detach())

    def mean_abs(self) -> torch.Tensor:
        """mean |w_c| per output channel, shape (C_out,)."""
        return self.weight.abs().mean(dim=(1, 2, 3))

    @torch.no_grad()
    def reset_alpha(self) -> None:
        """Set a learned alpha to mean |w_c| of the current latent weights (after loading fp32 weights)."""
        if self.alpha_mode == "learned":
            self.alpha.copy_(self.mean_abs())

    def set_progress(self, fraction: float) -> None:
        """Binarize the first ceil(fraction * C_out) output channels (fraction clipped to [0, 1])."""
        self.binary_channels = math.ceil(min(max(fraction, 0.0), 1.0) * self.out_channels)

    def scale(self) -> torch.Tensor:
        """alpha_c, shape (C_out,)."""
        return self.alpha if self.alpha_mode == "learned" else self.mean_abs()

    def signs(self) -> torch.Tensor:
        """The +-1 weights (forward values, no estimator), shape of ``weight``."""
        w = torch.sin(self.omega * self.weight) if self.estimator == "biper" else self.weight
        return sign(w)

    def binary_weight(self) -> torch.Tensor:
        """alpha_c * sign(w) with this layer's estimator for the gradient."""
        signs = binarize(self.weight, self.estimator, self.o, self.omega)
        return self.scale().view(-1, 1, 1, 1) * signs

    def effective_weight(self) -> torch.Tensor:
        """The weight the forward pass uses: binary on the first ``binary_channels`` channels, real after."""
        if self.binary_channels >= self.out_channels:
            return self.binary_weight()
        k = self.binary_channels
        return torch.cat([self.binary_weight()[:k], self.weight[k:]])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.effective_weight(), self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, estimator={self.estimator}, alpha={self.alpha_mode}"


@dataclass(frozen=True)
class BinarySettings:
    """The ``binary`` section of a training config: estimator, alpha, BiPer's omega, ReSTE's final o, the
    progressive schedule (the binarized fraction of each layer's channels grows linearly from
    ``start_fraction`` to 1 over the first ``progressive_steps`` steps of the run) and optional distillation
    from the fp32 generator ``distill_from`` (loss weight ``distill_weight`` on the MSE of the logits); the inner
    convs of the ``real_levels`` finest U-Net levels stay real-valued (:class:`~docbin.models.networks.UNetGenerator`)."""

    estimator: Estimator = "ste"
    alpha: AlphaMode = "mean"
    omega: float = BIPER_OMEGA
    o_end: float = 3.0
    progressive_steps: int = 0
    start_fraction: float = 0.0
    distill_from: str | None = None
    distill_weight: float = 1.0
    real_levels: int = 0  # U-Net levels, from full resolution down, whose inner convs keep real (int8) weights

    def __post_init__(self) -> None:
        if self.estimator not in ESTIMATORS:
            raise ParameterError(f"binary estimator {self.estimator!r} is none of {ESTIMATORS}")
        if self.alpha not in ALPHA_MODES:
            raise ParameterError(f"binary alpha {self.alpha!r} is none of {ALPHA_MODES}")
        if not 0.0 <= self.start_fraction <= 1.0 or self.progressive_steps < 0 or self.o_end < 1.0 or self.real_levels < 0:
            raise ParameterError("binary settings need 0 <= start_fraction <= 1, progressive_steps >= 0, o_end >= 1, "
                                 "real_levels >= 0")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> BinarySettings:
        """Settings from a mapping; unknown keys and values of the wrong type are a ParameterError that names them."""
        return settings.from_mapping(cls, values, "binary")

    def fraction(self, step: int) -> float:
        """The binarized fraction of each layer's channels at ``step``."""
        if step >= self.progressive_steps:
            return 1.0
        return self.start_fraction + (1.0 - self.start_fraction) * step / self.progressive_steps

    def conv_factory(self) -> Callable[[int, int], nn.Module]:
        """A :data:`docbin.models.networks.ConvFactory` of 3x3 :class:`BinaryConv2d` (no bias: BatchNorm
        follows)."""

        def conv(in_channels: int, out_channels: int) -> nn.Module:
            return BinaryConv2d(in_channels, out_channels, 3, padding=1, estimator=self.estimator,
                                alpha=self.alpha, omega=self.omega)

        return conv

    def schedule(self, model: nn.Module, step: int, steps: int) -> None:
        """Set every binary layer of ``model`` for ``step`` of ``steps``: its binarized channel fraction and
        ReSTE's o (:func:`reste_o` of step/steps)."""
        o = reste_o(step / max(steps, 1), self.o_end)
        for layer in binary_layers(model):
            layer.set_progress(self.fraction(step))
            layer.o = o


def binary_layers(model: nn.Module) -> list[BinaryConv2d]:
    """The :class:`BinaryConv2d` modules of ``model`` in definition order."""
    return [m for m in model.modules() if isinstance(m, BinaryConv2d)]


@torch.no_grad()
def realised_weights(source: nn.Module, model: nn.Module) -> dict[str, torch.Tensor]:
    """The 1-bit ``source``'s state_dict for ``model``, a generator of the same shape that keeps more convs real:
    those convs take the weights ``source`` computed with, alpha_c * sign(w), so ``model`` starts as the same
    function."""
    real = {name for name, module in model.named_modules() if type(module) is nn.Conv2d}
    state = source.state_dict()
    for name, module in source.named_modules():
        if isinstance(module, BinaryConv2d) and name in real:
            state[f"{name}.weight"] = module.binary_weight().detach().clone()
    return state


def load_real_weights(model: nn.Module, state_dict: dict[str, torch.Tensor]) -> None:
    """Load a generator's ``state_dict`` into a 1-bit one of the same shape: an fp32 generator's (its weights become
    the latent weights) or a 1-bit one's. Every tensor must match, except alphas: a learned alpha the source lacks
    starts at mean |w_c| of the loaded weights, and the alphas of layers ``model`` keeps real are dropped."""
    binary = {f"{name}.alpha" for name, module in model.named_modules() if isinstance(module, BinaryConv2d)}
    kept = {k: v for k, v in state_dict.items() if not k.endswith(".alpha") or k in binary}
    try:
        missing, unexpected = model.load_state_dict(kept, strict=False)
    except RuntimeError as exc:  # shape mismatches
        raise ParameterError(f"not the binary network's counterpart: {exc}") from exc
    not_alpha = [k for k in missing if not k.endswith(".alpha")]
    if not_alpha or unexpected:
        raise ParameterError(f"not the binary network's counterpart: missing {not_alpha}, unexpected {unexpected}")
    for name, module in model.named_modules():
        if isinstance(module, BinaryConv2d) and f"{name}.alpha" not in kept:
            module.reset_alpha()
