"""Resumable training of a Stage-2 channel generator: 50 x BCE + WGAN-GP critic (Gulrajani et al., NeurIPS
2017; gradient penalty 10), Adam 2e-4 (0.5, 0.999), as in Ju et al. (KBS 2024); or supervised BCE + Dice only
(``adversarial: false``), which converges faster on a CPU.

    python -m docbin.models.train --config models/configs/gray.yaml
"""

from __future__ import annotations

import argparse
import json
import signal
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from torch import nn

from docbin.models.data import ChannelName, batch, load_pages
from docbin.models.networks import PatchCritic, build_generator

BCE_WEIGHT = 50.0
GP_WEIGHT = 10.0


@dataclass
class TrainConfig:
    name: str
    channel: ChannelName = "gray"
    data_root: str = "../shared/data"
    sets: list[str] = field(default_factory=lambda: [
        "dibco2009", "hdibco2010", "hdibco2012", "bickley_diary", "phibd", "smadi", "nabuco"])
    generator: dict[str, Any] = field(default_factory=lambda: {"in_channels": 1, "base": 8, "depth": 4})
    steps: int = 2000
    batch_size: int = 8
    crop: int = 256
    lr: float = 2e-4
    adversarial: bool = True
    checkpoint_dir: str = "models/checkpoints"
    checkpoint_every: int = 100
    seed: int = 0
    threads: int = 2

    @classmethod
    def from_yaml(cls, path: Path) -> TrainConfig:
        return cls(**yaml.safe_load(path.read_text()))


def dice_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """1 - soft Dice of P(ink) (Milletari et al., 3DV 2016)."""
    p = torch.sigmoid(logits)
    return 1 - (2 * (p * target).sum() + 1) / (p.sum() + target.sum() + 1)


def gradient_penalty(critic: PatchCritic, image: torch.Tensor, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """WGAN-GP: (||grad_x D(x_hat)||_2 - 1)^2 at random interpolates of real and fake masks."""
    alpha = torch.rand(real.shape[0], 1, 1, 1)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    grad = torch.autograd.grad(critic(image, mixed).sum(), mixed, create_graph=True)[0]
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


class Trainer:
    """Holds the networks, optimisers and step; saves and resumes ``<checkpoint_dir>/<name>.pt``."""

    def __init__(self, config: TrainConfig) -> None:
        torch.manual_seed(config.seed)
        self.config = config
        self.generator = build_generator(config.generator)
        self.critic = PatchCritic(in_channels=config.generator.get("in_channels", 1) + 1)
        betas = (0.5, 0.999)
        self.g_opt = torch.optim.Adam(self.generator.parameters(), lr=config.lr, betas=betas)
        self.c_opt = torch.optim.Adam(self.critic.parameters(), lr=config.lr, betas=betas)
        self.step = 0
        self.path = Path(config.checkpoint_dir) / f"{config.name}.pt"

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "state_dict": self.generator.state_dict(), "config": asdict(self.config), "step": self.step,
            "critic": self.critic.state_dict(), "g_opt": self.g_opt.state_dict(), "c_opt": self.c_opt.state_dict(),
        }
        small = {k: state[k] for k in ("state_dict", "config", "step")}  # what export needs; small enough to commit
        for path, content in ((self.path, state), (self.path.with_suffix(".small.pt"), small)):
            tmp = path.with_suffix(".tmp")
            torch.save(content, tmp)
            tmp.replace(path)

    def resume(self) -> bool:
        """Restore from the full checkpoint (networks, optimisers, step), or else from the committed
        ``.small.pt`` (generator and step; optimisers and critic start afresh). False when neither exists."""
        small = self.path.with_suffix(".small.pt")
        source = self.path if self.path.exists() else small if small.exists() else None
        if source is None:
            return False
        state = torch.load(source, map_location="cpu", weights_only=False)
        self.generator.load_state_dict(state["state_dict"])
        self.step = state["step"]
        if "critic" in state:
            self.critic.load_state_dict(state["critic"])
            self.g_opt.load_state_dict(state["g_opt"])
            self.c_opt.load_state_dict(state["c_opt"])
        return True

    def train_step(self, inputs: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
        """One generator step (and one critic step when adversarial); returns the losses."""
        logs: dict[str, float] = {}
        logits = self.generator(inputs)
        if self.config.adversarial:
            fake = torch.sigmoid(logits).detach()
            c_loss = (self.critic(inputs, fake).mean() - self.critic(inputs, targets).mean()
                      + GP_WEIGHT * gradient_penalty(self.critic, inputs, targets, fake))
            self.c_opt.zero_grad()
            c_loss.backward()
            self.c_opt.step()
            logs["critic"] = c_loss.item()
        bce = nn.functional.binary_cross_entropy_with_logits(logits, targets)
        if self.config.adversarial:
            g_loss = -self.critic(inputs, torch.sigmoid(logits)).mean() + BCE_WEIGHT * bce
        else:
            g_loss = bce + dice_loss(logits, targets)
        self.g_opt.zero_grad()
        g_loss.backward()
        self.g_opt.step()
        self.step += 1
        return logs | {"generator": g_loss.item(), "bce": bce.item()}


def train(config: TrainConfig, resume: bool = True, log: Path | None = None) -> Trainer:
    """Train until ``config.steps``, checkpointing every ``checkpoint_every`` steps and on SIGTERM/SIGINT."""
    from tqdm import tqdm

    torch.set_num_threads(config.threads)
    trainer = Trainer(config)
    if resume:
        trainer.resume()
    rng = np.random.default_rng([config.seed, trainer.step])
    pages = load_pages(Path(config.data_root), config.sets)
    stop = False

    def request_stop(*_: Any) -> None:
        nonlocal stop
        stop = True

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGTERM, signal.SIGINT)}
    log_file = open(log, "a") if log else None
    try:
        with tqdm(total=config.steps, initial=trainer.step, desc=config.name) as bar:
            while trainer.step < config.steps and not stop:
                x, y = batch(rng, pages, config.channel, config.crop, config.batch_size)
                start = time.perf_counter()
                losses = trainer.train_step(torch.from_numpy(x), torch.from_numpy(y))
                bar.update()
                bar.set_postfix({k: f"{v:.3f}" for k, v in losses.items()})
                if log_file:
                    log_file.write(json.dumps({"step": trainer.step, "s": time.perf_counter() - start, **losses}) + "\n")
                    log_file.flush()
                if trainer.step % config.checkpoint_every == 0:
                    trainer.save()
    finally:
        trainer.save()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if log_file:
            log_file.close()
    return trainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    parser.add_argument("--log", type=Path, help="append per-step losses as JSON lines")
    args = parser.parse_args()
    train(TrainConfig.from_yaml(args.config), resume=not args.fresh, log=args.log)


if __name__ == "__main__":
    main()
