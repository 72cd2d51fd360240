"""Resumable training of one three-stage generator: supervised BCE + Dice, then (from ``adversarial_from``)
50 x BCE + WGAN-GP critic (Gulrajani et al., NeurIPS 2017; gradient penalty 10) with Adam 2e-4 (0.5, 0.999),
as in Ju et al. (KBS 2024). Runs on the CPU or a CUDA GPU (``device: auto``), with batches made by
``workers`` data-loader processes. :mod:`docbin.models.pipeline` trains all six generators in order.

    python -m docbin.models.train --config one_generator.yaml   (a TrainConfig mapping; see models/pipeline.py for all six)
"""

from __future__ import annotations

import argparse
import json
import signal
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from docbin.errors import ParameterError
from docbin.models.binary import BinarySettings, load_real_weights, realised_weights
from docbin.models.data import VALIDATION_SETS, GeneratorName, Page, batch, load_pages, synthetic_pages
from docbin.models.export import load_generator, save_checkpoint
from docbin.models.losses import cldice_loss, dice_loss
from docbin.models import settings
from docbin.models.networks import PatchCritic, build_generator
from docbin.models.photometric import Photometric
from docbin.threestage.pipeline import PipelineConfig

BCE_WEIGHT = 50.0
GP_WEIGHT = 10.0
ADVERSARIAL_LR = 2e-4
TRAIN_SETS = ["dibco2009", "hdibco2010", "hdibco2012", "bickley_diary", "phibd", "smadi", "nabuco"]


