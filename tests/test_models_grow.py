"""docbin.models.widen and docbin.models.deepen: function-preserving growth of trained U-Net generators, wider
(Net2WiderNet) or one level deeper (Net2DeeperNet)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from docbin.errors import ParameterError  # noqa: E402
from docbin.models.export import load_generator  # noqa: E402
from docbin.models.deepen import deepen_generator, rectified_moments  # noqa: E402
from docbin.models.networks import build_generator  # noqa: E402
from docbin.models.widen import channel_mapping, widen_generator  # noqa: E402


def trained_like(spec: dict, seed: int = 0) -> torch.nn.Module:
    """A generator with non-trivial BatchNorm statistics and biases, as after training (eval mode)."""
    torch.manual_seed(seed)
    generator = build_generator(spec)
    for buffer in generator.buffers():
        if buffer.is_floating_point():
            buffer.uniform_(0.5, 1.5)
    for name, parameter in generator.named_parameters():
        if "bias" in name or parameter.dim() == 1:
            parameter.data.uniform_(-0.5, 0.5)
    return generator.eval()


def test_the_shares_of_each_old_channel_sum_to_one() -> None:
    mapping, share = channel_mapping(8, 12, torch.Generator().manual_seed(0))
    assert mapping[:8].tolist() == list(range(8)) and 0 <= mapping.min() and mapping.max() < 8
    totals = torch.zeros(8).index_add_(0, mapping, share)
    torch.testing.assert_close(totals, torch.ones(8))
    copied = [c for c in range(8) if (mapping == c).sum() > 1]
    assert copied and all(len(set(share[mapping == c].tolist())) > 1 for c in copied)  # unequal: symmetry broken


@pytest.mark.parametrize(("in_channels", "depth", "base"), [(1, 2, 6), (3, 3, 8), (1, 2, 4)])
def test_the_wider_generator_computes_the_same_logits(in_channels: int, depth: int, base: int) -> None:
    narrow = trained_like({"in_channels": in_channels, "base": 4, "depth": depth})
    wide = widen_generator(narrow, base)
    assert wide.encoders[0][0].out_channels == base and wide.head.in_channels == base
    rebuilt = build_generator({"in_channels": in_channels, "base": base, "depth": depth})
    rebuilt.load_state_dict(wide.state_dict())  # the shapes of a generator built with the new base
    x = torch.rand(2, in_channels, 32, 48)
    with torch.inference_mode():
        torch.testing.assert_close(rebuilt.eval()(x), narrow(x), rtol=1e-4, atol=1e-4)
    assert sum(p.numel() for p in wide.parameters()) > sum(p.numel() for p in narrow.parameters()) or base == 4


def test_copies_get_different_gradients() -> None:
    wide = widen_generator(trained_like({"in_channels": 1, "base": 4, "depth": 2}), 6).train()
    wide(torch.rand(2, 1, 32, 32)).sum().backward()
    grad = wide.encoders[0][3].weight.grad  # outputs 4 and 5 are copies of old channels
    mapping, _ = channel_mapping(4, 6, torch.Generator().manual_seed(0))
    for j in (4, 5):
        assert not torch.allclose(grad[j], grad[int(mapping[j])])


def test_rectified_moments_match_sampling() -> None:
    beta, gamma = torch.tensor([-1.0, 0.0, 0.7, 2.0]), torch.tensor([0.5, 1.0, 1.3, 0.2])
    z = beta + gamma * torch.randn(400_000, 4, generator=torch.Generator().manual_seed(0))
    mean, var = rectified_moments(beta, gamma)
    torch.testing.assert_close(mean, z.relu().mean(0), rtol=0.02, atol=0.005)
    torch.testing.assert_close(var, z.relu().var(0), rtol=0.03, atol=0.005)


@pytest.mark.parametrize(("in_channels", "depth", "base"), [(1, 2, 4), (3, 3, 6)])
def test_the_deeper_generator_computes_the_same_logits(in_channels: int, depth: int, base: int) -> None:
    shallow = trained_like({"in_channels": in_channels, "base": base, "depth": depth})
    deep = deepen_generator(shallow)
    assert deep.depth == depth + 1 and len(deep.encoders) == depth + 2
    x = torch.rand(2, in_channels, 64, 96)
    with torch.inference_mode():
        torch.testing.assert_close(deep(x), shallow(x), rtol=1e-4, atol=1e-4)


def test_the_new_level_grows_from_the_first_step() -> None:
    deep = deepen_generator(trained_like({"in_channels": 1, "base": 4, "depth": 2})).train()
    new_path = deep.decoders[2][0].weight[:, 16:]  # the new decoder's weights on the up-sampled new level
    assert not new_path.any()
    optimizer = torch.optim.Adam(deep.parameters(), lr=1e-3)
    for _ in range(2):
        optimizer.zero_grad()
        deep(torch.rand(2, 1, 32, 32)).square().mean().backward()
        optimizer.step()
    assert deep.decoders[2][0].weight[:, 16:].abs().sum() > 0 and deep.encoders[3][0].weight.grad.abs().sum() > 0


def grow_cli(module: str, out: Path, source: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", f"docbin.models.{module}", str(out), str(source), *args],
                          capture_output=True, text=True)


@pytest.mark.parametrize(("module", "args", "grown"), [("widen", ["--base", "6"], {"base": 6}), ("deepen", [], {"depth": 3})])
def test_a_checkpoint_grows_for_init_from_and_1bit_is_refused(tmp_path: Path, module: str, args: list[str],
                                                              grown: dict) -> None:
    spec = {"in_channels": 1, "base": 4, "depth": 2}
    small = trained_like(spec)
    torch.save({"state_dict": small.state_dict(), "config": {"generator": spec, "lr": 0.001}, "step": 70},
               tmp_path / "gray.pt")
    result = grow_cli(module, tmp_path / "grown.small.pt", tmp_path / "gray.pt", *args)
    assert result.returncode == 0, result.stderr
    big, meta = load_generator(tmp_path / "grown.small.pt")
    assert meta["config"]["generator"] == {**spec, **grown} and meta["config"]["lr"] == 0.001 and meta["step"] == 70
    x = torch.rand(1, 1, 32, 32)
    with torch.inference_mode():
        torch.testing.assert_close(big(x), small(x), rtol=1e-4, atol=1e-4)
    binary = {"estimator": "ste"}
    torch.save({"state_dict": build_generator(spec, binary).state_dict(), "config": {"generator": spec, "binary": binary},
                "step": 1}, tmp_path / "binary.pt")
    refused = grow_cli(module, tmp_path / "no.pt", tmp_path / "binary.pt", *args)
    assert refused.returncode == 1 and "float generators" in refused.stderr and not (tmp_path / "no.pt").exists()
    missing = grow_cli(module, tmp_path / "no.pt", tmp_path / "missing.pt", *args)
    assert missing.returncode == 1 and "error:" in missing.stderr and not (tmp_path / "no.pt").exists()


def test_narrowing_is_refused(tmp_path: Path) -> None:
    narrow = trained_like({"in_channels": 1, "base": 4, "depth": 2})
    with pytest.raises(ParameterError, match="narrower"):
        widen_generator(narrow, 2)
    torch.save({"state_dict": narrow.state_dict(), "config": {"generator": {"base": 4, "depth": 2}}, "step": 1},
               tmp_path / "gray.pt")
    bad = grow_cli("widen", tmp_path / "no.pt", tmp_path / "gray.pt", "--base", "2")
    assert bad.returncode == 1 and "narrower" in bad.stderr and not (tmp_path / "no.pt").exists()
