"""Function-preserving widening of a trained U-Net generator (Net2WiderNet, Chen et al., ICLR 2016): a generator
of base width ``b`` becomes one of base ``b' > b`` that computes the same logits, so a wider network can be
fine-tuned from a trained narrow one instead of from scratch.

Each level's ``b' 2^l`` channels are the old ``b 2^l`` ones followed by copies of randomly chosen old channels
(mapping g: new channel -> old channel). A layer that writes a level's feature maps copies the weights, bias and
BatchNorm parameters of channel g(j) into new channel j; a layer that reads them gives new input channel i the
share s_i of old input channel g(i)'s weights, where the shares of all copies of one old channel sum to 1. The
copies compute the same activations, so the weighted sum is unchanged; unequal random shares make the copies'
outgoing weights differ, so their gradients differ and training can pull them apart (equal shares would keep the
copies identical forever). Every feature map of a level (encoder output, up-sampled map, decoder output) uses the
same mapping; the decoder's concatenated input uses it for both halves.

    python -m docbin.models.widen OUT.small.pt SOURCE.pt --base 12 [--seed 0]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import torch
from torch import nn

from docbin.errors import ParameterError
from docbin.models.networks import UNetGenerator

__all__ = ["widen_checkpoint", "widen_generator"]


def channel_mapping(old: int, new: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """g (new channel -> old channel: the identity, then uniform random old channels) and each new channel's
    share s of its old channel's outgoing weights (random in [0.5, 1.5], normalised over the copies)."""
    extra = torch.randint(old, (new - old,), generator=generator)
    mapping = torch.cat([torch.arange(old), extra])
    weight = 0.5 + torch.rand(new, generator=generator)
    total = torch.zeros(old).index_add_(0, mapping, weight)
    return mapping, weight / total[mapping]


def widen_out(tensor: torch.Tensor, mapping: torch.Tensor, axis: int = 0) -> torch.Tensor:
    """Channel j along ``axis`` = old channel g(j) (the weights, bias or BatchNorm entry of a layer's outputs)."""
    return tensor.index_select(axis, mapping)


def widen_in(tensor: torch.Tensor, mapping: torch.Tensor, share: torch.Tensor, axis: int = 1) -> torch.Tensor:
    """Input channel i along ``axis`` = s_i x old input channel g(i) (the weights of a layer that reads the maps)."""
    shape = [1] * tensor.dim()
    shape[axis] = -1
    return tensor.index_select(axis, mapping) * share.reshape(shape)


def widen_conv(conv: nn.Conv2d | nn.ConvTranspose2d, outputs: tuple[torch.Tensor, torch.Tensor] | None,
               inputs: tuple[torch.Tensor, torch.Tensor] | None) -> None:
    """Widen ``conv`` in place: its outputs by ``outputs`` (g, s) and its inputs by ``inputs``; None keeps a side."""
    out_axis, in_axis = (1, 0) if isinstance(conv, nn.ConvTranspose2d) else (0, 1)
    weight = conv.weight.detach()
    if inputs is not None:
        weight = widen_in(weight, *inputs, axis=in_axis)
    if outputs is not None:
        weight = widen_out(weight, outputs[0], axis=out_axis)
        if conv.bias is not None:
            conv.bias = nn.Parameter(widen_out(conv.bias.detach(), outputs[0]))
    conv.weight = nn.Parameter(weight.contiguous())
    conv.in_channels, conv.out_channels = weight.shape[in_axis], weight.shape[out_axis]


def widen_batchnorm(bn: nn.BatchNorm2d, mapping: torch.Tensor) -> None:
    """Widen ``bn`` in place: channel j takes old channel g(j)'s affine parameters and running statistics."""
    bn.weight = nn.Parameter(widen_out(bn.weight.detach(), mapping))
    bn.bias = nn.Parameter(widen_out(bn.bias.detach(), mapping))
    bn.running_mean = widen_out(bn.running_mean, mapping)  # type: ignore[assignment]
    bn.running_var = widen_out(bn.running_var, mapping)  # type: ignore[assignment]
    bn.num_features = len(mapping)


def widen_double_conv(block: nn.Sequential, outputs: tuple[torch.Tensor, torch.Tensor],
                      inputs: tuple[torch.Tensor, torch.Tensor] | None) -> None:
    """A (conv, BN, ReLU, conv, BN, ReLU) block: both convs write the level's maps, the second reads them."""
    widen_conv(block[0], outputs, inputs)
    widen_batchnorm(block[1], outputs[0])
    widen_conv(block[3], outputs, outputs)
    widen_batchnorm(block[4], outputs[0])


def widen_generator(generator: UNetGenerator, base: int, seed: int = 0) -> UNetGenerator:
    """A float copy of ``generator`` with base width ``base`` (>= its own) that computes the same logits."""
    import copy

    old_base = generator.encoders[0][0].out_channels
    if base < old_base:
        raise ParameterError(f"cannot widen base {old_base} to a narrower base {base}")
    if any(type(module) not in (nn.Conv2d, nn.ConvTranspose2d) for module in generator.modules()
           if isinstance(module, nn.Conv2d | nn.ConvTranspose2d)):
        raise ParameterError("only float generators can be widened (a 1-bit one: widen its fp32 source)")
    wide = copy.deepcopy(generator).eval()
    rng = torch.Generator().manual_seed(seed)
    maps = [channel_mapping(old_base * 2**level, base * 2**level, rng) for level in range(wide.depth + 1)]
    for level, encoder in enumerate(wide.encoders):
        widen_double_conv(encoder, maps[level], maps[level - 1] if level else None)
    for level in range(wide.depth):
        widen_conv(wide.ups[level], maps[level], maps[level + 1])
        mapping, share = maps[level]
        old = generator.encoders[level][0].out_channels
        both_halves = (torch.cat([mapping, old + mapping]), torch.cat([share, share]))  # cat(skip, up-sampled)
        widen_double_conv(wide.decoders[level], maps[level], both_halves)
    widen_conv(wide.head, None, maps[0])
    return wide


def widen_checkpoint(source: Path, out: Path, base: int, seed: int = 0) -> dict[str, Any]:
    """Write ``source``'s generator widened to ``base`` as a small checkpoint (``state_dict``, ``config`` with
    the new base, ``step``, ``grown_from``) that ``init_from`` can start a ``base`` generator from."""
    from docbin.models.export import grow_checkpoint

    return grow_checkpoint(source, out, lambda generator: widen_generator(generator, base, seed),
                           {"widened_to_base": base, "seed": seed})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the widened checkpoint to write")
    parser.add_argument("source", type=Path, help="a float generator's checkpoint")
    parser.add_argument("--base", type=int, required=True, help="the new base width (channels of the first level)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the channel copies and their shares")
    args = parser.parse_args()
    try:
        widen_checkpoint(args.source, args.out, args.base, args.seed)
    except (OSError, ValueError, KeyError) as exc:  # missing/unreadable files, non-checkpoints, bad widths
        parser.exit(1, f"error: {exc}\n")
    print(f"wrote {args.out}: {args.source} widened to base {args.base}")


if __name__ == "__main__":
    main()
