"""Synthetic degraded document pages with exact ground truth, for training the learned binarizer.

`render_page` renders lines of random words (datasets.synth_text), cuts the ground truth from the
rendered coverage (ink where coverage >= 0.5, before any degradation), then builds the appearance:
paper texture, stains and yellowing (datasets.synth_paper), wax seals, tide lines and foxing
(datasets.synth_marks), faded or faint ink of one colour, show-through of a mirrored reverse page,
uneven light, blur, noise and JPEG (datasets.synth_degrade), and optionally lays the page on a surround
(cloth, wood, scanner bed; book edges, curl shadow, rulers, colour charts, tape: datasets.synth_surround)
with camera-style light fall-off. The ground truth is background everywhere but the page's text.

The generator is split into independent streams (text, paper, degradation, and a fourth for the
failure-mode additions) so the same seed gives the same text whatever degradations are switched on, and
pages made with the additions switched off are those of earlier versions. `render_page` also returns the
regions that the stress metrics (docbin.metrics.stress) score: the page region, faint ink, non-ink marks,
the reverse side's text showing through.
No torch here: `SyntheticPages` is a plain iterable.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields

import cv2
import numpy as np

from docbin.datasets import synth_degrade as deg
from docbin.datasets import synth_marks as marks
from docbin.datasets.synth_paper import apply_stains, dark_support, lacunae, paper
from docbin.datasets.synth_surround import lay_on_surround, over
from docbin.datasets.synth_text import HANDS, render_text
from docbin.errors import ParameterError


DARK_SUPPORT_INKS = ("iron_gall", "black")  # the inks of papyri and parchments, darker than the support


@dataclass(frozen=True)
class SynthOptions:
    """Which degradations a page may get: probabilities in [0, 1], fading depth in [0, 1]."""

    hands: tuple[str, ...] = HANDS
    inks: tuple[str, ...] = tuple(deg.INKS)
    cap_height: float | None = None
    texture: bool = True
    stains: float = 0.6
    show_through: float = 0.6
    fading: float = 0.5
    illumination: float = 0.7
    blur: float = 0.5
    noise: float = 0.7
    jpeg: float = 0.5
    # The failure modes of held-out pages (off by default, so earlier pages reproduce):
    surround: float = 0.0  # the page laid on cloth / wood / a scanner bed, with edges, shadow and objects
    faint: float = 0.0  # the whole hand faint: ink opacity 0.2-0.5
    marks: float = 0.0  # chance of each of: a wax seal, water tide lines, foxing
    heavy_show_through: float = 0.0  # bleed-through at 0.35-0.6 opacity instead of 0.1-0.35
    # a second reverse side showing through sharply (blur sigma 0.3-0.8) at the faint ink's 0.2-0.5 opacity: a hard
    # negative, so a model taught to keep faint strokes cannot keep everything faint (dibco2013 HW05's bleed)
    sharp_show_through: float = 0.0
    camera_light: float = 0.0  # strong light fall-off and a colour cast, over page and surround
    # a dark fibrous support (papyrus, browned parchment) at about half of paper's luminance, in iron-gall or
    # carbon-black ink (whatever `inks` says: paler inks would stand lighter than such a support) laid at opacity
    # 0.45-0.9 so that it stands only a little darker, and holes showing the mount on 60 % of such pages
    dark_support: float = 0.0

    def __post_init__(self) -> None:
        for name in ("stains", "show_through", "fading", "illumination", "blur", "noise", "jpeg", "surround",
                     "faint", "marks", "heavy_show_through", "sharp_show_through", "camera_light",
                     "dark_support"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ParameterError(f"synthetic option {name}={value} must be within [0, 1]")
        if self.cap_height is not None and self.cap_height < 4:
            raise ParameterError(f"synthetic cap_height={self.cap_height} must be at least 4 pixels")
        unknown = set(self.hands) - set(HANDS) or set(self.inks) - set(deg.INKS)
        if unknown or not self.hands or not self.inks:
            raise ParameterError(
                f"synthetic hands must be among {HANDS} and inks among {tuple(deg.INKS)}, got "
                f"{self.hands} / {self.inks}"
            )

    @classmethod
    def clean(cls, **overrides: object) -> SynthOptions:
        """Plain paper and full-strength ink: no texture, stains, show-through or scan artefacts."""
        off = dict(texture=False, stains=0.0, show_through=0.0, fading=0.0, illumination=0.0,
                   blur=0.0, noise=0.0, jpeg=0.0)
        return cls(**{**off, **overrides})

    @classmethod
    def robust(cls, **overrides: object) -> SynthOptions:
        """Every failure-mode addition switched on at a training mix's rates (the default degradations too)."""
        return cls.from_kwargs(**{**dict(surround=0.5, faint=0.3, marks=0.4, heavy_show_through=0.25,
                                         camera_light=0.3), **overrides})

    @classmethod
    def from_kwargs(cls, **options: object) -> SynthOptions:
        """Build from keyword options, with a typed error naming any unknown option."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ParameterError(f"unknown synthetic option(s) {unknown}; known: {sorted(known)}")
        return cls(**options)  # type: ignore[arg-type]


@dataclass(frozen=True)
class SynthPage:
    """A synthetic page: ``rgb`` (H x W x 3 uint8), ``gt`` (H x W uint8, ink 0 / background 255) and boolean
    ``regions``: ``page`` (the page itself; the rest is surround), ``faint`` (GT ink laid at opacity < 0.5),
    ``marks`` (seals, tide lines and foxing at opacity >= 0.1, away from the GT ink), ``bleed`` (the mirrored
    text of the reverse side showing through, away from the GT ink), ``dark`` (GT ink laid on a dark support)."""

    rgb: np.ndarray
    gt: np.ndarray
    regions: dict[str, np.ndarray]


def render_page(rng: np.random.Generator, height: int = 512, width: int = 512,
                options: SynthOptions | None = None, **kwargs: object) -> SynthPage:
    """A degraded page, its ground truth and its scoring regions; deterministic given `rng`.

    Options come either as a `SynthOptions` or as its fields by keyword.
    """
    if height < 64 or width < 64:
        raise ParameterError(f"synthetic pages must be at least 64x64, got {height}x{width}")
    if options is not None and kwargs:
        raise ParameterError(f"pass synthetic options either as `options` or by keyword, not both: {sorted(kwargs)}")
    opts = options if options is not None else SynthOptions.from_kwargs(**kwargs)
    # one stream per concern; options added later draw from streams of their own (hard_rng, dark_rng), so pages
    # made before them come out bit for bit the same (spawn(6)'s first five streams are spawn(5)'s)
    text_rng, paper_rng, degrade_rng, mode_rng, hard_rng, dark_rng = rng.spawn(6)

    coverage = render_text(text_rng, height, width, opts.hands, opts.cap_height)

    def chance(p: float, stream: np.random.Generator = degrade_rng) -> bool:
        return bool(stream.random() < p)

    ink = str(paper_rng.choice(opts.inks))
    dark = chance(opts.dark_support, dark_rng)
    if dark:
        ink = str(dark_rng.choice(DARK_SUPPORT_INKS))
        page = dark_support(dark_rng, height, width)
    else:
        page = paper(paper_rng, height, width) if opts.texture else np.ones((height, width, 3), np.float32)
    if chance(opts.stains):
        page = apply_stains(degrade_rng, page)
    mark_opacity = np.zeros((height, width), np.float32)
    for make in (marks.wax_seal, marks.tide_lines, marks.foxing):
        if chance(opts.marks, mode_rng):
            colour, opacity = make(mode_rng, height, width)
            page = over(page, colour, opacity)
            mark_opacity = np.maximum(mark_opacity, opacity)
    heavy = chance(opts.heavy_show_through, mode_rng)
    bleed = np.zeros((height, width), np.float32)  # the reverse side's text as seen through the page
    if chance(opts.show_through) or heavy:
        reverse = render_text(degrade_rng, height, width, opts.hands, opts.cap_height)
        page = deg.show_through(degrade_rng, page, reverse, ink, (0.35, 0.6) if heavy else (0.1, 0.35))
        bleed = reverse[:, ::-1]
    if chance(opts.sharp_show_through, hard_rng):
        reverse = render_text(hard_rng, height, width, opts.hands, opts.cap_height)
        page = deg.show_through(hard_rng, page, reverse, ink, (0.2, 0.5), blur=(0.3, 0.8))
        bleed = np.maximum(bleed, reverse[:, ::-1])
    opacity = deg.fading(degrade_rng, height, width, opts.fading)
    if chance(opts.faint, mode_rng):
        opacity = opacity * mode_rng.uniform(0.2, 0.5)
    if dark:
        opacity = opacity * dark_rng.uniform(0.45, 0.9)
    page = deg.apply_ink(degrade_rng, page, coverage, ink, opacity)
    if dark and dark_rng.random() < 0.6:
        mount, hole = lacunae(dark_rng, height, width)
        page = over(page, mount, hole)
        coverage, mark_opacity, bleed = (layer * (1 - hole) for layer in (coverage, mark_opacity, bleed))
    if chance(opts.illumination):
        page = deg.illumination(degrade_rng, page)
    region = np.ones((height, width), bool)
    if chance(opts.surround, mode_rng):
        page, (coverage, opacity, mark_opacity, bleed), region = lay_on_surround(
            mode_rng, page, (coverage, opacity, mark_opacity, bleed))
    if chance(opts.camera_light, mode_rng):
        page = deg.camera_light(mode_rng, page)
    if chance(opts.blur):
        page = deg.blur(degrade_rng, page)
    if chance(opts.noise):
        page = deg.sensor_noise(degrade_rng, page)
    rgb = deg.to_uint8(page)
    if chance(opts.jpeg):
        rgb = deg.jpeg(degrade_rng, rgb)
    ink_mask = coverage >= 0.5
    near_ink = cv2.dilate(ink_mask.view(np.uint8), np.ones((5, 5), np.uint8)).view(bool)
    regions = {"page": region, "faint": ink_mask & (opacity < 0.5), "marks": (mark_opacity >= 0.1) & ~near_ink,
               "bleed": (bleed >= 0.5) & ~near_ink, "dark": ink_mask & dark}
    return SynthPage(rgb, np.where(ink_mask, 0, 255).astype(np.uint8), regions)


def generate_page(rng: np.random.Generator, height: int = 512, width: int = 512,
                  options: SynthOptions | None = None, **kwargs: object) -> tuple[np.ndarray, np.ndarray]:
    """A degraded page and its ground truth: (RGB uint8 H x W x 3, GT uint8 H x W, ink 0 / bg 255).

    Options come either as a `SynthOptions` or as its fields by keyword; deterministic given `rng`.
    """
    page = render_page(rng, height, width, options, **kwargs)
    return page.rgb, page.gt


class SyntheticPages:
    """An endless, indexable stream of (rgb, gt) pages: page i is made from the seed sequence (seed, i).

    Indexing makes a page reproducible on its own (so data-loader workers can split the stream);
    iterating yields pages `start`, `start + 1`, ... forever.
    """

    def __init__(self, seed: int = 0, height: int = 512, width: int = 512, start: int = 0,
                 options: SynthOptions | None = None, **kwargs: object) -> None:
        self.seed = seed
        self.height = height
        self.width = width
        self.start = start
        self.options = options if options is not None else SynthOptions.from_kwargs(**kwargs)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        if index < 0:
            raise IndexError("synthetic pages are indexed from 0")
        rng = np.random.default_rng([self.seed, index])
        return generate_page(rng, self.height, self.width, options=self.options)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        index = self.start
        while True:
            yield self[index]
            index += 1
