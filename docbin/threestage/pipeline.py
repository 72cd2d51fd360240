"""The three-stage DWT+GAN pipeline of Ju et al. (Knowledge-Based Systems 2024) as pure functions over runners.

No onnxruntime and no torch here: the stages are written against *generator runners* (a callable mapping a
float32 batch ``(N, C, H, W)`` of pixel/255 values to P(ink) of shape ``(N, 1, H, W)`` or ``(N, H, W)``),
so the same code runs onnxruntime sessions in production (:mod:`docbin.threestage.sessions`) and torch
modules in the parity test and in training (:mod:`docbin.models`).

Probability maps between stages are 8-bit images, P(ink) x 255 rounded: the local generator's input
M_c = (P_c + P_gray) / 2 is then an ordinary 3-channel image fed as /255 like every other input, and a
50 MP page holds a few bytes per pixel. Stages (docs/ARCHITECTURE.md, "The three-stage pipeline"):

1. Stage 1, per tile: gray as is; R, G, B through :func:`docbin.stage1.dwt_ll_channel`.
2. Stage 2: four channel generators over overlapping tiles, stitched by :func:`docbin.tiling.apply_tiled`.
3. Stage 3: the local generator over tiles of M; the global generator on the page resized to 512 x 512;
   fused with the 7 x 7-dilated global ink: per pixel as the paper does (local AND global), or per
   connected component of the local ink (``fusion="component"``, the default: a stroke the global
   branch touches is kept whole).

Public API
----------
Runner, Fusion, FUSIONS, GENERATORS, CHANNEL_GENERATORS, COLOUR_CHANNELS, IN_CHANNELS, TILE_MULTIPLE
    The runner type, the fusion rules, the generators the pipeline needs and their input channels, and the
    multiple every tile side must be.
PipelineConfig
    Inference settings (a model's ``manifest.json`` ``pipeline`` section).
run_threestage
    The whole pipeline on an RGB page.
predict_u8, stage1_tiles, stage1_page, tiled_probability, channel_probability, merged_maps, merge_maps,
mirrored_mean_u8, local_probability, global_applies, global_square, global_probability, ink_mask, fuse,
to_probability_u8, to_binary
    Its steps, used by training (:mod:`docbin.models`), validation and the benchmarks.

Over ~500 lines only through its docstrings and their examples (about 210 lines of code): one job,
kept whole."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal

import cv2
import numpy as np

from docbin.preprocess import to_gray, to_rgb
from docbin.stage1 import dwt_ll_channel
from docbin.tiling import Merge, apply_tiled

__all__ = [
    "CHANNEL_GENERATORS",
    "COLOUR_CHANNELS",
    "FUSIONS",
    "GENERATORS",
    "IN_CHANNELS",
    "TILE_MULTIPLE",
    "Fusion",
    "PipelineConfig",
    "Runner",
    "channel_probability",
    "fuse",
    "global_applies",
    "global_probability",
    "global_square",
    "ink_mask",
    "local_probability",
    "merge_maps",
    "merged_maps",
    "mirrored_mean_u8",
    "predict_u8",
    "run_threestage",
    "stage1_page",
    "stage1_tiles",
    "tiled_probability",
    "to_binary",
    "to_probability_u8",
]

Runner = Callable[[np.ndarray], np.ndarray]
Fusion = Literal["component", "pixel"]
FUSIONS: tuple[Fusion, ...] = ("component", "pixel")

CHANNEL_GENERATORS = ("gray", "red", "green", "blue")
COLOUR_CHANNELS = ("red", "green", "blue")
GENERATORS = (*CHANNEL_GENERATORS, "local", "global")
IN_CHANNELS = {"gray": 1, "red": 1, "green": 1, "blue": 1, "local": 3, "global": 3}

# U-Net generators halve the resolution up to 5 times: tile sides must divide evenly.
TILE_MULTIPLE = 32


@dataclass(frozen=True)
class PipelineConfig:
    """Inference settings of the three-stage pipeline; the shipped values live in ``manifest.json``.

    Attributes
    ----------
    tile, overlap : int
        Generator tile side (a multiple of ``TILE_MULTIPLE``) and the overlap of neighbouring tiles, pixels.
    stage1_window : int
        Side of the windows over which a colour channel's Haar LL is min-max normalised (overlapping by a
        quarter, crop-stitched); 0: per generator tile.
    batch : int
        Tiles per generator call.
    merge : {"crop", "max", "mean"}
        How overlapping tile maps combine (:func:`docbin.tiling.apply_tiled`).
    threshold, global_threshold : float
        P(ink) thresholds of the local and the global branch.
    global_size : int
        Side of the square the global branch sees (the side its generator was trained at).
    global_min_side : int
        Pages with a shorter side run without the global branch.
    global_pad_aspect, global_max_aspect : float
        Aspect above which the page is padded to a square for the global branch, and above which the
        global branch does not run.
    fusion_dilation : int
        Side of the square that dilates the global ink before fusion.
    fusion : {"component", "pixel"}
        The fusion rule (:func:`fuse`).
    fuse_global : bool
        Whether the global branch runs at all.
    local_tta : bool
        The local generator also sees each tile mirrored, P(ink) averaged (:func:`mirrored_mean_u8`).
    stage2_tta : bool
        The same for the four channel generators (off by default: ~1.9x the pipeline's time).
    dwt : bool
        False: colour generators see the raw channel (the "without DWT" ablation).
    """

    tile: int = 512
    overlap: int = 64
    # Colour channels' Haar LL is min-max normalised over windows of this side overlapping by a quarter,
    # crop-stitched (0: per generator tile): the window moves the mean Avg-Score by tenths (model card)
    stage1_window: int = 1024
    batch: int = 2  # tiles per call (at least one per thread); 4 tiles of 512^2 cost +300 MB RSS, no speed
    merge: Merge = "max"
    threshold: float = 0.5
    global_threshold: float = 0.5
    global_size: int = 512
    global_min_side: int = 512
    global_pad_aspect: float = 4.0
    global_max_aspect: float = 6.0
    fusion_dilation: int = 7
    # "pixel": the paper's local AND dilated global; "component": keep each local ink component that the
    # dilated global ink touches (+0.21 mean Avg-Score over "pixel" on the validation sets, model card)
    fusion: Fusion = "component"
    fuse_global: bool = True
    local_tta: bool = True  # the local generator also sees each tile mirrored, P(ink) averaged: +0.09, ~20% time
    # the channel generators too: +0.11 mean Avg-Score, ahead on four of five stress modes, but 0.56 -> 0.30 MP/s
    # at 3 MP (model card, nineteenth round), so opt-in
    stage2_tta: bool = False
    dwt: bool = True  # False: colour generators see the raw channel (the "without DWT" ablation)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> PipelineConfig:
        """The config from a manifest's ``pipeline`` section (unknown keys ignored, missing ones default)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


# ---------------------------------------------------------------------------------------------------
# One generator call on 8-bit images
# ---------------------------------------------------------------------------------------------------


def to_probability_u8(p_ink: np.ndarray) -> np.ndarray:
    """P(ink) in [0, 1] -> ``uint8`` map P x 255 rounded (values outside [0, 1] clipped first).

    Parameters
    ----------
    p_ink : ndarray of float
        Ink probabilities, any shape.

    Returns
    -------
    ndarray of uint8
        ``rint(clip(p_ink, 0, 1) * 255)``, same shape (ties round to even).

    Examples
    --------
    >>> import numpy as np
    >>> to_probability_u8(np.array([0.0, 0.5, 1.2]))
    array([  0, 128, 255], dtype=uint8)
    """
    return np.rint(np.clip(p_ink, 0.0, 1.0) * 255.0).astype(np.uint8)


def predict_u8(runner: Runner, images: np.ndarray) -> np.ndarray:
    """Run a generator on 8-bit images and return its ``uint8`` P(ink) maps.

    Parameters
    ----------
    runner : Runner
        A generator: float32 ``(N, C, H, W)`` of pixel/255 -> P(ink) ``(N, 1, H, W)`` or ``(N, H, W)``.
    images : ndarray of uint8, shape (N, H, W) or (N, H, W, C)
        A batch of single- or multi-channel tiles.

    Returns
    -------
    ndarray of uint8, shape (N, H, W)
        P(ink) x 255 rounded (:func:`to_probability_u8`). The network input is pixel/255, float32, NCHW.

    Examples
    --------
    >>> import numpy as np
    >>> darkness = lambda x: 1.0 - x  # a toy runner: P(ink) = 1 - pixel/255
    >>> predict_u8(darkness, np.array([[[0, 255], [51, 255]]], np.uint8))
    array([[[255,   0],
            [204,   0]]], dtype=uint8)
    """
    nchw = images[:, None] if images.ndim == 3 else images.transpose(0, 3, 1, 2)
    # one pass, straight into NCHW order: 8x faster than astype, scale, transpose for a batch of 2 RGB tiles
    x = np.multiply(nchw, np.float32(1.0 / 255.0), dtype=np.float32, order="C")
    p = np.asarray(runner(x))
    n, _, h, w = x.shape
    return to_probability_u8(p.reshape(n, h, w))


def stage1_tiles(channel: str, windows: np.ndarray, dwt: bool = True) -> np.ndarray:
    """Stage 1 on a batch of single-channel tiles: gray as is, a colour channel's Haar LL per tile.

    Parameters
    ----------
    channel : str
        ``"gray"`` or one of :data:`COLOUR_CHANNELS`.
    windows : ndarray of uint8, shape (N, H, W)
        Tiles of that channel.
    dwt : bool, optional
        False: colour tiles are returned raw too (the "without DWT" ablation).

    Returns
    -------
    ndarray of uint8, shape (N, H, W)
        ``windows`` itself for gray (or with ``dwt`` off), else :func:`docbin.stage1.dwt_ll_channel` of each tile.

    References
    ----------
    .. [1] Ju, R.-Y. et al., "Three-stage binarization of color document images based on discrete wavelet
           transform and generative adversarial networks", Knowledge-Based Systems, 2024 (arXiv:2211.16098).
    """
    if channel == "gray" or not dwt:
        return windows
    return np.stack([dwt_ll_channel(w) for w in windows])


def ink_mask(p_u8: np.ndarray, threshold: float) -> np.ndarray:
    """Ink where P(ink) exceeds ``threshold`` (on the 8-bit map: P x 255 > threshold x 255).

    Parameters
    ----------
    p_u8 : ndarray of uint8
        P(ink) map, P x 255.
    threshold : float
        Probability above which a pixel is ink, in [0, 1].

    Returns
    -------
    ndarray of bool
        True where ``p_u8 > threshold * 255``.

    Examples
    --------
    >>> import numpy as np
    >>> ink_mask(np.array([127, 128, 200], np.uint8), 0.5)
    array([False,  True,  True])
    """
    return p_u8 > np.float32(threshold * 255.0)


def merge_maps(p_channel: np.ndarray, p_gray: np.ndarray) -> np.ndarray:
    """Stage 3 input of Ju et al. (KBS 2024): M_c = (P_c + P_gray) / 2 on 8-bit maps (rounded half up).

    Parameters
    ----------
    p_channel, p_gray : ndarray of uint8
        P(ink) maps of a colour channel's generator and of the gray generator, same shape.

    Returns
    -------
    ndarray of uint8
        ``(p_channel + p_gray + 1) // 2``, computed in 8 bits as ``(a | b) - ((a ^ b) >> 1)`` (the ceiling of the
        mean: a + b = 2 (a & b) + (a ^ b)), 4x faster than widening to 16 bits.

    References
    ----------
    .. [1] Ju, R.-Y. et al., "Three-stage binarization of color document images based on discrete wavelet
           transform and generative adversarial networks", Knowledge-Based Systems, 2024 (arXiv:2211.16098).

    Examples
    --------
    >>> import numpy as np
    >>> merge_maps(np.array([0, 255, 100], np.uint8), np.array([1, 0, 101], np.uint8))
    array([  1, 128, 101], dtype=uint8)
    """
    half_diff = np.bitwise_xor(p_channel, p_gray)
    half_diff >>= 1
    return np.subtract(np.bitwise_or(p_channel, p_gray), half_diff, out=half_diff)


# ---------------------------------------------------------------------------------------------------
# The stages
# ---------------------------------------------------------------------------------------------------


def tiled_probability(image: np.ndarray, predict: Callable[[np.ndarray], np.ndarray], cfg: PipelineConfig) -> np.ndarray:
    """``uint8`` P(ink) of a page from a tile predictor over streamed, overlapping tiles.

    Parameters
    ----------
    image : ndarray of uint8, shape (H, W) or (H, W, C)
        The page (or map) to tile.
    predict : callable
        Maps a batch of tiles ``(N, tile, tile[, C])`` to ``uint8`` maps ``(N, tile, tile)``.
    cfg : PipelineConfig
        Inference settings: ``tile``, ``overlap``, ``batch`` (tiles per call) and ``merge`` (how overlaps combine,
        :func:`docbin.tiling.apply_tiled`).

    Returns
    -------
    ndarray of uint8, shape (H, W)
        The stitched map.
    """
    return apply_tiled(
        image, predict, tile=cfg.tile, overlap=cfg.overlap, batch_size=cfg.batch, merge=cfg.merge, out_dtype=np.uint8
    )


def stage1_page(view: np.ndarray, channel: str, cfg: PipelineConfig) -> np.ndarray:
    """Stage 1 of a whole channel view over overlapping windows, crop-stitched.

    Each pixel is normalised with the ``cfg.stage1_window`` window (overlap a quarter of it) where it lies
    farthest from an edge.

    Parameters
    ----------
    view : ndarray of uint8, shape (H, W)
        One channel of the page.
    channel : str
        ``"gray"`` or one of :data:`COLOUR_CHANNELS` (:func:`stage1_tiles`).
    cfg : PipelineConfig
        Inference settings: ``stage1_window`` and ``dwt``.

    Returns
    -------
    ndarray of uint8, shape (H, W)
        The Stage-1 image of the channel.

    References
    ----------
    .. [1] Ju, R.-Y. et al., "Three-stage binarization of color document images based on discrete wavelet
           transform and generative adversarial networks", Knowledge-Based Systems, 2024 (arXiv:2211.16098).
    """
    return apply_tiled(
        view, lambda windows: stage1_tiles(channel, windows, cfg.dwt), tile=cfg.stage1_window,
        overlap=cfg.stage1_window // 4, batch_size=1, merge="crop", out_dtype=np.uint8,
    )


def channel_probability(view: np.ndarray, channel: str, runner: Runner, cfg: PipelineConfig) -> np.ndarray:
    """Stages 1 and 2 for one channel view: the Stage-1 transform, then the channel generator per tile.

    The Stage-1 transform runs over its own windows (:func:`stage1_page`), or per generator tile when
    ``cfg.stage1_window`` is 0, the channel is gray or ``cfg.dwt`` is off. With ``cfg.stage2_tta`` each tile's
    map is averaged with that of its mirror image (:func:`mirrored_mean_u8`).

    Parameters
    ----------
    view : ndarray of uint8, shape (H, W)
        One channel of the page.
    channel : str
        ``"gray"`` or one of :data:`COLOUR_CHANNELS`.
    runner : Runner
        A generator: float32 ``(N, C, H, W)`` of pixel/255 -> P(ink) ``(N, 1, H, W)`` or ``(N, H, W)``.
    cfg : PipelineConfig
        Inference settings.

    Returns
    -------
    ndarray of uint8, shape (H, W)
        The channel generator's P(ink) x 255.

    References
    ----------
    .. [1] Ju, R.-Y. et al., "Three-stage binarization of color document images based on discrete wavelet
           transform and generative adversarial networks", Knowledge-Based Systems, 2024 (arXiv:2211.16098).
    """
    predict = mirrored_mean_u8 if cfg.stage2_tta else predict_u8
    if cfg.stage1_window and channel != "gray" and cfg.dwt:
        return tiled_probability(stage1_page(view, channel, cfg), lambda windows: predict(runner, windows), cfg)
    return tiled_probability(view, lambda windows: predict(runner, stage1_tiles(channel, windows, cfg.dwt)), cfg)


def merged_maps(rgb: np.ndarray, runners: Mapping[str, Runner], cfg: PipelineConfig) -> np.ndarray:
    """Stages 1-2 of a page: the ``(H, W, 3)`` ``uint8`` map M with M_c = (P_c + P_gray) / 2, c = R, G, B.

    Parameters
    ----------
    rgb : ndarray of uint8, shape (H, W) or (H, W, 3)
        The page (gray is expanded to RGB).
    runners : mapping of str to Runner
        The generators ``"gray"``, ``"red"``, ``"green"`` and ``"blue"``.
    cfg : PipelineConfig
        Inference settings.

    Returns
    -------
    ndarray of uint8, shape (H, W, 3)
        M, the local generator's input (:func:`merge_maps` per colour channel).

    Raises
    ------
    KeyError
        When a channel generator is missing from ``runners``.

    References
    ----------
    .. [1] Ju, R.-Y. et al., "Three-stage binarization of color document images based on discrete wavelet
           transform and generative adversarial networks", Knowledge-Based Systems, 2024 (arXiv:2211.16098).
    """
    rgb = to_rgb(rgb)
    p_gray = channel_probability(to_gray(rgb), "gray", runners["gray"], cfg)
    merged = np.empty((*p_gray.shape, 3), dtype=np.uint8)
    for i, channel in enumerate(COLOUR_CHANNELS):  # strided views: no page-sized copies of the channels
        p_c = channel_probability(rgb[:, :, i], channel, runners[channel], cfg)
        merged[:, :, i] = merge_maps(p_c, p_gray)
    return merged


def mirrored_mean_u8(runner: Runner, windows: np.ndarray) -> np.ndarray:
    """Flip test-time augmentation: the mean of the generator's maps of the tiles and of their mirror images.

    The mirrored tiles' maps are mirrored back before averaging; two generator calls, so a call holds no more
    tiles than without the augmentation.

    Parameters
    ----------
    runner : Runner
        A generator: float32 ``(N, C, H, W)`` of pixel/255 -> P(ink) ``(N, 1, H, W)`` or ``(N, H, W)``.
    windows : ndarray of uint8, shape (N, H, W) or (N, H, W, C)
        A batch of tiles.

    Returns
    -------
    ndarray of uint8, shape (N, H, W)
        ``(P + mirror(P_mirrored) + 1) // 2`` on the 8-bit maps (:func:`merge_maps`' rounded mean).

    Examples
    --------
    A runner that answers a left-to-right ramp whatever it sees averages to a flat map:

    >>> import numpy as np
    >>> ramp = lambda x: np.broadcast_to(np.linspace(0, 1, x.shape[-1], dtype=np.float32), x.shape)
    >>> mirrored_mean_u8(ramp, np.zeros((1, 1, 3), np.uint8))
    array([[[128, 128, 128]]], dtype=uint8)
    """
    maps, mirrored = predict_u8(runner, windows), predict_u8(runner, windows[:, :, ::-1])
    return merge_maps(maps, mirrored[:, :, ::-1])


def local_probability(merged: np.ndarray, runner: Runner, cfg: PipelineConfig) -> np.ndarray:
    """Stage 3, local branch: the local generator over tiles of M, ``uint8`` P(ink) ``(H, W)``.

    Parameters
    ----------
    merged : ndarray of uint8, shape (H, W, 3)
        M from :func:`merged_maps`.
    runner : Runner
        A generator: float32 ``(N, C, H, W)`` of pixel/255 -> P(ink) ``(N, 1, H, W)`` or ``(N, H, W)``.
    cfg : PipelineConfig
        Inference settings; with ``local_tta`` each tile's map is averaged with that of its mirror image
        (:func:`mirrored_mean_u8`).

    Returns
    -------
    ndarray of uint8, shape (H, W)
        The local generator's P(ink) x 255.

    References
    ----------
    .. [1] Ju, R.-Y. et al., "Three-stage binarization of color document images based on discrete wavelet
           transform and generative adversarial networks", Knowledge-Based Systems, 2024 (arXiv:2211.16098).
    """
    predict = mirrored_mean_u8 if cfg.local_tta else predict_u8
    return tiled_probability(merged, lambda windows: predict(runner, windows), cfg)


def global_applies(height: int, width: int, cfg: PipelineConfig) -> bool:
    """Whether the global branch runs: pages at least ``global_min_side`` a side, aspect at most ``global_max_aspect``.

    Parameters
    ----------
    height, width : int
        The page's size in pixels.
    cfg : PipelineConfig
        Inference settings: ``global_min_side`` and ``global_max_aspect`` (docs/ARCHITECTURE.md).

    Returns
    -------
    bool
        True when the global branch runs.

    Examples
    --------
    >>> cfg = PipelineConfig()
    >>> global_applies(2000, 1500, cfg), global_applies(400, 3000, cfg), global_applies(600, 4000, cfg)
    (True, False, False)
    """
    aspect = max(height, width) / min(height, width)
    return min(height, width) >= cfg.global_min_side and aspect <= cfg.global_max_aspect


def global_square(image: np.ndarray, cfg: PipelineConfig) -> tuple[np.ndarray, float, float]:
    """The global branch's view of a page: padded white to a square when too elongated, resized to ``global_size``^2.

    Pages whose aspect exceeds ``cfg.global_pad_aspect`` are padded with 255 at the bottom or right to a
    square first; the resize uses area interpolation.

    Parameters
    ----------
    image : ndarray of uint8, shape (H, W) or (H, W, C)
        The page.
    cfg : PipelineConfig
        Inference settings: ``global_pad_aspect`` and ``global_size``.

    Returns
    -------
    square : ndarray of uint8, shape (global_size, global_size) or (global_size, global_size, C)
        The resized (and maybe padded) page.
    fh, fw : float
        The page's height and width as fractions of the square's side (1.0 when not padded).

    Examples
    --------
    >>> import numpy as np
    >>> square, fh, fw = global_square(np.zeros((600, 3000), np.uint8), PipelineConfig())
    >>> square.shape, fh, fw
    ((512, 512), 0.2, 1.0)
    """
    h, w = image.shape[:2]
    if max(h, w) / min(h, w) > cfg.global_pad_aspect:
        side = max(h, w)
        square = np.full((side, side, *image.shape[2:]), 255, dtype=image.dtype)
        square[:h, :w] = image
        fh, fw = h / side, w / side
    else:
        square, fh, fw = image, 1.0, 1.0
    size = cfg.global_size
    return cv2.resize(square, (size, size), interpolation=cv2.INTER_AREA), fh, fw


def global_probability(rgb: np.ndarray, runner: Runner, cfg: PipelineConfig) -> np.ndarray:
    """Stage 3, global branch: one generator call on :func:`global_square`, resized back to the page.

    Parameters
    ----------
    rgb : ndarray of uint8, shape (H, W, 3)
        The page.
    runner : Runner
        A generator: float32 ``(N, C, H, W)`` of pixel/255 -> P(ink) ``(N, 1, H, W)`` or ``(N, H, W)``.
    cfg : PipelineConfig
        Inference settings.

    Returns
    -------
    ndarray of uint8, shape (H, W)
        The page's part of the global map, resized (bilinear) to the page: P(ink) x 255.

    References
    ----------
    .. [1] Ju, R.-Y. et al., "Three-stage binarization of color document images based on discrete wavelet
           transform and generative adversarial networks", Knowledge-Based Systems, 2024 (arXiv:2211.16098).
    """
    h, w = rgb.shape[:2]
    small, fh, fw = global_square(rgb, cfg)
    size = cfg.global_size
    p_small = predict_u8(runner, small[None])[0]
    page_part = p_small[: max(1, round(size * fh)), : max(1, round(size * fw))]
    return cv2.resize(page_part, (w, h), interpolation=cv2.INTER_LINEAR)


def fuse(local_ink: np.ndarray, global_ink: np.ndarray, dilation: int, fusion: Fusion) -> np.ndarray:
    """Fusion of the two Stage-3 branches, the global ink dilated by a ``dilation`` x ``dilation`` square.

    ``"pixel"``, Ju et al. (KBS 2024): ink where the local branch AND the dilated global branch say ink.
    ``"component"``: every 8-connected component of the local ink that the dilated global ink touches,
    whole (morphological reconstruction of the local ink from the pixel rule's ink).

    Parameters
    ----------
    local_ink, global_ink : ndarray of bool, shape (H, W)
        Ink masks of the local and the global branch.
    dilation : int
        Side of the square that dilates the global ink.
    fusion : {"component", "pixel"}
        The fusion rule.

    Returns
    -------
    ndarray of bool, shape (H, W)
        The fused ink mask.

    References
    ----------
    .. [1] Ju, R.-Y. et al., "Three-stage binarization of color document images based on discrete wavelet
           transform and generative adversarial networks", Knowledge-Based Systems, 2024 (arXiv:2211.16098).

    Examples
    --------
    >>> import numpy as np
    >>> local = np.zeros((5, 8), bool)
    >>> local[1:4, 1] = local[2, 2] = True  # a stroke near the global ink
    >>> local[1:4, 6] = True  # a stroke the global branch does not see
    >>> glob = np.zeros((5, 8), bool)
    >>> glob[3, 0] = True
    >>> fuse(local, glob, 3, "pixel").astype(int)
    array([[0, 0, 0, 0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0, 0, 0, 0],
           [0, 1, 0, 0, 0, 0, 0, 0],
           [0, 1, 0, 0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0, 0, 0, 0]])
    >>> fuse(local, glob, 3, "component").astype(int)
    array([[0, 0, 0, 0, 0, 0, 0, 0],
           [0, 1, 0, 0, 0, 0, 0, 0],
           [0, 1, 1, 0, 0, 0, 0, 0],
           [0, 1, 0, 0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0, 0, 0, 0]])
    """
    kernel = np.ones((dilation, dilation), dtype=np.uint8)
    seeds = local_ink & cv2.dilate(global_ink.view(np.uint8), kernel).view(bool)
    if fusion == "pixel":
        return seeds
    count, labels = cv2.connectedComponents(local_ink.view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    touched = np.zeros(count, dtype=bool)
    touched[labels[seeds]] = True
    touched[0] = False  # the background label
    return touched[labels]


def to_binary(ink: np.ndarray) -> np.ndarray:
    """Boolean ink mask -> docbin binary image (ink 0, background 255).

    Parameters
    ----------
    ink : ndarray of bool
        Ink mask.

    Returns
    -------
    ndarray of uint8
        0 where ``ink``, 255 elsewhere: ``ink`` as 0/1 bytes minus 1, wrapping 0 to 255 (one pass, no 64-bit
        temporary: 50x faster than ``np.where`` on a 12 MP page).

    Examples
    --------
    >>> import numpy as np
    >>> to_binary(np.array([[True, False]]))
    array([[  0, 255]], dtype=uint8)
    """
    return np.subtract(ink.view(np.uint8), np.uint8(1))


def run_threestage(rgb: np.ndarray, runners: Mapping[str, Runner], cfg: PipelineConfig) -> np.ndarray:
    """The whole three-stage pipeline on an RGB page.

    Stages 1-2 (:func:`merged_maps`), the local branch thresholded at ``cfg.threshold``; when
    ``cfg.fuse_global`` is on and :func:`global_applies`, fused (:func:`fuse`) with the global branch
    thresholded at ``cfg.global_threshold``.

    Parameters
    ----------
    rgb : ndarray of uint8, shape (H, W, 3)
        The page.
    runners : mapping of str to Runner
        The six generators of :data:`GENERATORS` (``"global"`` only read when the global branch runs).
    cfg : PipelineConfig
        Inference settings.

    Returns
    -------
    ndarray of uint8, shape (H, W)
        Binary image (ink 0, background 255).

    References
    ----------
    .. [1] Ju, R.-Y. et al., "Three-stage binarization of color document images based on discrete wavelet
           transform and generative adversarial networks", Knowledge-Based Systems, 2024 (arXiv:2211.16098).
    """
    local_ink = ink_mask(local_probability(merged_maps(rgb, runners, cfg), runners["local"], cfg), cfg.threshold)
    if not (cfg.fuse_global and global_applies(*rgb.shape[:2], cfg)):
        return to_binary(local_ink)
    global_ink = ink_mask(global_probability(rgb, runners["global"], cfg), cfg.global_threshold)
    return to_binary(fuse(local_ink, global_ink, cfg.fusion_dilation, cfg.fusion))
