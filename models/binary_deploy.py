"""The float deploy network of a 1-bit generator, before its ONNX export (docs/ARCHITECTURE.md, "Binarized
weights and ONNX"): torch-side surgery that changes no output.

- :func:`deploy_generator` folds every BatchNorm into the conv before it: a 1-bit conv alpha_c * sign(w)
  followed by BN is (alpha_c gamma_c / sigma_c) * sign(w) + b_c, still one scale per output channel times
  the signs, as a plain ``nn.Conv2d``.
- :func:`widen_narrow_levels` gives the U-Net levels narrower than 16 channels (the first, 8 wide) zero
  channels in front of their feature maps: the same outputs, but their 1-bit convs have the 16 output
  channels that onnxruntime's fast symmetric int8 conv kernel needs.
- :func:`shuffle_upsampling` turns each 2 x 2 stride-2 transposed conv into a 1 x 1 conv to 4x the channels and
  a pixel shuffle done channels-last: the same outputs, but the conv runs as int8 QLinearConv and the decoder
  stays NHWC, where onnxruntime has no int8 transposed conv and ran it in float between DequantizeLinear,
  QuantizeLinear and transposes to NCHW and back.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from docbin.models.binary import BinaryConv2d
from docbin.models.networks import UNetGenerator

__all__ = [
    "FAST_INT8_OUT_CHANNELS",
    "ChannelsLastShuffle",
    "deploy_generator",
    "padded",
    "plain_conv",
    "shuffle_upsampling",
    "shuffled",
    "widen_narrow_levels",
]


def plain_conv(conv: nn.Conv2d) -> nn.Conv2d:
    """A plain ``nn.Conv2d`` with ``conv``'s effective weights (alpha_c * sign(w) for a 1-bit conv)."""
    plain = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,  # type: ignore[arg-type]
                      conv.dilation, conv.groups, bias=conv.bias is not None)
    weight = conv.binary_weight() if isinstance(conv, BinaryConv2d) else conv.weight
    plain.weight.data.copy_(weight.detach())
    plain.eval()
    if conv.bias is not None:
        plain.bias.data.copy_(conv.bias.detach())
    return plain


def deploy_generator(generator: nn.Module) -> tuple[nn.Module, list[str]]:
    """A float copy of ``generator`` (eval mode) with every conv -> BatchNorm pair folded into one conv and
    the 1-bit convs' weights alpha_c * sign(w) in place; returns it with the names of its 1-bit convs."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    deploy = copy.deepcopy(generator).eval()
    binary = []
    for name, module in list(deploy.named_modules()):
        if not isinstance(module, nn.Sequential):
            continue
        children = list(module.named_children())
        for (conv_name, conv), (bn_name, bn) in zip(children, children[1:]):
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                setattr(module, conv_name, fuse_conv_bn_eval(plain_conv(conv), bn.eval()))
                setattr(module, bn_name, nn.Identity())
                if isinstance(conv, BinaryConv2d):
                    binary.append(f"{name}.{conv_name}")
    return deploy, binary



# MLAS's symmetric int8 conv (the indirect-GEMM kernel QLinearConv uses with zero weight zero-points) takes
# convs with >= 16 output channels (MlasConvSymPackWSize, onnxruntime/core/mlas/lib/convsym.cpp); an 8-channel
# conv falls back to im2col + GEMM, ~3x slower here at 512^2 than the same conv zero-padded to 16 outputs.
FAST_INT8_OUT_CHANNELS = 16


def padded(layer: nn.Conv2d | nn.ConvTranspose2d, out_before: int = 0, in_before: int = 0) -> nn.Module:
    """A copy of the (transposed, ungrouped) conv ``layer`` with ``out_before`` zero output channels in front
    of its own and ``in_before`` leading input channels that it ignores (zero weights): the same numbers,
    shifted."""
    transposed = isinstance(layer, nn.ConvTranspose2d)
    out_axis, in_axis = (1, 0) if transposed else (0, 1)
    weight = layer.weight.detach()
    shape = list(weight.shape)
    shape[out_axis] += out_before
    shape[in_axis] += in_before
    wide = copy.deepcopy(layer)
    wide.weight = nn.Parameter(torch.zeros(shape, dtype=weight.dtype))
    block = wide.weight.data.narrow(out_axis, out_before, weight.shape[out_axis])
    block.narrow(in_axis, in_before, weight.shape[in_axis]).copy_(weight)
    wide.in_channels, wide.out_channels = layer.in_channels + in_before, layer.out_channels + out_before
    if layer.bias is not None:
        wide.bias = nn.Parameter(torch.cat([torch.zeros(out_before, dtype=weight.dtype), layer.bias.detach()]))
    return wide


def widen_narrow_levels(deploy: UNetGenerator, minimum: int = FAST_INT8_OUT_CHANNELS) -> dict[int, int]:
    """Give every U-Net level narrower than ``minimum`` channels ``minimum - width`` zero channels in front of
    its feature maps (the convs that write them get zero output channels, the ones that read them ignore
    them), so its 1-bit convs have ``minimum`` outputs; the float stem's output, the transposed convs'
    outputs and the network's output are unchanged. Returns the zero channels added per level."""
    widths = [deploy.encoders[level][3].out_channels for level in range(deploy.depth + 1)]
    pad = {level: max(0, minimum - width) for level, width in enumerate(widths)}
    for level in range(deploy.depth + 1):
        encoder = deploy.encoders[level]
        below = pad[level - 1] if level else 0  # channels in front of this level's input (the pooled maps)
        if level:  # the stem (encoder 0's first conv) keeps its output: it stays float
            encoder[0] = padded(encoder[0], pad[level], below)
        encoder[3] = padded(encoder[3], pad[level], pad[level] if level else 0)
    for level in range(deploy.depth):
        deploy.ups[level] = padded(deploy.ups[level], in_before=pad[level + 1])
        decoder = deploy.decoders[level]  # reads cat(skip with its zero channels in front, upsampled)
        decoder[0] = padded(decoder[0], pad[level], pad[level])
        decoder[3] = padded(decoder[3], pad[level], pad[level])
    deploy.head = padded(deploy.head, in_before=pad[0])
    return {level: count for level, count in pad.items() if count}


