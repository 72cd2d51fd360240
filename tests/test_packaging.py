"""docbin as a user installs it: a wheel built from this checkout, installed non-editable into a fresh venv,
finds its bundled model as package data and binarizes exactly as the checkout does.

The venv borrows this interpreter's third-party packages through a ``.pth`` line (so the test takes seconds,
not a download of every dependency); docbin itself comes only from the wheel: the editable install's import
hook lives in a ``.pth`` file of the borrowed folder, which Python does not process for a folder added that way.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from conftest import REPO, SAMPLE_SCAN

from docbin.threestage.models import DEFAULT_PRECISION, MODEL_DIR_ENVS, SHIPPED_MODELS

pytestmark = pytest.mark.slow

# Top-level folders of the checkout and where pyproject.toml's package-dir mapping installs them.
INSTALLED_AS = {"docbin": "docbin", "models": "docbin/models", "service": "docbin/service", "datasets": "docbin/datasets"}
# Not part of a source distribution: VCS data, environments, build outputs, training checkpoints.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "checkpoints", "runs", "out"
)


def run(args: list[str | Path], cwd: Path, timeout: float = 300) -> str:
    """``args`` run in ``cwd`` without docbin's environment overrides; its stdout (stderr in the failure)."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", *MODEL_DIR_ENVS.values()}}
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{args} exited {result.returncode}:\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(the wheel, the fresh venv's bin folder, an empty working directory outside the checkout)."""
    if not (REPO / "pyproject.toml").is_file():
        pytest.skip("not a source checkout")
    pytest.importorskip("setuptools", minversion="70.1", reason="the wheel build needs setuptools >= 70.1 (dev extra)")
    root = tmp_path_factory.mktemp("packaging")
    src, dist, venv, work = root / "src", root / "dist", root / "venv", root / "work"
    shutil.copytree(REPO, src, ignore=NOT_SOURCE)
    work.mkdir()
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", dist, src], work)
    (wheel,) = dist.glob("docbin-*.whl")
    run([sys.executable, "-m", "venv", "--without-pip", venv], work)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    purelib = Path(run([bindir / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], work).strip())
    borrowed = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (purelib / "borrowed_dependencies.pth").write_text("".join(f"{p}\n" for p in sorted(borrowed)))
    run([sys.executable, "-m", "pip", "--python", bindir / "python", "install", "-q", "--no-deps", "--no-index", wheel],
        work)
    return wheel, bindir, work


def test_the_wheel_carries_every_model_folder(installed: tuple[Path, Path, Path]) -> None:
    wheel, _, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    manifests = sorted((REPO / "models").glob("*/manifest.json"))
    assert manifests, "no model folder found in the checkout"
    for manifest in manifests:
        folder = f"docbin/models/{manifest.parent.name}"
        files = [entry["file"] for entry in json.loads(manifest.read_text())["generators"].values()]
        expected = {f"{folder}/{name}" for name in ["manifest.json", *files]}
        expected |= {f"{folder}/{card.name}" for card in manifest.parent.glob("*.md")}
        assert expected <= names, sorted(expected - names)


def test_the_wheel_carries_every_package(installed: tuple[Path, Path, Path]) -> None:
    """Every package folder of the checkout, under its installed name (pyproject lists packages by name)."""
    wheel, _, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        installed_name(init) for top in INSTALLED_AS for init in (REPO / top).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert expected <= names, sorted(expected - names)


def installed_name(path: Path) -> str:
    """Where the checkout's file ``path`` lands in the wheel (package-dir mapping of pyproject.toml)."""
    top, *rest = path.relative_to(REPO).parts
    return "/".join([INSTALLED_AS[top], *rest])


def test_the_installed_wheel_lists_threestage_and_binarizes_the_sample_as_the_checkout(
    installed: tuple[Path, Path, Path],
) -> None:
    _, bindir, work = installed
    where = run([bindir / "python", "-c", "import docbin, docbin.threestage.models as m; print(docbin.__file__); "
                 "print(m.model_dir()); from importlib import resources; "
                 "print(resources.files('docbin.samples') / 'sample_scan.png')"], work).splitlines()
    venv = bindir.parent.resolve()
    assert all(Path(line).resolve().is_relative_to(venv) for line in where), where  # not the checkout

    listed = {m["name"]: m for m in json.loads(run([bindir / "docbin", "methods", "--json"], work))}
    assert listed["threestage"]["available"], listed["threestage"]["unavailable"]
    assert listed["threestage"]["model"]["name"] == SHIPPED_MODELS[DEFAULT_PRECISION]
    precisions = listed["threestage"]["model"]["precisions"]
    for precision, folder in SHIPPED_MODELS.items():  # every model folder of the checkout ships in the wheel
        if (REPO / "models" / folder / "manifest.json").is_file():
            assert precisions[precision]["available"], precisions[precision]
    assert "UNAVAILABLE" not in run([bindir / "docbin", "methods"], work)

    args = ["--method", "threestage", "-j", "1", "-q"]
    run([bindir / "docbin", "binarize", where[2], "-o", work / "wheel", *args], work)
    run([sys.executable, "-m", "docbin", "binarize", SAMPLE_SCAN, "-o", work / "checkout", *args], work)
    from_wheel = (work / "wheel" / "sample_scan.png").read_bytes()
    assert from_wheel == (work / "checkout" / "sample_scan.png").read_bytes()
    binary = np.asarray(Image.open(BytesIO(from_wheel)).convert("L"))
    assert binary.shape == np.asarray(Image.open(SAMPLE_SCAN)).shape[:2]
    assert 0.01 < (binary == 0).mean() < 0.5 and set(np.unique(binary)) == {0, 255}
