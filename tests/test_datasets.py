"""Dataset loaders on synthetic folders in each archive layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import SHARED

from docbin.datasets.dibco import ground_truth_files, load_pairs, sample_name
from docbin.errors import DatasetError


def touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((4, 4), 255, np.uint8)).save(path)


@pytest.mark.parametrize(
    "layout,expected",
    [
        ({"images/H01.png": "", "gt/H01.png": "", "images/H02.png": "", "gt/H02.png": ""}, ["H01", "H02"]),
        ({"DIBC02009_Test_images-handwritten/H01.bmp": "", "DIBCO2009-GT-Test-images_handwritten/H01.tiff": ""},
         ["H01"]),
        ({"OriginalImages/HW01.bmp": "", "GTimages/HW01_estGT.tiff": ""}, ["HW01"]),
        ({"DIPCO2016_dataset/1.bmp": "", "DIPCO2016_Dataset_GT/1_gt.bmp": ""}, ["1"]),
        ({"1_in.bmp": "", "1_gt.bmp": "", "2_in.bmp": "", "2_gt.bmp": ""}, ["1", "2"]),
        ({"PR1.png": "", "PR1_GT.tiff": ""}, ["PR1"]),
        ({"image/100241706_00006_1.jpg": "", "mask/100241706_00006_1.png": ""}, ["100241706_00006_1"]),
    ],
)
def test_archive_layouts_pair_up(tmp_path: Path, layout: dict[str, str], expected: list[str]) -> None:
    for rel in layout:
        touch(tmp_path / rel)
    pairs = load_pairs(tmp_path)
    assert [p.name for p in pairs] == expected
    assert all(p.image.exists() and p.gt.exists() and p.image != p.gt for p in pairs)
    assert all(sample_name(p.gt) == p.name for p in pairs)


@pytest.mark.parametrize("layout", ["generic", "dkds", "dibco", "dibco2017", "hdibco2014", "auto"])
def test_a_named_layout_reads_only_its_folders(tmp_path: Path, layout: str) -> None:
    scans, gts = {"generic": ("images", "gt"), "dkds": ("image", "mask")}.get(layout, ("scans", "GT"))
    for rel in (f"{scans}/a.png", f"{gts}/a.png", f"{scans}/b.png", f"{gts}/b.png"):
        touch(tmp_path / rel)
    assert [p.name for p in load_pairs(tmp_path, layout)] == ["a", "b"]
    assert [p.name for p in ground_truth_files(tmp_path, layout)] == ["a.png", "b.png"]


def test_a_fixed_layout_names_the_folders_it_needs(tmp_path: Path) -> None:
    for rel in ("Trainset/image/a.png", "Trainset/mask/a.png", "Testset/image/b.png", "Testset/mask/b.png"):
        touch(tmp_path / rel)
    with pytest.raises(DatasetError, match=r"dkds layout needs image/ and mask/ .*pick a split: .*Testset, .*Trainset"):
        load_pairs(tmp_path, "dkds")
    assert [p.name for p in load_pairs(tmp_path / "Testset", "dkds")] == ["b"]
    with pytest.raises(DatasetError, match="generic layout needs images/ and gt/"):
        load_pairs(tmp_path / "Testset", "generic")
    with pytest.raises(DatasetError, match="unknown layout 'dibco2030'"):
        load_pairs(tmp_path, "dibco2030")


def test_unpaired_files_are_listed(tmp_path: Path) -> None:
    for rel in ("images/a.png", "images/b.png", "gt/a.png", "gt/c.png"):
        touch(tmp_path / rel)
    with pytest.raises(DatasetError, match="no ground truth for b; no scan for ground truth c"):
        load_pairs(tmp_path)


def test_empty_or_missing_dataset(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not a folder"):
        load_pairs(tmp_path / "nope")
    (tmp_path / "images").mkdir()
    with pytest.raises(DatasetError, match="found 0 scans"):
        load_pairs(tmp_path)


SHARED_DATA = SHARED / "data"


@pytest.mark.skipif(not SHARED_DATA.exists(), reason="../shared data not available")
def test_shared_sets_load() -> None:
    assert len(load_pairs(SHARED_DATA / "dibco2011")) == 16
    assert len(load_pairs(SHARED_DATA / "hdibco2016")) == 10