@dataclass
class TrainConfig:
    name: str
    channel: GeneratorName = "gray"
    data_root: str = "../shared/data"
    sets: list[str] = field(default_factory=lambda: list(TRAIN_SETS))
    # sets may then hold validation sets: a cross-validation fold (the held-out set scores the recipe) or the
    # final fit of a recipe chosen on them (the model card then reports the selection run's dev scores)
    allow_validation_sets: bool = False
    synthetic_pages: int = 0  # synthetic degraded pages added to the real ones (datasets/synthetic.py)
    synthetic_size: list[int] = field(default_factory=lambda: [1400, 1000])
    # SynthOptions fields for the synthetic pages, e.g. {surround: 0.5, faint: 0.3} (datasets/synthetic.py);
    # "profile: robust" starts from SynthOptions.robust() (every failure mode of held-out pages switched on)
    synthetic_options: dict[str, Any] = field(default_factory=dict)
    # share of the crops drawn from the synthetic pages (0: every page, real or synthetic, equally likely)
    synthetic_fraction: float = 0.0
    # draw a real set uniformly, then a page of it (each collection the same share of the real crops whatever its
    # page count); false: every real page equally likely, so a set's share grows with its page count
    balance_sets: bool = False
    # Stage-2 crops as other scans would show them (Photometric fields: p, fade, gamma, tint, blur, noise;
    # models/photometric.py), e.g. {p: 0.5}; empty: unchanged
    photometric: dict[str, Any] = field(default_factory=dict)
    generator: dict[str, Any] = field(default_factory=lambda: {"in_channels": 1, "base": 8, "depth": 4})
    steps: int = 2000
    batch_size: int = 8
    crop: int = 256
    scales: list[float] = field(default_factory=lambda: [0.75, 1.5])
    lr: float = 1e-3  # supervised phase
    # the supervised lr after a step, e.g. {900: 2e-4, 1700: 1e-4}: the phases of a resumed recipe in one config
    lr_from: dict[int, float] = field(default_factory=dict)
    # the generator's parameters whose names start with a prefix learn at that multiple of the rate, e.g.
    # {"encoders.5": 10} for a level just added by docbin.models.deepen (empty: every parameter at the rate)
    lr_scale: dict[str, float] = field(default_factory=dict)
    adversarial_lr: float = ADVERSARIAL_LR  # adversarial phase, generator and critic (the paper's 2e-4)
    cldice: float = 0.0  # weight of 1 - clDice beside BCE + Dice in the supervised loss (models/losses.py)
    # >0: also keep an exponential moving average of the generator's weights and BatchNorm statistics, updated
    # after every step with this decay (Polyak averaging), saved beside the checkpoint as <name>.ema.small.pt
    ema: float = 0.0
    adversarial: bool = True
    adversarial_from: int = 0  # first adversarial step (supervised warm-up before it)
    adversarial_after_s: float = 0.0  # >0: the adversarial phase starts after this many seconds of this run
    dwt: bool = True  # colour channels through the Haar-LL Stage 1 (False: the "without DWT" ablation)
    init_from: str | None = None  # a checkpoint whose generator starts this one when there is none to resume
    stage2_dir: str | None = None  # local generator: where the Stage-2 checkpoints are (default checkpoint_dir)
    cache_dir: str = "runs/cache"  # local generator: its merged training maps, kept between runs
    tile: int = PipelineConfig.tile  # inference tiles of the local generator's maps M and of validation
    overlap: int = PipelineConfig.overlap
    stage1_window: int = PipelineConfig.stage1_window  # and of the colour channels' Stage-1 windows
    global_size: int = PipelineConfig.global_size  # global generator: side of its page view (export carries it)
    global_pad_aspect: float = PipelineConfig.global_pad_aspect  # and the aspect above which pages are padded square
    crop_context: int = 0  # colour crops: Stage 1 normalised over a window of this side around the crop (0: the crop)
    checkpoint_dir: str = "models/checkpoints"
    checkpoint_every: int = 100
    seed: int = 0
    threads: int = 2
    device: str = "auto"  # auto: cuda when available
    workers: int = 0  # data-loader processes (0: batches made in the training process)
    time_limit_s: float = 0.0  # stop (and checkpoint) after this many seconds of training (0: no limit)
    validate_every: int = 0  # steps between validation runs (not global; 0: never)
    val_root: str = "../shared/data"
    val_sets: list[str] = field(default_factory=lambda: sorted(VALIDATION_SETS))
    # 1-bit inner convs (BinarySettings fields: estimator, alpha, omega, o_end, progressive_steps,
    # start_fraction, distill_from, distill_weight); init_from may then be the fp32 generator
    binary: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        from docbin.models.data import synthetic_options

        synthetic_options(self.synthetic_options)  # a typo in the synthetic options fails here, before training
        Photometric.from_mapping(self.photometric)  # and so does one in the photometric settings
        if self.binary is not None:
            BinarySettings.from_mapping(self.binary)  # and so does one in the binary settings
        if not 0.0 <= self.synthetic_fraction < 1.0 or (self.synthetic_fraction and not self.synthetic_pages):
            raise ParameterError(f"synthetic_fraction must be in [0, 1) and needs synthetic_pages, got {self.synthetic_fraction}")
        # a dev set both trained on (allow_validation_sets) and validated on scores nothing held out
        trained_on = sorted(VALIDATION_SETS & set(self.sets) & set(self.val_sets)) if self.validate_every else []
        if trained_on:
            raise ParameterError(f"validation on sets it trains on {trained_on}: drop them from val_sets")
        if any(int(step) != step or step < 1 or not lr > 0 for step, lr in self.lr_from.items()):
            raise ParameterError(f"lr_from maps steps >= 1 to learning rates > 0, got {self.lr_from}")
        if any(not factor > 0 for factor in self.lr_scale.values()):
            raise ParameterError(f"lr_scale maps parameter-name prefixes to factors > 0, got {self.lr_scale}")
        if not self.cldice >= 0:
            raise ParameterError(f"cldice is a loss weight >= 0, got {self.cldice}")
        if not 0.0 <= self.ema < 1.0:
            raise ParameterError(f"ema is a decay in [0, 1) (0: off), got {self.ema}")
        if self.crop_context and self.crop_context < self.crop:
            raise ParameterError(f"crop_context must be 0 (the crop itself) or at least crop ({self.crop}), got {self.crop_context}")

    def require_checkpoints(self, resume: bool = True) -> None:
        """Raise a :class:`~docbin.errors.ParameterError` naming each checkpoint this run reads that is missing:
        ``binary.distill_from``, and ``init_from`` unless the run resumes from a checkpoint of its own."""
        own = Path(self.checkpoint_dir) / f"{self.name}.pt"
        resumes = resume and (own.exists() or own.with_suffix(".small.pt").exists())
        wanted = {"init_from": None if resumes else self.init_from,
                  "binary.distill_from": (self.binary or {}).get("distill_from")}
        missing = [f"{key} {path}" for key, path in wanted.items() if path and not Path(path).exists()]
        if missing:
            raise ParameterError(f"{self.name}: checkpoint not found: {'; '.join(missing)}")

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> TrainConfig:
        """A config from a mapping; unknown settings and values of the wrong type are a
        :class:`~docbin.errors.ParameterError` that names them."""
        return settings.from_mapping(cls, values, "training", f" for {values.get('name', 'a generator')}")

    @classmethod
    def from_yaml(cls, path: Path, overrides: dict[str, Any] | None = None) -> TrainConfig:
        """A config from a YAML file (and its ``base:`` chain, :func:`~docbin.models.settings.read_config`) with
        ``overrides`` (``--set`` pairs) applied last."""
        return cls.from_mapping(settings.read_config(path) | (overrides or {}))

    def pipeline(self, device: torch.device) -> PipelineConfig:
        """The inference settings that make this generator's maps M and validation outputs."""
        return PipelineConfig(dwt=self.dwt, tile=self.tile, overlap=self.overlap, stage1_window=self.stage1_window,
                              batch=32 if device.type == "cuda" else 4)

    def supervised_lr(self, step: int) -> float:
        """The supervised learning rate of ``step``: ``lr``, or that of the last ``lr_from`` step <= it."""
        started = [s for s in self.lr_from if s <= step]
        return self.lr_from[max(started)] if started else self.lr

    def resolved_device(self) -> torch.device:
        if self.device != "auto":
            return torch.device(self.device)
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def gradient_penalty(critic: PatchCritic, image: torch.Tensor, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """WGAN-GP: (||grad_x D(x_hat)||_2 - 1)^2 at random interpolates of real and fake masks, D(x) being the
    critic's mean patch score of each sample (the score the losses use)."""
    alpha = torch.rand(real.shape[0], 1, 1, 1, device=real.device)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    scores = critic(image, mixed).mean(dim=(1, 2, 3))
    grad = torch.autograd.grad(scores.sum(), mixed, create_graph=True)[0]
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


class Trainer:
    """Holds the networks, optimisers and step; saves and resumes ``<checkpoint_dir>/<name>.pt``."""

    def __init__(self, config: TrainConfig) -> None:
        torch.manual_seed(config.seed)
        self.config = config
        self.device = config.resolved_device()
        self.generator = build_generator(config.generator, config.binary).to(self.device)
        self.binary = BinarySettings.from_mapping(config.binary) if config.binary is not None else None
        self.teacher = self.load_teacher()
        self.critic = PatchCritic(in_channels=config.generator.get("in_channels", 1) + 1).to(self.device)
        betas = (0.5, 0.999)
        self.g_opt = torch.optim.Adam(scaled_groups(self.generator, config.lr_scale), lr=config.lr, betas=betas)
        self.c_opt = torch.optim.Adam(self.critic.parameters(), lr=config.adversarial_lr, betas=betas)
        self.step = 0
        self.path = Path(config.checkpoint_dir) / f"{config.name}.pt"
        # the moving average's first update copies the generator as it is then (after init_from or resume)
        self.average = (AveragedModel(self.generator, multi_avg_fn=get_ema_multi_avg_fn(config.ema), use_buffers=True)
                        if config.ema else None)

    @property
    def average_path(self) -> Path:
        """The moving average's checkpoint, in the format of ``.small.pt`` (export reads either)."""
        return self.path.with_suffix(".ema.small.pt")

    def save(self) -> None:
        state = {
            "state_dict": self.generator.state_dict(), "config": asdict(self.config), "step": self.step,
            "critic": self.critic.state_dict(), "g_opt": self.g_opt.state_dict(), "c_opt": self.c_opt.state_dict(),
        }
        small = {k: state[k] for k in ("state_dict", "config", "step")}  # what export needs; small enough to commit
        if self.average is not None and self.average.n_averaged > 0:  # before its first update it holds nothing trained
            state["ema"] = self.average.state_dict()
            save_checkpoint(small | {"state_dict": self.average.module.state_dict(), "ema_decay": self.config.ema},
                            self.average_path)
        save_checkpoint(state, self.path)
        save_checkpoint(small, self.path.with_suffix(".small.pt"))

    def resume(self) -> bool:
        """Restore from the full checkpoint (networks, optimisers, step), or else from the committed
        ``.small.pt`` (generator and step; optimisers and critic start afresh). False when neither exists."""
        small = self.path.with_suffix(".small.pt")
        source = self.path if self.path.exists() else small if small.exists() else None
        if source is None:
            return False
        state = torch.load(source, map_location=self.device, weights_only=False)
        self.generator.load_state_dict(state["state_dict"])
        self.step = state["step"]
        if "critic" in state:
            self.critic.load_state_dict(state["critic"])
            scales = [group["scale"] for group in self.g_opt.param_groups]
            try:
                self.g_opt.load_state_dict(state["g_opt"])
            except ValueError as exc:  # torch: the saved parameter groups differ from this config's lr_scale groups
                raise ParameterError(f"{self.config.name}: {source} was saved with other lr_scale groups than this "
                                     "config's: resume with its lr_scale, or start afresh (--fresh)") from exc
            for group, scale in zip(self.g_opt.param_groups, scales):  # this config's lr_scale, not the saved one's
                group["scale"] = scale
            self.c_opt.load_state_dict(state["c_opt"])
        if self.average is not None:
            self.resume_average(state.get("ema"))
        return True

    def resume_average(self, saved: dict[str, Any] | None) -> None:
        """Restore the moving average: from the full checkpoint's, or else from ``.ema.small.pt`` (its weights,
        averaged on from there); with neither, it starts again at the next step's weights."""
        assert self.average is not None
        if saved is not None:
            self.average.load_state_dict(saved)
        elif self.average_path.exists():
            averaged = torch.load(self.average_path, map_location=self.device, weights_only=False)
            self.average.module.load_state_dict(averaged["state_dict"])
            self.average.n_averaged.fill_(1)

    def initialise_from(self, checkpoint: Path) -> None:
        """Start from another checkpoint's generator weights (same architecture), e.g. a colour-channel
        generator from the trained gray one, a 1-bit generator from its fp32 counterpart (latent weights
        = the fp32 weights, learned alphas = mean |w_c|) or from a 1-bit one that binarizes more convs (those
        this one keeps real start at the alpha_c sign(w) it used: the same function); step, optimisers and critic
        start afresh."""
        source, _ = load_generator(checkpoint)
        source = source.to(self.device)
        if self.binary is not None:  # of a 1-bit source, convs that stay real here start as it used them
            load_real_weights(self.generator, realised_weights(source, self.generator))
        else:
            self.generator.load_state_dict(source.state_dict())

    def load_teacher(self) -> nn.Module | None:
        """The fp32 generator a 1-bit one is distilled from (``binary.distill_from``), frozen, or None."""
        if self.binary is None or self.binary.distill_from is None:
            return None
        teacher, _ = load_generator(Path(self.binary.distill_from))
        return teacher.to(self.device).requires_grad_(False)

    def distillation(self, inputs: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """Weighted MSE between the generator's logits and the fp32 teacher's (0 without a teacher)."""
        if self.teacher is None or self.binary is None:
            return logits.new_zeros(())
        with torch.no_grad():
            target = self.teacher(inputs)
        return self.binary.distill_weight * nn.functional.mse_loss(logits, target)

    def adversarial_now(self) -> bool:
        return self.config.adversarial and self.step >= self.config.adversarial_from

    def train_step(self, inputs: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
        """One generator step (and one critic step in the adversarial phase); returns the losses."""
        inputs, targets = inputs.to(self.device, non_blocking=True), targets.to(self.device, non_blocking=True)
        adversarial = self.adversarial_now()
        lr = self.config.adversarial_lr if adversarial else self.config.supervised_lr(self.step)
        for group in self.g_opt.param_groups:
            group["lr"] = group["scale"] * lr
        logs: dict[str, float] = {}
        if self.binary is not None:
            self.binary.schedule(self.generator, self.step, self.config.steps)
        logits = self.generator(inputs)
        if adversarial:
            fake = torch.sigmoid(logits).detach()
            c_loss = (self.critic(inputs, fake).mean() - self.critic(inputs, targets).mean()
                      + GP_WEIGHT * gradient_penalty(self.critic, inputs, targets, fake))
            self.c_opt.zero_grad()
            c_loss.backward()
            self.c_opt.step()
            logs["critic"] = c_loss.item()
        bce = nn.functional.binary_cross_entropy_with_logits(logits, targets)
        if adversarial:
            g_loss = -self.critic(inputs, torch.sigmoid(logits)).mean() + BCE_WEIGHT * bce
        else:
            g_loss = bce + dice_loss(logits, targets)
            if self.config.cldice:
                skeleton = cldice_loss(logits, targets)
                g_loss = g_loss + self.config.cldice * skeleton
                logs["cldice"] = skeleton.item()
        if self.teacher is not None:
            distill = self.distillation(inputs, logits)
            g_loss = g_loss + distill
            logs["distill"] = distill.item()
        self.g_opt.zero_grad()
        g_loss.backward()
        self.g_opt.step()
        if self.average is not None:
            self.average.update_parameters(self.generator)
        self.step += 1
        return logs | {"generator": g_loss.item(), "bce": bce.item()}


def scaled_groups(generator: nn.Module, lr_scale: dict[str, float]) -> list[dict[str, Any]]:
    """The generator's parameters as optimizer groups, each with its ``scale`` of the learning rate: that of
    the first ``lr_scale`` prefix its name starts with, else 1. A prefix that names no parameter is an error."""
    scales: dict[float, list[nn.Parameter]] = {}
    used: set[str] = set()
    for name, parameter in generator.named_parameters():
        prefix = next((p for p in lr_scale if name.startswith(p)), None)
        used.update([prefix] if prefix else [])
        scales.setdefault(lr_scale[prefix] if prefix else 1.0, []).append(parameter)
    if set(lr_scale) - used:
        raise ParameterError(f"lr_scale prefixes {sorted(set(lr_scale) - used)} name no parameter of the generator")
    return [{"params": params, "scale": scale} for scale, params in scales.items()]


class BatchStream(torch.utils.data.IterableDataset):
    """Endless random batches of one generator's samples; each data-loader worker draws from its own seed
    ``(seed, first step, worker)``, so a run is reproducible for a given number of workers."""

    def __init__(self, pages: list[Page], config: TrainConfig, first_step: int) -> None:
        self.pages, self.config, self.first_step = pages, config, first_step
        sets = ([sum(page.source == name for page in pages) for name in config.sets] if config.balance_sets
                else [len(pages) - config.synthetic_pages])  # the real pages come first, one set after another
        self.odds = page_odds(sets, config.synthetic_pages, config.synthetic_fraction)
        self.look = Photometric.from_mapping(config.photometric)

    def __iter__(self):  # type: ignore[no-untyped-def]
        info = torch.utils.data.get_worker_info()
        rng = np.random.default_rng([self.config.seed, self.first_step, info.id if info else 0])
        c = self.config
        while True:
            side = c.global_size if c.channel == "global" else c.crop
            x, y = batch(rng, self.pages, c.channel, side, c.batch_size, tuple(c.scales), c.dwt,  # type: ignore[arg-type]
                         c.crop_context, self.odds, c.global_pad_aspect, self.look)
            yield torch.from_numpy(x), torch.from_numpy(y)


def page_odds(set_sizes: Sequence[int], synthetic: int, synthetic_fraction: float) -> np.ndarray | None:
    """Each page's probability of giving a crop, for real sets of ``set_sizes`` pages (in order) followed by
    ``synthetic`` synthetic pages: every real set the same share of the real crops, split evenly over its pages,
    and ``synthetic_fraction`` of the crops from the synthetic pages (at 0, the synthetic pages are one more set
    when there are several real sets). None: every page equally likely (one real set and no fraction, or no real
    page at all)."""
    if (len(set_sizes) == 1 and not synthetic_fraction) or not sum(set_sizes):
        return None
    groups = [size for size in set_sizes if size] + ([synthetic] if synthetic and not synthetic_fraction else [])
    real_share = 1.0 - synthetic_fraction
    odds = [real_share / len(groups) / size for size in groups for _ in range(size)]
    if synthetic_fraction:
        odds += [synthetic_fraction / synthetic] * synthetic
    return np.array(odds)


def training_pages(config: TrainConfig, device: torch.device) -> list[Page]:
    """The real pages of ``config.sets`` plus its synthetic pages; for ``local``, their merged maps M made
    by the Stage-2 checkpoints in ``stage2_dir``."""
    pages = load_pages(Path(config.data_root), config.sets, config.allow_validation_sets)
    if config.synthetic_pages:
        pages += synthetic_pages(config.synthetic_pages, config.seed, *config.synthetic_size,
                                 options=config.synthetic_options)
    if config.channel != "local":
        return pages
    from docbin.models.stage3 import cache_key, cached_merged_pages, merged_pages, stage2_runners

    stage2 = Path(config.stage2_dir or config.checkpoint_dir)
    cfg = config.pipeline(device)
    key = cache_key(stage2, [config.data_root, config.sets, config.synthetic_pages, config.synthetic_size,
                             *([config.synthetic_options] if config.synthetic_options else []), config.seed, config.dwt, cfg.tile, cfg.overlap, cfg.merge,
                             cfg.stage1_window])

    def compute(raw: list[Page]) -> list[Page]:
        return merged_pages(raw, stage2_runners(stage2, device), cfg, threads=max(1, config.workers))

    return cached_merged_pages(pages, compute, Path(config.cache_dir) / f"merged-{key}")


def train(config: TrainConfig, resume: bool = True, log: Path | None = None) -> Trainer:
    """Train until ``config.steps`` (or ``time_limit_s``), checkpointing every ``checkpoint_every`` steps and
    on SIGTERM/SIGINT; logs losses per step and validation scores every ``validate_every`` steps."""
    from tqdm import tqdm

    config.require_checkpoints(resume)
    torch.set_num_threads(config.threads)
    torch.backends.cudnn.benchmark = True
    trainer = Trainer(config)
    if not (resume and trainer.resume()) and config.init_from:
        trainer.initialise_from(Path(config.init_from))
    pages = training_pages(config, trainer.device)
    validator = None
    if config.validate_every:
        from docbin.models.validate import Validator

        validator = Validator.for_config(config, trainer.device)
    loader = torch.utils.data.DataLoader(
        BatchStream(pages, config, trainer.step), batch_size=None, num_workers=config.workers,
        pin_memory=trainer.device.type == "cuda", persistent_workers=False,
        prefetch_factor=4 if config.workers else None,
    )
    stop = False

    def request_stop(*_: Any) -> None:
        nonlocal stop
        stop = True

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGTERM, signal.SIGINT)}
    log_file = open(log, "a") if log else None
    started = time.monotonic()
    try:
        with tqdm(total=config.steps, initial=trainer.step, desc=config.name, mininterval=5) as bar:
            batches = iter(loader)
            while trainer.step < config.steps and not stop:
                if config.time_limit_s and time.monotonic() - started > config.time_limit_s:
                    break
                elapsed = time.monotonic() - started
                if 0 < config.adversarial_after_s <= elapsed and config.adversarial_from > trainer.step:
                    config.adversarial_from = trainer.step  # saved with the checkpoint: the step it began at
                x, y = next(batches)
                start = time.perf_counter()
                losses = trainer.train_step(x, y)
                bar.update()
                bar.set_postfix({k: f"{v:.3f}" for k, v in losses.items()}, refresh=False)
                record: dict[str, Any] = {"step": trainer.step, "s": time.perf_counter() - start, **losses}
                if validator and trainer.step % config.validate_every == 0:
                    record["validation"] = validator.run(trainer.generator)
                    bar.write(f"{config.name} step {trainer.step}: {json.dumps(record['validation'])}")
                if log_file:
                    log_file.write(json.dumps(record) + "\n")
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
