"""Training config files that build on another (``base:``): what a child replaces, what it merges, and the errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from docbin.errors import ParameterError
from docbin.models.settings import read_config


def write(path: Path, spec: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(spec))
    return path


def test_a_config_without_base_is_read_as_written(tmp_path: Path) -> None:
    spec = {"name": "g", "steps": 10, "lr_from": {5: 0.1}}
    assert read_config(write(tmp_path / "g.yaml", spec)) == spec


def test_a_child_merges_common_and_generators_setting_by_setting_and_replaces_each_setting_whole(tmp_path: Path) -> None:
    write(tmp_path / "base.yaml", {
        "name": "base", "checkpoint_dir": "runs/base", "waves": [["gray"], ["global"]],
        "common": {"seed": 1, "steps": 100, "lr_from": {50: 0.1}, "synthetic_options": {"profile": "robust", "faint": 0.3}},
        "generators": {"gray": {"channel": "gray", "steps": 7}, "global": {"channel": "global", "global_size": 512}},
    })
    child = write(tmp_path / "sub" / "child.yaml", {
        "base": "../base.yaml", "name": "child", "waves": [["global"]],
        "common": {"steps": 200, "lr_from": {70: 0.2}, "synthetic_options": {"faint": 0.5}},
        "generators": {"global": {"global_pad_aspect": 1.5}, "red": {"channel": "red"}},
    })
    assert read_config(child) == {
        "name": "child", "checkpoint_dir": "runs/base", "waves": [["global"]],
        "common": {"seed": 1, "steps": 200, "lr_from": {70: 0.2}, "synthetic_options": {"faint": 0.5}},
        "generators": {"gray": {"channel": "gray", "steps": 7},
                       "global": {"channel": "global", "global_size": 512, "global_pad_aspect": 1.5},
                       "red": {"channel": "red"}},
    }


def test_bases_chain_and_the_nearest_file_wins(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", {"name": "a", "steps": 1, "seed": 1, "crop": 64})
    write(tmp_path / "b.yaml", {"base": "a.yaml", "name": "b", "steps": 2})
    c = write(tmp_path / "c.yaml", {"base": "b.yaml", "name": "c", "seed": 3})
    assert read_config(c) == {"name": "c", "steps": 2, "seed": 3, "crop": 64}


def test_a_base_chain_that_comes_back_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", {"base": "b.yaml", "name": "a"})
    write(tmp_path / "b.yaml", {"base": "a.yaml", "name": "b"})
    with pytest.raises(ParameterError, match="comes back"):
        read_config(tmp_path / "a.yaml")


def test_a_missing_base_or_a_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="not found"):
        read_config(write(tmp_path / "a.yaml", {"base": "nowhere.yaml", "name": "a"}))
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n- 2\n")
    with pytest.raises(ParameterError, match="not a mapping"):
        read_config(listed)
