"""docbin.models.average: uniform weight averaging ("model soup") of generator checkpoints."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from docbin.models.average import average_checkpoints  # noqa: E402
from docbin.models.export import file_entry, load_generator  # noqa: E402
from docbin.models.networks import build_generator  # noqa: E402

GENERATOR = {"in_channels": 1, "base": 4, "depth": 2}


def save_generator(path: Path, seed: int, step: int, generator: dict = GENERATOR) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    module = build_generator(generator)
    for buffer in module.buffers():  # non-trivial BatchNorm statistics
        if buffer.is_floating_point():
            buffer.uniform_(0.5, 1.5)
    state = module.state_dict()
    torch.save({"state_dict": state, "config": {"generator": generator}, "step": step}, path)
    return state


def test_the_soup_is_the_parameterwise_mean_and_loads_as_a_generator(tmp_path: Path) -> None:
    a = save_generator(tmp_path / "a.pt", seed=0, step=10)
    b = save_generator(tmp_path / "b.pt", seed=1, step=20)
    soup = average_checkpoints([tmp_path / "a.pt", tmp_path / "b.pt"], tmp_path / "soup.small.pt")
    for key, value in soup["state_dict"].items():
        expected = (a[key] + b[key]) / 2 if value.is_floating_point() else a[key]
        assert torch.equal(value, expected), key
    assert soup["step"] == 10 and [s["step"] for s in soup["averaged_from"]] == [10, 20]
    generator, meta = load_generator(tmp_path / "soup.small.pt")
    assert meta["step"] == 10 and meta["averaged_steps"] == [10, 20]  # what the export's manifest records
    assert file_entry(tmp_path / "a.pt", 1, meta, {})["averaged_steps"] == [10, 20]
    assert "averaged_steps" not in file_entry(tmp_path / "a.pt", 1, load_generator(tmp_path / "a.pt")[1], {})
    assert generator(torch.rand(1, 1, 32, 32)).shape == (1, 1, 32, 32)


def test_different_architectures_or_a_single_source_are_refused(tmp_path: Path) -> None:
    save_generator(tmp_path / "a.pt", seed=0, step=1)
    save_generator(tmp_path / "wide.pt", seed=0, step=1, generator={**GENERATOR, "base": 8})
    with pytest.raises(ValueError):
        average_checkpoints([tmp_path / "a.pt", tmp_path / "wide.pt"], tmp_path / "soup.pt")
    with pytest.raises(ValueError):
        average_checkpoints([tmp_path / "a.pt"], tmp_path / "soup.pt")
    assert not (tmp_path / "soup.pt").exists()
