"""Marks on a page that are not ink: wax seals, water tide lines and foxing.

Each maker returns a colour layer (RGB float32 in [0, 1], H x W x 3) and its opacity (float32, H x W), laid
on the page with 'over' (:func:`docbin.datasets.synth_surround.over`). The ground truth never includes them.
"""

from __future__ import annotations

import cv2
import numpy as np

from docbin.datasets.synth_paper import STAIN_TONES, value_noise

WAX_TONES = np.array([[0.55, 0.07, 0.06], [0.40, 0.05, 0.05], [0.65, 0.20, 0.08], [0.25, 0.10, 0.08]], np.float32)


def wax_seal(rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """A wax seal: an irregular dark-red disc with an embossed ring and relief (light and dark rims)."""
    radius = rng.uniform(0.05, 0.12) * min(height, width)
    cy, cx = rng.uniform(radius, height - radius), rng.uniform(radius, width - radius)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = np.arctan2(y - cy, x - cx)
    wobble = 1 + 0.08 * np.sin(angle * rng.integers(3, 8) + rng.uniform(0, 6.3))
    r = np.hypot(y - cy, x - cx) / (radius * wobble)
    disc = np.clip((1.0 - r) * radius / 2, 0, 1)
    relief = 0.15 * np.sin(r * rng.uniform(10, 25)) * (r < 0.8) + 0.25 * np.exp(-((r - 0.75) / 0.05) ** 2)
    tone = WAX_TONES[rng.integers(len(WAX_TONES))]
    colour = np.clip(tone[None, None] * (1 + relief[..., None] * np.array([1.0, 0.6, 0.6], np.float32)), 0, 1)
    return colour.astype(np.float32), (disc * rng.uniform(0.85, 1.0)).astype(np.float32)


def tide_lines(rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Water damage: a faint irregular blotch whose boundary is a darker, sharper tide line."""
    blot = value_noise(rng, height, width, cell=min(height, width) / rng.uniform(1.5, 3.5), octaves=4)
    level = rng.uniform(0.55, 0.7)
    inside = np.clip((blot - level) * 6, 0, 1)
    edge = np.exp(-(((blot - level) / rng.uniform(0.006, 0.02)) ** 2))
    opacity = inside * rng.uniform(0.05, 0.2) + edge * rng.uniform(0.25, 0.6)
    colour = STAIN_TONES[rng.integers(len(STAIN_TONES))] * rng.uniform(0.7, 1.0)
    return np.broadcast_to(colour, (height, width, 3)).astype(np.float32), opacity.astype(np.float32)


def foxing(rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Foxing: scattered rust-brown spots of 1-8 pixels with soft edges, in clusters."""
    layer = np.zeros((height, width), np.float32)
    clusters = int(rng.integers(2, 7))
    for _ in range(clusters):
        cy, cx = rng.uniform(0, height), rng.uniform(0, width)
        spread = rng.uniform(0.03, 0.15) * min(height, width)
        count = int(rng.integers(10, 60))
        for y, x, r in zip(rng.normal(cy, spread, count), rng.normal(cx, spread, count), rng.uniform(1, 8, count)):
            cv2.circle(layer, (int(x), int(y)), int(r), float(rng.uniform(0.3, 0.8)), -1, cv2.LINE_AA)
    colour = np.array([0.55, 0.33, 0.15], np.float32) * rng.uniform(0.8, 1.1)
    return np.broadcast_to(np.clip(colour, 0, 1), (height, width, 3)).astype(np.float32), cv2.GaussianBlur(layer, (0, 0), 1.2)
