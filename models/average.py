"""Uniform weight averaging of generator checkpoints, a "model soup" (Wortsman et al., ICML 2022): generators
fine-tuned from one initialisation are averaged parameter by parameter into one checkpoint of the same size.

    python -m docbin.models.average OUT.small.pt A.pt B.pt [C.pt ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import torch

from docbin.errors import ParameterError
from docbin.models.export import save_checkpoint


def average_state_dicts(states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The element-wise mean of floating-point entries (weights, BatchNorm statistics); other entries
    (BatchNorm's step counters) are taken from the first state."""
    keys = set(states[0])
    if any(set(state) != keys for state in states[1:]):
        raise ParameterError("the checkpoints have different parameters: not one architecture")
    return {
        key: torch.stack([state[key] for state in states]).mean(0) if value.is_floating_point() else value
        for key, value in states[0].items()
    }


def average_checkpoints(sources: list[Path], out: Path) -> dict[str, Any]:
    """Write the soup of ``sources`` (training checkpoints of one generator architecture) to ``out`` as a
    small checkpoint (``state_dict``, ``config`` and ``step`` of the first source, plus ``averaged_from``)."""
    if len(sources) < 2:
        raise ParameterError("averaging needs at least two checkpoints")
    checkpoints = [torch.load(path, map_location="cpu", weights_only=False) for path in sources]
    generators = {repr(checkpoint["config"].get("generator")) for checkpoint in checkpoints}
    if len(generators) > 1:
        raise ParameterError(f"the checkpoints build different generators: {sorted(generators)}")
    soup = {
        "state_dict": average_state_dicts([checkpoint["state_dict"] for checkpoint in checkpoints]),
        "config": checkpoints[0]["config"],
        "step": checkpoints[0]["step"],
        "averaged_from": [{"path": str(path), "step": c["step"]} for path, c in zip(sources, checkpoints, strict=True)],
    }
    save_checkpoint(soup, out)
    return soup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the averaged checkpoint to write")
    parser.add_argument("sources", type=Path, nargs="+", help="two or more checkpoints of one generator")
    args = parser.parse_args()
    try:
        soup = average_checkpoints(args.sources, args.out)
    except (OSError, ValueError, KeyError) as exc:  # missing/unreadable files, mismatched or non-checkpoints
        parser.exit(1, f"error: {exc}\n")
    parts = ", ".join(f"{source['path']} (step {source['step']})" for source in soup["averaged_from"])
    print(f"wrote {args.out}: mean of {parts}")


if __name__ == "__main__":
    main()
