"""Pair prediction files with ground-truth files by name (generic ``images/`` + ``gt/`` layout)."""

from __future__ import annotations

import re
from pathlib import Path

from docbin.errors import DatasetError
from docbin.io import SUPPORTED_SUFFIXES

# Ground-truth names across DIBCO years: "HW01_estGT.tiff", "1_gt.bmp", "H01.png", ...
_GT_MARK = re.compile(r"(_estGT|_GT|_gt|-GroundTruth|_GroundTruth)$")


def image_files(folder: Path) -> dict[str, Path]:
    """Image files of ``folder`` keyed by stem with any ground-truth mark removed."""
    if not folder.is_dir():
        raise DatasetError(f"not a folder: {folder}")
    return {
        _GT_MARK.sub("", p.stem): p
        for p in sorted(folder.iterdir())
        if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and not p.name.startswith(".")
    }


def gt_folder(root: Path) -> Path:
    """``root/gt`` for a dataset in the generic layout, else ``root`` itself."""
    return root / "gt" if (root / "gt").is_dir() else root


def pair_predictions(pred_dir: Path, gt_root: Path) -> list[tuple[str, Path, Path]]:
    """``(name, prediction, ground truth)`` for every GT image; a GT without prediction (or a prediction
    without GT) raises :class:`DatasetError` listing them."""
    preds, gts = image_files(pred_dir), image_files(gt_folder(gt_root))
    missing, extra = sorted(set(gts) - set(preds)), sorted(set(preds) - set(gts))
    if missing or extra or not gts:
        problems = []
        if not gts:
            problems.append(f"no ground-truth images in {gt_folder(gt_root)}")
        if missing:
            problems.append(f"no prediction for {', '.join(missing)}")
        if extra:
            problems.append(f"no ground truth for {', '.join(extra)}")
        raise DatasetError("; ".join(problems))
    return [(name, preds[name], gts[name]) for name in sorted(gts)]
