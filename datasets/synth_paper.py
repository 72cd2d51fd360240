"""Paper for synthetic pages: tone, value-noise texture, fibres, yellowing, stains, show-through, and dark
fibrous supports (papyrus, browned parchment) with lacunae.

Every function takes a numpy Generator and returns float32 arrays; colours are RGB in [0, 1].
Value noise: sum of octaves of uniform random grids upsampled bicubically, amplitude halving per
octave (Perlin, SIGGRAPH 1985, in its cheap lattice-value form).
"""

from __future__ import annotations

import cv2
import numpy as np

PAPER_TONES = np.array(
    [[0.96, 0.94, 0.88], [0.93, 0.87, 0.74], [0.88, 0.80, 0.64], [0.90, 0.89, 0.86], [0.85, 0.76, 0.60]],
    np.float32,
)
# Dark supports at about half of paper's luminance: papyrus browns, browned parchment, a grey-brown
DARK_TONES = np.array(
    [[0.58, 0.50, 0.36], [0.47, 0.40, 0.30], [0.52, 0.46, 0.36], [0.62, 0.53, 0.40], [0.42, 0.36, 0.28],
     [0.55, 0.50, 0.44]],
    np.float32,
)
# What shows through a lacuna: a light mounting card, a dark cloth, a mid-grey board
MOUNT_TONES = np.array([[0.86, 0.83, 0.74], [0.12, 0.11, 0.10], [0.45, 0.45, 0.45]], np.float32)
STAIN_TONES = np.array([[0.55, 0.38, 0.18], [0.70, 0.55, 0.30], [0.45, 0.35, 0.28]], np.float32)


def value_noise(rng: np.random.Generator, height: int, width: int, cell: float,
                octaves: int = 4) -> np.ndarray:
    """Fractal value noise in [0, 1] (float32, H x W) with features about `cell` pixels wide."""
    total = np.zeros((height, width), np.float32)
    amplitude, norm = 1.0, 0.0
    for octave in range(octaves):
        size = cell / 2**octave
        if size < 1.5:
            break
        grid = rng.random((int(height / size) + 2, int(width / size) + 2), dtype=np.float32)
        total += amplitude * cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
        norm += amplitude
        amplitude /= 2
    return np.clip(total / norm, 0.0, 1.0)


