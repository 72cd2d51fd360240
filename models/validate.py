"""Validate a Stage-2 channel generator checkpoint on the DIBCO validation sets with docbin's metrics.

    python -m docbin.models.validate models/checkpoints/gray.small.pt --sets dibco2013 hdibco2016
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from docbin import io
from docbin.datasets.dibco import load_pairs
from docbin.metrics import evaluate
from docbin.models.data import VALIDATION_SETS
from docbin.models.export import load_generator, torch_runner
from docbin.preprocess import apply_tiled, to_gray


def validate(checkpoint: Path, data_root: Path, sets: list[str], threshold: float = 0.5) -> dict[str, dict[str, float]]:
    """Mean FM, PSNR and DRD per set of the gray generator's thresholded P(ink) (tiles 256, overlap 32)."""
    generator, _meta = load_generator(checkpoint)
    run = torch_runner(generator.eval())
    results = {}
    for name in sets:
        scores = []
        for pair in load_pairs(data_root / name):
            gray = to_gray(io.read_image(pair.image)).astype(np.float32) / 255
            prob = apply_tiled(gray, lambda b: run(b[:, None])[:, 0], tile=256, overlap=32, merge="max")
            pred = np.where(prob >= threshold, 0, 255).astype(np.uint8)
            scores.append(evaluate(pred, io.read_image(pair.gt)))
        results[name] = {k: float(np.mean([s[k] if s[k] is not None else 100.0 for s in scores]))
                         for k in ("fm", "psnr", "drd")}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--sets", nargs="+", default=sorted(VALIDATION_SETS))
    args = parser.parse_args()
    torch.set_num_threads(1)
    for name, scores in validate(args.checkpoint, args.data, args.sets).items():
        print(f"{name:12s} " + "  ".join(f"{k} {v:.3f}" for k, v in scores.items()))


if __name__ == "__main__":
    main()
