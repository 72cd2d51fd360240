"""Three-stage model folders: where they are, whether they are usable, what they hold.

A model folder holds ``manifest.json`` (each generator's file, ``bytes``, ``sha256`` and training step, the
``pipeline`` settings, the ``precision``) and one ONNX file per generator. The shipped folders are package
data of :mod:`docbin.models`, found with :mod:`importlib.resources`; an environment variable per precision
points at another folder (docs/ARCHITECTURE.md, "How to add a model").

Public API
----------
DEFAULT_PRECISION
    The precision the ``threestage`` method serves by default: the one place to change it.
PRECISIONS, SHIPPED_MODELS, MODEL_DIR_ENVS, MODEL_DIR_ENV, HOW_TO_GET, MANIFEST, MODELS_PACKAGE
    The precisions, their shipped folder names, overriding environment variables (``MODEL_DIR_ENV``: the
    default precision's) and how to make a model of each; the manifest's file name and the package holding
    the shipped folders.
ThreeStageModel, load_model
    A loaded model folder (its config, generator paths and runners) and the checked loader.
model_dir, shipped_model_dir
    Where the model folder of a precision is.
model_problem
    What makes a folder unusable (missing, unreadable, corrupt), or None.
describe_model, precision_status
    A model and a precision as users see them (``docbin methods``, ``GET /v1/methods``).
file_sha256, DIGESTS
    A model file's SHA-256 and the cache of digests already computed.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from docbin.caching import KeyedCache
from docbin.errors import ModelNotFoundError, ParameterError
from docbin.threestage.pipeline import GENERATORS, PipelineConfig, Runner
from docbin.threestage.sessions import onnx_runner

__all__ = [
    "DEFAULT_PRECISION",
    "DIGESTS",
    "HOW_TO_GET",
    "MANIFEST",
    "MODELS_PACKAGE",
    "MODEL_DIR_ENV",
    "MODEL_DIR_ENVS",
    "PRECISIONS",
    "SHIPPED_MODELS",
    "ThreeStageModel",
    "describe_model",
    "file_sha256",
    "load_model",
    "model_dir",
    "model_problem",
    "precision_status",
    "shipped_model_dir",
]

MANIFEST = "manifest.json"
MODELS_PACKAGE = "docbin.models"  # shipped model folders are its package data (docs/ARCHITECTURE.md)
# The model folders per precision: the fp32 export and the 1-bit one (sign bits packed 8 per byte, int8
# activations: docbin.models.export_binary), each overridden by its environment variable
PRECISIONS = ("fp32", "1bit")
SHIPPED_MODELS = {"fp32": "threestage", "1bit": "threestage_1bit"}
MODEL_DIR_ENVS = {"fp32": "DOCBIN_THREESTAGE_DIR", "1bit": "DOCBIN_THREESTAGE_1BIT_DIR"}
# What the threestage method runs by default: the 1-bit model (within 1.0 Avg-Score of fp32 on the dev sets, above
# it in three of five stress modes; under a 15th of its bytes: README, "1-bit model"); fp32 stays selectable
DEFAULT_PRECISION = "1bit"
MODEL_DIR_ENV = MODEL_DIR_ENVS[DEFAULT_PRECISION]  # overrides the default model folder

@dataclass(frozen=True)
class ThreeStageModel:
    """A model folder: ``manifest.json`` and one ONNX file per generator (:func:`load_model` checks it).

    Attributes
    ----------
    directory : pathlib.Path
        The folder.
    manifest : dict
        The parsed ``manifest.json``: ``generators`` (each one's ``file``, ``bytes``, ``sha256``, ``step``),
        ``pipeline`` (:class:`~docbin.threestage.pipeline.PipelineConfig` settings) and ``precision``.
    """

    directory: Path
    manifest: dict[str, Any]

    @property
    def config(self) -> PipelineConfig:
        """The pipeline settings of the manifest's ``pipeline`` section (defaults where absent)."""
        return PipelineConfig.from_mapping(self.manifest.get("pipeline", {}))

    def path(self, generator: str) -> Path:
        """The ONNX file of ``generator`` (one of :data:`~docbin.threestage.pipeline.GENERATORS`), as the
        manifest names it, inside :attr:`directory`.
        """
        return self.directory / self.manifest["generators"][generator]["file"]

    def runners(self, threads: int = 0) -> dict[str, Runner]:
        """An onnxruntime runner per generator (:func:`~docbin.threestage.sessions.onnx_runner`), each
        splitting a batch over ``threads`` threads (0: :func:`docbin.threads.default_threads`).
        """
        return {name: onnx_runner(self.path(name), threads) for name in GENERATORS}

    @property
    def precision(self) -> str:
        """``fp32`` or ``1bit-int8`` (format-1 manifests predate the key: every one of them is an fp32 export)."""
        return str(self.manifest.get("precision", "fp32"))


def shipped_model_dir(name: str = SHIPPED_MODELS[DEFAULT_PRECISION]) -> Path:
    """The model folder ``name`` shipped as package data of :mod:`docbin.models`.

    Found with :mod:`importlib.resources`: the checkout's ``models/NAME`` in an editable install, the
    installed package's ``docbin/models/NAME`` from a wheel. Whether it holds a usable model is
    :func:`model_problem`'s question.

    Parameters
    ----------
    name : str, optional
        The folder's name, a value of :data:`SHIPPED_MODELS` (default: the default precision's).

    Returns
    -------
    pathlib.Path
        The folder's path (it may not exist).

    Examples
    --------
    >>> shipped_model_dir("threestage_1bit").name
    'threestage_1bit'
    """
    return Path(str(resources.files(MODELS_PACKAGE).joinpath(name)))


def model_dir(precision: str = DEFAULT_PRECISION) -> Path:
    """The model folder of a precision: its environment variable if set, else the shipped folder.

    Parameters
    ----------
    precision : {"fp32", "1bit"}, optional
        One of :data:`PRECISIONS`; ``$DOCBIN_THREESTAGE_DIR`` overrides fp32's folder,
        ``$DOCBIN_THREESTAGE_1BIT_DIR`` 1bit's (an empty variable counts as unset).

    Returns
    -------
    pathlib.Path
        The folder (:func:`shipped_model_dir` of the precision's :data:`SHIPPED_MODELS` name by default).

    Raises
    ------
    ParameterError
        When ``precision`` is not in :data:`PRECISIONS`.

    Examples
    --------
    >>> from unittest import mock
    >>> with mock.patch.dict("os.environ", {"DOCBIN_THREESTAGE_1BIT_DIR": "/tmp/my_model"}):
    ...     model_dir("1bit")
    PosixPath('/tmp/my_model')
    """
    if precision not in PRECISIONS:
        raise ParameterError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    return Path(os.environ.get(MODEL_DIR_ENVS[precision]) or shipped_model_dir(SHIPPED_MODELS[precision]))


DIGESTS: KeyedCache[tuple[str, int, int], str] = KeyedCache("SHA-256 of model files", maxsize=64)


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, kept in :data:`DIGESTS` per (path, size, modification time).

    Parameters
    ----------
    path : pathlib.Path
        The file.

    Returns
    -------
    str
        64 lowercase hex digits; a changed file (other size or modification time) is hashed again.

    Raises
    ------
    OSError
        When the file cannot be read.
    """

    def digest() -> str:
        with path.open("rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest()

    stat = path.stat()
    return DIGESTS.get((str(path), stat.st_size, stat.st_mtime_ns), digest)


def differs_from_record(path: Path, entry: Mapping[str, Any]) -> bool:
    """Whether the size or SHA-256 of ``path`` differs from its manifest ``entry`` (what it omits is not
    checked)."""
    if "bytes" in entry and path.stat().st_size != entry["bytes"]:
        return True
    return "sha256" in entry and file_sha256(path) != entry["sha256"]


def model_problem(directory: Path | None = None, precision: str = DEFAULT_PRECISION) -> str | None:
    """What makes a folder unusable as a three-stage model folder, or None.

    Problems, first found first: a missing or unreadable manifest, generators it does not list, missing
    generator files, or files whose size or SHA-256 differs from the manifest's record (a truncated download,
    a Git LFS pointer).

    Parameters
    ----------
    directory : pathlib.Path, optional
        The folder to check.
    precision : {"fp32", "1bit"}, optional
        Whose folder: :func:`model_dir` of it is the default.

    Returns
    -------
    str or None
        One line saying what is wrong, or None for a usable folder.

    Raises
    ------
    ParameterError
        When ``directory`` is None and ``precision`` is not in :data:`PRECISIONS`.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     model_problem(Path(folder))
    'missing manifest.json in ...'
    """
    directory = Path(directory) if directory is not None else model_dir(precision)
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        return f"missing {MANIFEST} in {directory}"
    try:
        generators = json.loads(manifest_path.read_text())["generators"]
        entries = {name: generators[name] for name in GENERATORS if name in generators}
        files = {name: directory / entry["file"] for name, entry in entries.items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"unreadable {manifest_path}: {type(exc).__name__}: {exc}"
    unlisted = [name for name in GENERATORS if name not in entries]
    if unlisted:
        return f"{manifest_path} lists no {', '.join(f'{name}.onnx' for name in unlisted)}"
    missing = [path.name for path in files.values() if not path.is_file()]
    if missing:
        return f"missing {', '.join(missing)} in {directory}"
    corrupt = [path.name for name, path in files.items() if differs_from_record(path, entries[name])]
    if corrupt:
        return f"corrupt {', '.join(corrupt)} in {directory}: size or SHA-256 differs from {MANIFEST}"
    return None


HOW_TO_GET = {
    "fp32": "train with `docbin train --config models/configs/threestage.yaml`, then `docbin export`",
    "1bit": "train with `docbin train --config models/configs/binary.yaml`, then `python -m "
            "docbin.models.export_binary`",
}


def load_model(directory: Path | None = None, precision: str = DEFAULT_PRECISION) -> ThreeStageModel:
    """The three-stage model in a folder, checked first (:func:`model_problem`).

    Parameters
    ----------
    directory : pathlib.Path, optional
        The model folder.
    precision : {"fp32", "1bit"}, optional
        Whose folder: :func:`model_dir` of it is the default. Also names the model in the error message.

    Returns
    -------
    ThreeStageModel
        The folder and its parsed manifest.

    Raises
    ------
    ModelNotFoundError
        When the folder is unusable: the message says what is missing or corrupt and how to get a model
        (:data:`HOW_TO_GET`).
    ParameterError
        When ``directory`` is None and ``precision`` is not in :data:`PRECISIONS`.
    """
    directory = Path(directory) if directory is not None else model_dir(precision)
    problem = model_problem(directory)
    if problem is not None:
        raise ModelNotFoundError(
            f"three-stage {precision} model unusable: {problem} (reinstall docbin, point "
            f"${MODEL_DIR_ENVS[precision]} at a model folder, or {HOW_TO_GET[precision]})"
        )
    return ThreeStageModel(directory, json.loads((directory / MANIFEST).read_text()))


def describe_model(model: ThreeStageModel) -> dict[str, Any]:
    """A model folder as users see it (``docbin methods``, ``GET /v1/methods``).

    Parameters
    ----------
    model : ThreeStageModel
        A loaded model.

    Returns
    -------
    dict
        ``name`` (the folder's name), ``precision``, ``version`` (the first 12 hex digits of the SHA-256 over
        its generators' SHA-256s, in :data:`~docbin.threestage.pipeline.GENERATORS` order), ``steps`` (the
        training step of each generator, None where unrecorded) and ``bytes`` (total size of the generator
        files as recorded).

    Raises
    ------
    KeyError
        When the manifest lacks ``generators`` or one of them.
    """
    generators = model.manifest["generators"]
    digest = hashlib.sha256("".join(generators[name].get("sha256", "") for name in GENERATORS).encode())
    return {
        "name": model.directory.name,
        "precision": model.precision,
        "version": digest.hexdigest()[:12],
        "steps": {name: generators[name].get("step") for name in GENERATORS},
        "bytes": sum(generators[name].get("bytes", 0) for name in GENERATORS),
    }


def precision_status(precision: str) -> dict[str, Any]:
    """Whether a ``precision`` parameter value can run here: its model, or the reason it cannot.

    Parameters
    ----------
    precision : {"fp32", "1bit"}
        A value of :data:`PRECISIONS`.

    Returns
    -------
    dict
        ``{"available": False, "unavailable": reason}`` (:func:`model_problem`), or ``{"available": True}``
        with the model's ``name``, ``precision``, ``version`` and ``bytes`` (:func:`describe_model`).

    Raises
    ------
    ParameterError
        When ``precision`` is not in :data:`PRECISIONS`.
    """
    problem = model_problem(precision=precision)
    if problem is not None:
        return {"available": False, "unavailable": problem}
    model = describe_model(load_model(precision=precision))
    return {"available": True} | {k: model[k] for k in ("name", "precision", "version", "bytes")}