def fibres(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Short thin curved fibres as a coverage map in [0, 1]."""
    layer = np.zeros((height, width), np.uint8)
    count = int(height * width / 4000 * rng.uniform(0.2, 1.0))
    starts = rng.random((count, 2)) * (width, height)
    angles = rng.uniform(0, np.pi, count)
    lengths = rng.uniform(4, 25, count)
    bends = rng.normal(0, 0.4, count)
    t = np.linspace(0, 1, 6)[None, :]
    heading = angles[:, None] + bends[:, None] * t
    xs = starts[:, :1] + np.cumsum(np.cos(heading), axis=1) * lengths[:, None] / 6
    ys = starts[:, 1:] + np.cumsum(np.sin(heading), axis=1) * lengths[:, None] / 6
    curves = np.stack([xs, ys], axis=2).round().astype(np.int32)
    cv2.polylines(layer, list(curves), False, 255, 1, cv2.LINE_AA)
    return layer.astype(np.float32) / 255.0


def paper(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Textured, yellowed paper, RGB float32 in [0, 1]."""
    tone = PAPER_TONES[rng.integers(len(PAPER_TONES))] + rng.normal(0, 0.015, 3).astype(np.float32)
    grain = value_noise(rng, height, width, cell=rng.uniform(4, 16), octaves=3) - 0.5
    cloud = value_noise(rng, height, width, cell=min(height, width) / rng.uniform(2, 6)) - 0.5
    shade = 1.0 + rng.uniform(0.02, 0.08) * grain + rng.uniform(0.03, 0.12) * cloud
    shade -= rng.uniform(0.0, 0.12) * fibres(rng, height, width) * rng.choice([-0.5, 1.0])
    page = tone[None, None, :] * shade[..., None]
    return np.clip(apply_yellowing(rng, page), 0.0, 1.0)


def streaks(rng: np.random.Generator, height: int, width: int, stretch: float, vertical: bool) -> np.ndarray:
    """Value noise drawn out ``stretch`` times along one axis: the fibre strips of a papyrus layer, in [0, 1]."""
    cell = rng.uniform(3, 10)
    rows, cols = (max(2, int(height / stretch)), width) if vertical else (height, max(2, int(width / stretch)))
    return cv2.resize(value_noise(rng, rows, cols, cell, octaves=3), (width, height), interpolation=cv2.INTER_CUBIC)


def dark_support(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A dark fibrous writing support, RGB float32 in [0, 1]: a brown tone at about half of paper's luminance
    under two crossed layers of fibre strips (papyrus) or one (a browned, grained parchment), and cloudy shading."""
    tone = DARK_TONES[rng.integers(len(DARK_TONES))] * rng.uniform(0.85, 1.12) + rng.normal(0, 0.015, 3)
    across = streaks(rng, height, width, rng.uniform(8, 30), vertical=False) - 0.5
    down = streaks(rng, height, width, rng.uniform(8, 30), vertical=True) - 0.5
    cloud = value_noise(rng, height, width, cell=min(height, width) / rng.uniform(2, 6)) - 0.5
    shade = 1.0 + rng.uniform(0.15, 0.45) * across + rng.uniform(0.0, 0.35) * down + rng.uniform(0.1, 0.3) * cloud
    return np.clip(tone[None, None, :].astype(np.float32) * shade[..., None], 0.0, 1.0).astype(np.float32)


def lacunae(rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Holes in a damaged support and what shows through them: (mount colour RGB, soft hole mask in [0, 1])."""
    blot = value_noise(rng, height, width, cell=min(height, width) / rng.uniform(3, 8), octaves=4)
    hole = np.clip((blot - rng.uniform(0.68, 0.8)) * 12, 0.0, 1.0)
    mount = MOUNT_TONES[rng.integers(len(MOUNT_TONES))] + rng.normal(0, 0.02, 3).astype(np.float32)
    return np.clip(mount, 0.0, 1.0), hole.astype(np.float32)


def apply_yellowing(rng: np.random.Generator, page: np.ndarray) -> np.ndarray:
    """Brown tint growing towards the edges (an elliptical vignette with a random centre)."""
    height, width = page.shape[:2]
    cy, cx = rng.uniform(0.35, 0.65, 2) * (height, width)
    y = (np.arange(height, dtype=np.float32)[:, None] - cy) / (height / 2)
    x = (np.arange(width, dtype=np.float32)[None, :] - cx) / (width / 2)
    edge = np.clip(np.sqrt(x * x + y * y) - rng.uniform(0.4, 0.9), 0.0, None) ** 1.5
    tint = STAIN_TONES[0] + (1 - STAIN_TONES[0]) * 0.5
    strength = rng.uniform(0.0, 0.5) * edge[..., None]
    return page * (1 - strength + strength * tint)


def stains(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Coffee rings and blotches as an opacity map in [0, 1] (float32, H x W)."""
    opacity = np.zeros((height, width), np.float32)
    scale = min(height, width)
    for _ in range(rng.integers(1, 4)):
        centre = (int(rng.uniform(0, width)), int(rng.uniform(0, height)))
        axes = (int(scale * rng.uniform(0.06, 0.2)),) * 2
        axes = (axes[0], int(axes[1] * rng.uniform(0.8, 1.2)))
        disc = np.zeros((height, width), np.uint8)
        cv2.ellipse(disc, centre, axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)
        sigma = max(1.0, axes[0] * 0.04)
        soft = cv2.GaussianBlur(disc, (0, 0), sigma).astype(np.float32) / 255.0
        rim = soft - cv2.GaussianBlur(disc, (0, 0), sigma * 4).astype(np.float32) / 255.0
        ring = np.clip(rim * 2, 0, 1) * rng.uniform(0.3, 0.7) + soft * rng.uniform(0.05, 0.2)
        opacity = np.maximum(opacity, ring)
    if rng.random() < 0.7:
        blot = value_noise(rng, height, width, cell=scale / rng.uniform(2, 5), octaves=4)
        threshold = rng.uniform(0.6, 0.75)
        opacity = np.maximum(opacity, np.clip((blot - threshold) * 4, 0, 1) * rng.uniform(0.2, 0.6))
    return opacity


def apply_stains(rng: np.random.Generator, page: np.ndarray) -> np.ndarray:
    """Darken the page towards a brown stain colour by the stain opacity."""
    opacity = stains(rng, *page.shape[:2])[..., None]
    colour = STAIN_TONES[rng.integers(len(STAIN_TONES))]
    return page * (1 - opacity + opacity * colour)
