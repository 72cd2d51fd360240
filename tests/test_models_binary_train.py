"""1-bit fine-tune of a tiny generator: converted from an fp32 checkpoint, progressive, distilled, resumable."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from conftest import tiny_dataset, tiny_train_config  # noqa: E402

from docbin.models.binary import BinaryConv2d, binary_layers  # noqa: E402
from docbin.models.export import load_generator  # noqa: E402
from docbin.models.train import TrainConfig, train  # noqa: E402


def test_binary_fine_tune_starts_from_fp32_distils_and_resumes(tmp_path: Path) -> None:
    root = tiny_dataset(tmp_path)
    fp32 = train(tiny_train_config(root, name="fp32", steps=3, adversarial=False))
    binary = {"estimator": "reste", "alpha": "learned", "progressive_steps": 4, "start_fraction": 0.5,
              "distill_from": str(fp32.path), "distill_weight": 0.5}
    log = tmp_path / "log.jsonl"
    cfg = tiny_train_config(root, name="bin", steps=3, adversarial=False, binary=binary, init_from=str(fp32.path))
    first = train(cfg, log=log)
    layers = binary_layers(first.generator)
    assert layers and all(0 < layer.binary_channels < layer.out_channels or layer.out_channels < 2
                          for layer in layers)  # last step 2 of a 4-step schedule from 1/2: 3/4
    assert all("distill" in line for line in log.read_text().splitlines())
    # the latent weights started at the fp32 ones: the stem, never binary, moved only by 3 steps of Adam
    stem = first.generator.encoders[0][0].weight
    assert (stem - fp32.generator.encoders[0][0].weight).abs().max() < 0.05
    resumed = train(tiny_train_config(root, name="bin", steps=6, adversarial=False, binary=binary,
                                      init_from=str(fp32.path)))
    assert resumed.step == 6 and all(layer.binary_channels == layer.out_channels
                                     for layer in binary_layers(resumed.generator))
    generator, meta = load_generator(resumed.path.with_suffix(".small.pt"))
    assert meta["config"]["binary"]["estimator"] == "reste"
    assert isinstance(generator.encoders[1][0], BinaryConv2d) and generator.encoders[1][0].alpha_mode == "learned"
    for name, tensor in resumed.generator.state_dict().items():
        assert torch.equal(tensor, generator.state_dict()[name])


def test_binary_setting_typos_fail_before_training() -> None:
    with pytest.raises(ValueError, match="unknown binary"):
        TrainConfig(name="gray", binary={"estimater": "ste"})
    with pytest.raises(ValueError, match="estimator"):
        TrainConfig.from_mapping({"name": "gray", "binary": {"estimator": "bnn"}})


def test_a_1bit_checkpoint_starts_a_run_with_a_real_level_as_the_same_function(tmp_path: Path) -> None:
    root = tiny_dataset(tmp_path)
    binary = {"estimator": "reste", "alpha": "learned"}
    source = train(tiny_train_config(root, name="b1", steps=2, adversarial=False, binary=binary))
    started = train(tiny_train_config(root, name="b1real", steps=0, adversarial=False, init_from=str(source.path),
                                      binary=binary | {"real_levels": 1}))
    real = started.generator.encoders[0][3]
    assert type(real) is torch.nn.Conv2d and len(binary_layers(started.generator)) == len(
        binary_layers(source.generator)) - 3
    x = torch.rand(2, 1, 32, 32)
    with torch.inference_mode():
        torch.testing.assert_close(started.generator.eval()(x), source.generator.eval()(x))