class ChannelsLastShuffle(nn.Module):
    """(N, 4 O, H, W) -> (N, O, 2 H, 2 W) with out[n, o, 2 h + a, 2 w + b] = in[n, (2 a + b) O + o, h, w]: a pixel
    shuffle (Shi et al., CVPR 2016) written as a reshape and a transpose of the channels-last tensor, which moves
    runs of 2 O contiguous bytes in onnxruntime's NHWC int8 graph (its DepthToSpace copies byte by byte, as slow
    as the float transposed conv it would replace, and needs NCHW: a transpose either side)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _PixelShuffleNHWC.apply(x)


class _PixelShuffleNHWC(torch.autograd.Function):
    """:class:`ChannelsLastShuffle`'s computation, exported as six ONNX ops with constant shapes where they can
    be (``Reshape`` to (0, 0, 0, 2, -1): 0 copies the input's dim) and the output size as Shape * (1, 2, 2, 1) /
    (1, 1, 1, 4): the traced reshapes took ~30 Shape, Gather, Unsqueeze and Concat nodes per shuffle (5 kB of a
    1-bit file)."""

    @staticmethod
    def forward(ctx: object, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        n, c4, h, w = x.shape
        y = x.permute(0, 2, 3, 1).reshape(n, h, w, 2, c4 // 2).transpose(2, 3)  # (n, h, a, w, (b, o))
        return y.reshape(n, 2 * h, 2 * w, c4 // 4).permute(0, 3, 1, 2)

    @staticmethod
    def symbolic(g: Any, x: Any) -> Any:
        def constant(values: list[int]) -> Any:
            return g.op("Constant", value_t=torch.tensor(values, dtype=torch.int64))

        nhwc = g.op("Transpose", x, perm_i=[0, 2, 3, 1])
        rows = g.op("Transpose", g.op("Reshape", nhwc, constant([0, 0, 0, 2, -1])), perm_i=[0, 1, 3, 2, 4])
        size = g.op("Div", g.op("Mul", g.op("Shape", nhwc), constant([1, 2, 2, 1])), constant([1, 1, 1, 4]))
        return g.op("Transpose", g.op("Reshape", rows, size), perm_i=[0, 3, 1, 2])


def shuffled(layer: nn.ConvTranspose2d) -> nn.Sequential:
    """The 2 x 2 stride-2 transposed conv ``layer`` as a 1 x 1 conv to 4 x its outputs and a
    :class:`ChannelsLastShuffle`: out[o, 2 h + a, 2 w + b] = sum_c W_T[c, o, a, b] x[c, h, w] + bias[o], so the 1 x 1
    conv's weight[(2 a + b) O + o, c] = W_T[c, o, a, b] and its bias is ``layer``'s 4 times; the same numbers."""
    if (layer.kernel_size, layer.stride, layer.padding, layer.output_padding, layer.dilation, layer.groups) != (
            (2, 2), (2, 2), (0, 0), (0, 0), (1, 1), 1):
        raise ValueError(f"not an ungrouped 2 x 2 stride-2 transposed conv: {layer}")
    conv = nn.Conv2d(layer.in_channels, 4 * layer.out_channels, 1, bias=layer.bias is not None)
    weight = layer.weight.detach().permute(2, 3, 1, 0)  # W_T[c, o, a, b] at [a, b, o, c]
    conv.weight.data.copy_(weight.reshape(conv.out_channels, layer.in_channels, 1, 1))
    if layer.bias is not None:
        conv.bias.data.copy_(layer.bias.detach().repeat(4))
    return nn.Sequential(conv, ChannelsLastShuffle()).eval()


def shuffle_upsampling(deploy: UNetGenerator) -> None:
    """Replace every up-sampling transposed conv of ``deploy`` by its :func:`shuffled` equivalent (after
    :func:`widen_narrow_levels`, which pads them as transposed convs)."""
    for level, layer in enumerate(deploy.ups):
        deploy.ups[level] = shuffled(layer)
