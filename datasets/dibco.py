"""Dataset loaders: pair scans with ground truth in the generic ``images/`` + ``gt/`` layout and in the
layouts the DIBCO/H-DIBCO archives (2009-2019) and DKDS ship in.

The DIBCO archives differ in two ways, both handled by name rules rather than per-year tables:
- where the GT lives: a sibling folder whose name mentions GT (``gt/``, ``GTimages/``,
  ``DIBCO2009-GT-Test-images_handwritten/``, ``DIPCO2016_Dataset_GT/``) or the same folder as the scans;
- how files are named: ``HW01.bmp`` + ``HW01_estGT.tiff`` (2013), ``1_in.bmp``/``1.bmp`` + ``1_gt.bmp``
  (2016-2019), ``H01.bmp`` + ``H01.tiff`` in a GT folder (2009/2010), ``PR1_GT.tiff`` (2011).
DKDS's binarization track (github.com/RuiyangJu/DKDS) keeps each split as ``image/`` + ``mask/`` with one
file stem per page (``Trainset/``, ``Testset/``).

A ``layout`` picks the rules: ``auto`` (all of the above), ``dibco`` (also ``dibco2009`` ... ``hdibco2018``,
``dibco2019``: the same name rules, which cover every year), or a fixed pair of folders, ``generic``
(``images/`` + ``gt/``) or ``dkds`` (``image/`` + ``mask/``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from docbin.errors import DatasetError
from docbin.io import SUPPORTED_SUFFIXES

GT_MARK = re.compile(r"([_-](est)?gt|[_-]groundtruth)$", re.IGNORECASE)
SCAN_MARK = re.compile(r"_in$", re.IGNORECASE)
# "gt", "GTimages", "..._GT", "GroundTruth", DKDS's "mask": upper-case GT anywhere, gt or mask as a word.
GT_FOLDER = re.compile(r"GT|(^|[^a-zA-Z])(gt|mask)([^a-zA-Z]|$)|(?i:ground.?truth)")
FIXED_FOLDERS = {"generic": ("images", "gt"), "dkds": ("image", "mask")}
YEAR_LAYOUT = re.compile(r"h?dibco(20(09|1[0-9]))?")
LAYOUTS = ("auto", "dibco", *FIXED_FOLDERS)


@dataclass(frozen=True)
class Pair:
    name: str
    image: Path
    gt: Path


def image_files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and not p.name.startswith(".")
    )


def sample_name(path: Path) -> str:
    """The page name shared by a scan and its GT: file stem without ``_in`` / ``_gt`` / ``_estGT`` marks."""
    return SCAN_MARK.sub("", GT_MARK.sub("", path.stem))


def _index(paths: list[Path], what: str, folder: Path) -> dict[str, Path]:
    index: dict[str, Path] = {}
    for path in paths:
        name = sample_name(path)
        if name in index:
            raise DatasetError(f"{folder}: two {what} files for page {name!r}: {index[name].name}, {path.name}")
        index[name] = path
    return index


def _subfolders(root: Path) -> tuple[list[Path], list[Path]]:
    """(scan folders, GT folders) directly under ``root``."""
    subfolders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    gt_dirs = [d for d in subfolders if GT_FOLDER.search(d.name)]
    return [d for d in subfolders if d not in gt_dirs and image_files(d)], gt_dirs


def check_layout(layout: str) -> str:
    """``layout`` as the loaders use it (a DIBCO year -> ``dibco``); an unknown one is a DatasetError."""
    if YEAR_LAYOUT.fullmatch(layout):
        return "dibco"
    if layout not in LAYOUTS:
        raise DatasetError(f"unknown layout {layout!r}: use one of {', '.join(LAYOUTS)} (or a DIBCO year, dibco2017)")
    return layout


def _fixed_folders(root: Path, layout: str) -> tuple[Path, Path]:
    """The scan and GT folders of a ``generic`` or ``dkds`` dataset root; a clear error when either is missing."""
    scan_dir, gt_dir = (root / name for name in FIXED_FOLDERS[layout])
    if not (scan_dir.is_dir() and gt_dir.is_dir()):
        splits = [d.name for d in sorted(root.iterdir()) if d.is_dir() and (d / scan_dir.name).is_dir()]
        hint = f" (pick a split: {', '.join(str(root / d) for d in splits)})" if splits else ""
        raise DatasetError(f"{root}: the {layout} layout needs {scan_dir.name}/ and {gt_dir.name}/ folders{hint}")
    return scan_dir, gt_dir


def _folders(root: Path, layout: str) -> tuple[list[Path], list[Path]]:
    """(scan files, GT files) of a dataset root in ``layout``."""
    if layout in FIXED_FOLDERS:
        scan_dir, gt_dir = _fixed_folders(root, layout)
        return image_files(scan_dir), image_files(gt_dir)
    scan_dirs, gt_dirs = _subfolders(root)
    if gt_dirs and scan_dirs:
        return [p for d in scan_dirs for p in image_files(d)], [p for d in gt_dirs for p in image_files(d)]
    files = image_files(root)  # one folder holding both: GT files carry a mark
    return [p for p in files if not GT_MARK.search(p.stem)], [p for p in files if GT_MARK.search(p.stem)]


def ground_truth_files(root: Path, layout: str = "auto") -> list[Path]:
    """The GT images of a dataset root in ``layout``, or (``auto``/``dibco``) of a plain folder of GT images."""
    if not root.is_dir():
        raise DatasetError(f"not a folder: {root}")
    layout = check_layout(layout)
    if layout in FIXED_FOLDERS:
        return image_files(_fixed_folders(root, layout)[1])
    gt_dirs = _subfolders(root)[1]
    if gt_dirs:
        return [p for d in gt_dirs for p in image_files(d)]
    files = image_files(root)
    return [p for p in files if GT_MARK.search(p.stem)] or files


def load_pairs(root: Path, layout: str = "auto") -> list[Pair]:
    """Every (scan, GT) pair of the dataset at ``root`` in ``layout``; unpaired files raise
    :class:`DatasetError` listing them."""
    if not root.is_dir():
        raise DatasetError(f"not a folder: {root}")
    scan_files, gt_files = _folders(root, check_layout(layout))
    scans, gts = _index(scan_files, "scan", root), _index(gt_files, "ground-truth", root)
    if not scans or not gts:
        raise DatasetError(f"{root}: found {len(scans)} scans and {len(gts)} ground-truth images; expected "
                           "images/ + gt/ folders, image/ + mask/ (DKDS), a scan folder beside a GT folder, or *_gt files beside "
                           "scans")
    missing, orphans = sorted(set(scans) - set(gts)), sorted(set(gts) - set(scans))
    if missing or orphans:
        parts = ([f"no ground truth for {', '.join(missing)}"] if missing else []) + (
            [f"no scan for ground truth {', '.join(orphans)}"] if orphans else [])
        raise DatasetError(f"{root}: " + "; ".join(parts))
    return [Pair(name, scans[name], gts[name]) for name in sorted(scans)]
