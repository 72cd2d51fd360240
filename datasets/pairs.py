"""Pair a folder of predictions with a dataset's ground truth by page name."""

from __future__ import annotations

from pathlib import Path

from docbin.datasets.dibco import ground_truth_files, image_files, sample_name
from docbin.errors import DatasetError


def pair_predictions(pred_dir: Path, gt_root: Path, layout: str = "auto") -> list[tuple[str, Path, Path]]:
    """``(name, prediction, ground truth)`` for every GT page; ``gt_root`` is a dataset in ``layout`` (see
    :mod:`docbin.datasets.dibco`) or a plain folder of GT images. Unpaired files raise :class:`DatasetError`."""
    if not pred_dir.is_dir():
        raise DatasetError(f"not a folder: {pred_dir}")
    preds = {sample_name(p): p for p in image_files(pred_dir)}
    gts = {sample_name(p): p for p in ground_truth_files(gt_root, layout)}
    missing, extra = sorted(set(gts) - set(preds)), sorted(set(preds) - set(gts))
    if missing or extra or not gts:
        problems = [f"no ground-truth images in {gt_root}"] if not gts else []
        problems += [f"no prediction for {', '.join(missing)}"] if missing else []
        problems += [f"no ground truth for {', '.join(extra)}"] if extra else []
        raise DatasetError("; ".join(problems))
    return [(name, preds[name], gts[name]) for name in sorted(gts)]
