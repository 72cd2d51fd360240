"""What lies around a photographed or scanned page: surrounds, the page's placement and the things on them.

A page is laid on a surround (dark or coloured cloth, wood, a scanner bed or lid, grey board), placed by a
random affine map (shrunk, shifted, slightly rotated) so one to four of its sides show the surround; stacked
page edges (a book's fore-edge) and a curl shadow run along its sides; rulers, colour charts and tape lie on
the surround or across the page edge. None of it is ink: the ground truth is background everywhere but the
page's own text. Colours are RGB float32 in [0, 1], as in :mod:`docbin.datasets.synth_paper`.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from docbin.datasets.synth_paper import value_noise

CLOTH_TONES = np.array(
    [[0.05, 0.05, 0.06], [0.08, 0.10, 0.25], [0.30, 0.06, 0.06], [0.07, 0.20, 0.10], [0.25, 0.17, 0.10],
     [0.45, 0.45, 0.47]],
    np.float32,
)
WOOD_TONES = np.array([[0.45, 0.28, 0.14], [0.60, 0.42, 0.25], [0.30, 0.18, 0.10]], np.float32)
CHART_COLOURS = np.array(
    [[0.02, 0.02, 0.02], [1.0, 1.0, 1.0], [0.5, 0.5, 0.5], [0.8, 0.1, 0.1], [0.1, 0.6, 0.2], [0.1, 0.2, 0.8],
     [0.9, 0.8, 0.1], [0.2, 0.2, 0.2], [0.7, 0.4, 0.6]],
    np.float32,
)
KINDS = ("cloth", "wood", "scanner_bed", "board")


def cloth(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Woven cloth: a dark or coloured tone times a fine weave (two sine gratings) and a soft fold field."""
    tone = CLOTH_TONES[rng.integers(len(CLOTH_TONES))] * rng.uniform(0.7, 1.3)
    period = rng.uniform(2.5, 7.0)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    weave = 1 + rng.uniform(0.05, 0.25) * np.sin(2 * np.pi * x / period) * np.sin(2 * np.pi * y / period)
    folds = 1 + rng.uniform(0.1, 0.5) * (value_noise(rng, height, width, cell=min(height, width) / 3, octaves=2) - 0.5)
    return np.clip(tone[None, None] * (weave * folds)[..., None], 0, 1)


