"""The ``threestage`` binarization method: its parameters, entry point and registration.

Importing this module registers the method with :mod:`docbin.registry` (it is one of the registry's
providers); the pipeline is :mod:`docbin.threestage.pipeline`, the model folders
:mod:`docbin.threestage.models`.

Public API
----------
binarize_threestage
    The registry's entry point: the model of a precision with optional overrides of its settings.
check_params
    The checks of :func:`binarize_threestage`'s parameters against the model, before any page.
about_model
    The served model and the values the parameters' 0 / -1 defaults stand for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from docbin.errors import ParameterError
from docbin.threads import default_threads
from docbin.threestage.models import (
    DEFAULT_PRECISION,
    PRECISIONS,
    describe_model,
    load_model,
    model_problem,
    precision_status,
)
from docbin.threestage.pipeline import FUSIONS, TILE_MULTIPLE, PipelineConfig, run_threestage

__all__ = ["about_model", "binarize_threestage", "check_params"]


def binarize_threestage(
    rgb: np.ndarray,
    tile: int = 0,
    overlap: int = -1,
    threshold: float = -1.0,
    threads: int = 0,
    fuse_global: bool = True,
    stage1_window: int = -1,
    local_tta: bool = True,
    stage2_tta: bool = False,
    fusion: str = "model",
    precision: str = DEFAULT_PRECISION,
) -> np.ndarray:
    """Registry entry point of ``threestage``: the model of ``precision`` on a page, with optional overrides.

    0 / -1 keep the manifest's values (:class:`~docbin.threestage.pipeline.PipelineConfig`).

    Parameters
    ----------
    rgb : ndarray of uint8, shape (H, W, 3)
        The page.
    tile : int, optional
        Tile side in pixels, a multiple of ``TILE_MULTIPLE`` larger than the overlap (0: the model's).
    overlap : int, optional
        Tile overlap in pixels (-1: the model's).
    threshold : float, optional
        P(ink) threshold of the local branch (-1: the model's).
    threads : int, optional
        Inference threads, each running a slice of a tile batch (0: :func:`docbin.threads.default_threads`);
        the batch holds at least one tile per thread.
    fuse_global : bool, optional
        Fuse the local branch with the dilated global branch.
    stage1_window : int, optional
        Window of the colour channels' Haar-LL normalisation: 0 per tile, else at least ``TILE_MULTIPLE``
        (-1: the model's).
    local_tta : bool, optional
        Average the local generator's maps of each tile and of its mirror image.
    stage2_tta : bool, optional
        The same for the four channel generators of Stage 2 (slower: model card, nineteenth round).
    fusion : {"model", "component", "pixel"}, optional
        Fusion rule (:func:`~docbin.threestage.pipeline.fuse`; "model": the model's).
    precision : {"fp32", "1bit"}, optional
        Which model folder (:func:`~docbin.threestage.models.model_dir`).

    Returns
    -------
    ndarray of uint8, shape (H, W)
        Binary image (ink 0, background 255).

    Raises
    ------
    ModelNotFoundError
        When the model of ``precision`` is unusable (:func:`~docbin.threestage.models.load_model`).
    ParameterError
        For an unknown precision, a tile side the generators cannot use, or a too small ``stage1_window``.

    References
    ----------
    .. [1] Ju, R.-Y. et al., "Three-stage binarization of color document images based on discrete wavelet
           transform and generative adversarial networks", Knowledge-Based Systems, 2024 (arXiv:2211.16098).
    """
    model = load_model(precision=precision)
    cfg = _overridden(model.config, tile, overlap, threshold, threads, fuse_global, stage1_window, local_tta,
                      stage2_tta, fusion)
    return run_threestage(rgb, model.runners(threads), cfg)


def _overridden(base: PipelineConfig, tile: int, overlap: int, threshold: float, threads: int, fuse_global: bool,
                stage1_window: int, local_tta: bool, stage2_tta: bool, fusion: str) -> PipelineConfig:
    """``base`` with :func:`binarize_threestage`'s overrides; :class:`ParameterError` for a tile side the
    generators cannot use (a multiple of their down-sampling, larger than the overlap)."""
    cfg = replace(
        base,
        batch=max(base.batch, threads),  # at least one tile per inference thread
        tile=tile or base.tile,
        overlap=overlap if overlap >= 0 else base.overlap,
        threshold=threshold if threshold >= 0 else base.threshold,
        fuse_global=fuse_global,
        fusion=base.fusion if fusion == "model" else fusion,
        local_tta=local_tta,
        stage2_tta=stage2_tta,
        stage1_window=stage1_window if stage1_window >= 0 else base.stage1_window,
    )
    if cfg.tile % TILE_MULTIPLE or cfg.overlap >= cfg.tile:
        raise ParameterError(
            f"tile must be a multiple of {TILE_MULTIPLE} larger than overlap, got tile={cfg.tile} overlap={cfg.overlap}"
        )
    if 0 < cfg.stage1_window < TILE_MULTIPLE:
        raise ParameterError(f"stage1_window must be 0 (per tile) or at least {TILE_MULTIPLE}, got {cfg.stage1_window}")
    return cfg


def check_params(params: Mapping[str, Any]) -> None:
    """The checks :func:`binarize_threestage` makes on the model's configuration, before any page.

    Nothing is checked while the model is unusable: choosing the method says why.

    Parameters
    ----------
    params : mapping of str to Any
        Keyword arguments of :func:`binarize_threestage` other than ``rgb`` (``precision`` optional).

    Raises
    ------
    ParameterError
        For an unknown precision, a tile side the generators cannot use, or a too small ``stage1_window``.
    TypeError
        For a key that is not a parameter of :func:`binarize_threestage`.
    """
    settings = dict(params)
    precision = settings.pop("precision", DEFAULT_PRECISION)
    if model_problem(precision=precision) is None:
        _overridden(load_model(precision=precision).config, **settings)


def about_model() -> dict[str, Any]:
    """The served model as users see it (``GET /v1/methods``, the upload page).

    Returns
    -------
    dict
        ``model``: :func:`~docbin.threestage.models.describe_model` of the default precision's model (its
        precision, a version: the first 12 hex digits of the SHA-256 over its generators' SHA-256s, training
        steps, bytes) plus ``precisions``, :func:`~docbin.threestage.models.precision_status` of each;
        ``defaults``: the values the 0 / -1 parameter defaults of :func:`binarize_threestage` stand for
        (tile, overlap, threshold, threads, fusion, stage1_window).

    Raises
    ------
    ModelNotFoundError
        When the default model is unusable.
    """
    model = load_model()
    cfg = model.config
    return {
        "model": describe_model(model) | {"precisions": {p: precision_status(p) for p in PRECISIONS}},
        "defaults": {
            "tile": cfg.tile, "overlap": cfg.overlap, "threshold": cfg.threshold, "threads": default_threads(),
            "fusion": cfg.fusion, "stage1_window": cfg.stage1_window,
        },
    }


def _register() -> None:
    from docbin.registry import Method, Param, register

    register(
        Method(
            name="threestage",
            func=binarize_threestage,
            description="Three-stage DWT+GAN colour-channel generators (trained here) on onnxruntime",
            reference="Ju et al., Knowledge-Based Systems 2024 (arXiv 2211.16098)",
            params=(
                Param("tile", int, 0, "tile side in pixels (0: the model's, 512)", min=0, max=4096,
                      label="Tile size (px)"),
                Param("overlap", int, -1, "tile overlap in pixels (-1: the model's)", min=-1, max=1024,
                      label="Tile overlap (px)"),
                Param("threshold", float, -1.0, "P(ink) threshold of the local branch (-1: the model's)",
                      min=-1.0, max=1.0, label="Ink probability threshold"),
                Param("threads", int, 0, "inference threads, each running a slice of a tile batch (0: $DOCBIN_THREADS or one per core)",
                      min=0, max=256, label="Inference threads", advanced=True),
                Param("fuse_global", bool, True, "fuse the local branch with the dilated global branch",
                      label="Fuse the global branch", advanced=True),
                Param("fusion", str, "model",
                      "fusion rule: component (keep local ink components the global ink touches), pixel (the "
                      "paper's local AND global), model (the model's)", choices=("model", *FUSIONS),
                      label="Fusion rule", advanced=True),
                Param("local_tta", bool, True, "average the local generator's maps of each tile and its mirror image",
                      label="Mirror augmentation", advanced=True),
                Param("stage2_tta", bool, False,
                      "also average the four channel generators' maps with their mirror images (~1.9x slower)",
                      label="Mirror augmentation in Stage 2", advanced=True),
                Param("stage1_window", int, -1,
                      "window of the colour channels' Haar-LL normalisation (-1: the model's; 0: each tile)",
                      min=-1, max=16384, label="Stage-1 window (px)", advanced=True),
                Param("precision", str, DEFAULT_PRECISION,
                      "model weights: fp32 (models/threestage) or 1bit (1-bit convs, int8 activations: "
                      "models/threestage_1bit, where installed)", choices=PRECISIONS, label="Model precision",
                      advanced=True),
            ),
            input="rgb",
            family="learned",
            about=about_model,
            check=model_problem,
            check_params=check_params,
        )
    )


_register()
