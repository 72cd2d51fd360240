"""Train the whole three-stage model from one pipeline config: the four Stage-2 channel generators and the
global generator, then the local generator on the merged maps of the trained Stage-2 generators.

A pipeline config names ``checkpoint_dir``, ``log_dir``, ``common`` training settings, per-generator
overrides under ``generators`` and optionally ``waves``: the order of training as a list of groups, each
group's generators trained at the same time, one process each (default: the first five in groups of
``parallel``, then ``local``). ``overrides`` (``key=value`` pairs from the command line) apply to all.
"""

from __future__ import annotations

import multiprocessing
import signal
from pathlib import Path
from typing import Any

import yaml

from docbin.errors import ParameterError, TrainingError
from docbin.models.data import STAGE2
from docbin.models.settings import read_config
from docbin.models.train import TrainConfig, train

FIRST_WAVE = (*STAGE2, "global")


def is_pipeline(path: Path) -> bool:
    """True for a pipeline config (it has a ``generators`` section), False for one generator's config."""
    return "generators" in read_config(path)


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """``["steps=100", "device=cuda"]`` -> ``{"steps": 100, "device": "cuda"}`` (values parsed as YAML)."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ParameterError(f"override {pair!r} is not key=value")
        out[key.strip()] = yaml.safe_load(value)
    return out


def generator_configs(spec: dict[str, Any], overrides: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each generator's full :class:`TrainConfig` mapping: common settings, its own, then ``overrides``."""
    unknown = set(spec["generators"]) - set(FIRST_WAVE) - {"local"}
    if unknown:
        raise ParameterError(f"unknown generators {sorted(unknown)} in the pipeline config")
    shared = {"checkpoint_dir": spec["checkpoint_dir"], **spec.get("common", {})}
    return {name: {**shared, "name": name, **(own or {}), **overrides} for name, own in spec["generators"].items()}


def _train_one(config: dict[str, Any], log: Path, resume: bool) -> None:
    train(TrainConfig.from_mapping(config), resume=resume, log=log)


def run_wave(configs: list[dict[str, Any]], log_dir: Path, resume: bool) -> None:
    """Train ``configs`` at the same time, each in a fresh process; raise if any of them failed."""
    context = multiprocessing.get_context("spawn")
    log_dir.mkdir(parents=True, exist_ok=True)
    processes = [context.Process(target=_train_one, args=(c, log_dir / f"{c['name']}.jsonl", resume), name=c["name"])
                 for c in configs]
    stopped: list[int] = []

    def stop_all(signum: int, _frame: Any) -> None:  # each trainer checkpoints on SIGTERM before it exits
        stopped.append(signum)
        for p in processes:
            if p.is_alive():
                p.terminate()

    previous = {s: signal.signal(s, stop_all) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        for p in processes:
            p.start()
        for p in processes:
            p.join()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if stopped:  # checkpoints are saved; a later run resumes this wave instead of starting the next
        raise KeyboardInterrupt(f"training stopped by signal {stopped[0]}")
    failed = [p.name for p in processes if p.exitcode != 0]
    if failed:
        raise TrainingError(f"training failed for {failed} (see {log_dir})")


PIPELINE_KEYS = ("parallel", "log_dir", "checkpoint_dir", "only")


def waves(spec: dict[str, Any], names: list[str]) -> list[list[str]]:
    """The pipeline's training order (groups trained together), restricted to ``names``; ``local`` last."""
    if "waves" in spec:
        order = [list(group) for group in spec["waves"]]
    else:
        first, parallel = [n for n in FIRST_WAVE], max(1, int(spec.get("parallel", 1)))
        order = [first[i : i + parallel] for i in range(0, len(first), parallel)] + [["local"]]
    listed = [n for group in order for n in group]
    if "local" in listed and listed[-1] != "local" or sorted(listed) != sorted(set(listed)):
        raise ParameterError(f"waves {order}: each generator once, local last")
    return [kept for group in order if (kept := [n for n in group if n in names])]


def run_pipeline(path: Path, overrides: dict[str, Any] | None = None, resume: bool = True) -> dict[str, Path]:
    """Train every generator of the pipeline config ``path``; returns name -> checkpoint path. Overrides of
    ``parallel``, ``log_dir``, ``checkpoint_dir`` and ``only`` (a list of generators to train) replace the
    pipeline's own; the rest go to every generator."""
    overrides = dict(overrides or {})
    spec = read_config(path) | {k: overrides.pop(k) for k in PIPELINE_KEYS if k in overrides}
    configs = generator_configs(spec, overrides)
    names = [n for n in configs if n in spec.get("only", configs)]
    checked = {n: TrainConfig.from_mapping(configs[n]) for n in names}  # a typo fails here, before any process starts
    log_dir = Path(spec.get("log_dir", "runs"))
    for group in waves(spec, names):
        for name in group:  # checkpoints an earlier wave makes exist by now; a missing one fails before any process
            checked[name].require_checkpoints(resume)
        run_wave([configs[n] for n in group], log_dir, resume)
    return {n: Path(configs[n]["checkpoint_dir"]) / f"{n}.pt" for n in names}