def wood(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Wood grain: value noise stretched along one axis, with darker streaks."""
    long_axis = int(rng.integers(2))
    size = (height, width) if long_axis == 0 else (width, height)
    grain = value_noise(rng, size[0], max(8, size[1] // 12), cell=rng.uniform(2, 6), octaves=3)
    grain = cv2.resize(grain, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)
    grain = grain if long_axis == 0 else grain.T
    tone = WOOD_TONES[rng.integers(len(WOOD_TONES))]
    shade = 0.75 + 0.5 * grain - 0.25 * (grain > rng.uniform(0.65, 0.8))
    return np.clip(tone[None, None] * shade[..., None], 0, 1)


def scanner_bed(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """An open scanner lid (near black) or a closed one (grey to white, with a soft gradient)."""
    level = rng.uniform(0.0, 0.12) if rng.random() < 0.6 else rng.uniform(0.55, 0.9)
    ramp = np.linspace(0, rng.uniform(-0.1, 0.1), width, dtype=np.float32)[None, :]
    bed = np.clip(level + ramp + rng.normal(0, 0.01, (height, width)).astype(np.float32), 0, 1)
    return np.repeat(bed[..., None], 3, axis=2)


def board(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Grey or brown board with a faint mottle."""
    tone = rng.uniform(0.25, 0.7) * np.array([1.0, rng.uniform(0.85, 1.0), rng.uniform(0.7, 1.0)], np.float32)
    mottle = 1 + 0.15 * (value_noise(rng, height, width, cell=rng.uniform(8, 40), octaves=3) - 0.5)
    return np.clip(tone[None, None] * mottle[..., None], 0, 1)


def surround(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """One surround of a random kind (:data:`KINDS`)."""
    make = {"cloth": cloth, "wood": wood, "scanner_bed": scanner_bed, "board": board}[str(rng.choice(KINDS))]
    return make(rng, height, width)


@dataclass
class Placement:
    """Where the page lies on the canvas: the 2 x 3 affine map page -> canvas and the page's side lengths."""

    matrix: np.ndarray
    height: int
    width: int

    def warp(self, image: np.ndarray, interpolation: int, border: float = 0.0) -> np.ndarray:
        """``image`` (page coordinates) carried onto the canvas; outside the page: ``border``."""
        return cv2.warpAffine(image, self.matrix, (self.width, self.height), flags=interpolation,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=border)


def placement(rng: np.random.Generator, height: int, width: int) -> Placement:
    """A page shrunk to 55-95 % of the canvas, rotated up to 4 degrees, shifted so that at least one side
    shows the surround (and often one side runs off the canvas, as in a photographed book)."""
    scale = rng.uniform(0.55, 0.95)
    angle = rng.uniform(-4, 4)
    free_y, free_x = (1 - scale) * height, (1 - scale) * width
    cy = height / 2 + rng.uniform(-0.5, 0.5) * free_y * rng.uniform(1.0, 1.5)
    cx = width / 2 + rng.uniform(-0.5, 0.5) * free_x * rng.uniform(1.0, 1.5)
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, scale)
    matrix[:, 2] += (cx - width / 2, cy - height / 2)
    return Placement(matrix.astype(np.float64), height, width)


def stacked_edges(rng: np.random.Generator, mask: np.ndarray, paper_tone: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A book's fore-edge: thin paper-coloured bands outside one or two of the page's sides, separated by
    dark gaps. Returns (colour, opacity) layers of the canvas."""
    height, width = mask.shape
    opacity = np.zeros((height, width), np.float32)
    layers = int(rng.integers(3, 12))
    step = int(rng.integers(2, 6))
    directions = [(0, 1), (0, -1), (1, 0), (-1, 0)]
    for index in rng.choice(4, size=int(rng.integers(1, 3)), replace=False):
        dy, dx = directions[index]
        for k in range(1, layers + 1):
            shifted = np.roll(mask, (dy * k * step, dx * k * step), axis=(0, 1))
            band = shifted & ~mask & (opacity == 0)
            opacity[band] = rng.uniform(0.6, 0.95) if k % 2 else 0.0
    shade = paper_tone * rng.uniform(0.65, 0.95)
    return np.broadcast_to(shade, (height, width, 3)), cv2.GaussianBlur(opacity, (3, 3), 0)


def curl_shadow(rng: np.random.Generator, mask: np.ndarray) -> np.ndarray:
    """A multiplicative shadow falling off from one side of the page (a curled page or the book's gutter)."""
    height, width = mask.shape
    distance = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    side = int(rng.integers(4))
    axis = np.arange(width if side < 2 else height, dtype=np.float32)
    ramp = axis if side in (0, 2) else axis[::-1]
    ramp = ramp[None, :] if side < 2 else ramp[:, None]
    reach = rng.uniform(0.05, 0.25) * (width if side < 2 else height)
    depth = rng.uniform(0.25, 0.7)
    near_side = np.exp(-ramp / reach)
    near_edge = np.exp(-distance / max(4.0, reach / 3))
    return 1 - depth * np.clip(near_side * 0.7 + near_edge * 0.3 * rng.uniform(0, 1), 0, 1)


def ruler(rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """A light ruler strip with black tick marks and numerals-like blobs. Returns (colour, opacity)."""
    colour = np.zeros((height, width, 3), np.float32)
    opacity = np.zeros((height, width), np.float32)
    thick = int(rng.integers(max(8, height // 40), max(9, height // 14)))
    along_x = rng.random() < 0.5
    length = width if along_x else height
    offset = int(rng.integers(0, max(1, (height if along_x else width) - thick)))
    strip = np.full((thick, length, 3), rng.uniform(0.75, 0.95), np.float32)
    spacing = rng.uniform(6, 14)
    for i, x in enumerate(np.arange(0, length, spacing).astype(int)):
        tick = thick // 2 if i % 10 == 0 else thick // 3 if i % 5 == 0 else thick // 5
        strip[: max(1, tick), x : x + 1 + (i % 10 == 0)] = 0.05
    if not along_x:
        strip = strip.transpose(1, 0, 2)
    window = (slice(offset, offset + thick), slice(0, length)) if along_x else (slice(0, length), slice(offset, offset + thick))
    colour[window] = strip
    opacity[window] = 1.0
    return colour, opacity


def colour_chart(rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """A row of colour patches (black and grey among them) on the surround. Returns (colour, opacity)."""
    colour = np.zeros((height, width, 3), np.float32)
    opacity = np.zeros((height, width), np.float32)
    patch = int(rng.integers(max(8, min(height, width) // 30), max(9, min(height, width) // 10)))
    count = int(rng.integers(4, len(CHART_COLOURS) + 1))
    y0 = int(rng.integers(0, max(1, height - patch)))
    x0 = int(rng.integers(0, max(1, width - patch * count)))
    for i, c in enumerate(rng.permutation(CHART_COLOURS)[:count]):
        colour[y0 : y0 + patch, x0 + i * patch : x0 + (i + 1) * patch] = c
        opacity[y0 : y0 + patch, x0 + i * patch : x0 + (i + 1) * patch] = 1.0
    return colour, opacity


def tape(rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """A translucent strip of yellowed tape at a random angle. Returns (colour, opacity)."""
    layer = np.zeros((height, width), np.uint8)
    centre = (float(rng.uniform(0, width)), float(rng.uniform(0, height)))
    size = (float(rng.uniform(0.1, 0.3) * max(height, width)), float(rng.uniform(0.03, 0.06) * min(height, width)))
    box = cv2.boxPoints((centre, size, float(rng.uniform(0, 180)))).astype(np.int32)
    cv2.fillConvexPoly(layer, box, 255)
    colour = np.array([0.85, 0.78, 0.55], np.float32) * rng.uniform(0.8, 1.0)
    return np.broadcast_to(colour, (height, width, 3)), layer.astype(np.float32) / 255 * rng.uniform(0.25, 0.55)


def over(canvas: np.ndarray, colour: np.ndarray, opacity: np.ndarray) -> np.ndarray:
    """Porter-Duff 'over' of a colour layer with per-pixel opacity."""
    a = opacity[..., None]
    return canvas * (1 - a) + colour * a


def lay_on_surround(
    rng: np.random.Generator, page: np.ndarray, layers: tuple[np.ndarray, ...] = ()
) -> tuple[np.ndarray, tuple[np.ndarray, ...], np.ndarray]:
    """Place ``page`` (RGB float) on a random surround of the same size, with its edges, shadow and objects.

    Returns (canvas RGB float32, each of ``layers`` (float maps of the page, e.g. its ink coverage) carried
    onto the canvas (0 outside the page), the page-region mask)."""
    height, width = page.shape[:2]
    where = placement(rng, height, width)
    canvas = surround(rng, height, width)
    region = where.warp(np.ones((height, width), np.float32), cv2.INTER_LINEAR)
    mask = region >= 0.5
    tone = np.median(page.reshape(-1, 3), axis=0)
    if rng.random() < 0.5:
        canvas = over(canvas, *stacked_edges(rng, mask, tone))
    placed = np.dstack([where.warp(np.ascontiguousarray(page[..., c]), cv2.INTER_AREA) for c in range(3)])
    canvas = canvas * (1 - region[..., None]) + placed
    if rng.random() < 0.5:
        canvas = canvas * curl_shadow(rng, mask)[..., None]
    for make, chance in ((ruler, 0.35), (colour_chart, 0.3), (tape, 0.3)):
        if rng.random() < chance:
            colour, opacity = make(rng, height, width)
            if make is not tape:  # rulers and charts lie beside the page, never over its text
                opacity = opacity * ~mask
            canvas = over(canvas, colour, opacity)
    return canvas.astype(np.float32), tuple(where.warp(layer, cv2.INTER_LINEAR) for layer in layers), mask
