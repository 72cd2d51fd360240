"""Scan and ageing degradations of a synthetic page (appearance only, never the ground truth).

Ink colours and fading, show-through of the reverse side, uneven illumination, blur, sensor noise and
JPEG compression. Pages are RGB float32 in [0, 1] until `jpeg` turns them into uint8.
"""

from __future__ import annotations

import cv2
import numpy as np

from docbin.datasets.synth_paper import value_noise

INKS: dict[str, tuple[float, float, float]] = {
    "iron_gall": (0.30, 0.20, 0.12),
    "faded_blue": (0.25, 0.33, 0.58),
    "black": (0.08, 0.08, 0.10),
    "pencil": (0.38, 0.38, 0.40),
}


def fading(rng: np.random.Generator, height: int, width: int, depth: float) -> np.ndarray:
    """Ink opacity map in [1 - depth, 1]: smooth patches where the ink has faded."""
    if depth <= 0:
        return np.ones((height, width), np.float32)
    noise = value_noise(rng, height, width, cell=min(height, width) / rng.uniform(3, 8), octaves=3)
    return 1.0 - depth * rng.uniform(0.4, 1.0) * np.clip((noise - 0.3) * 1.8, 0.0, 1.0)


def apply_ink(rng: np.random.Generator, page: np.ndarray, coverage: np.ndarray, ink: str,
              opacity: np.ndarray) -> np.ndarray:
    """Lay ink of one colour over the page: page -> ink colour by coverage x opacity (pencil grainy)."""
    alpha = coverage * opacity
    if ink == "pencil":
        grain = value_noise(rng, *coverage.shape, cell=3, octaves=2)
        alpha = alpha * np.clip(0.55 + grain * 0.7, 0.0, 1.0)
    colour = np.asarray(INKS[ink], np.float32) + rng.normal(0, 0.03, 3).astype(np.float32)
    a = alpha[..., None]
    return page * (1 - a) + np.clip(colour, 0, 1) * a


def show_through(rng: np.random.Generator, page: np.ndarray, reverse: np.ndarray, ink: str,
                 strength: tuple[float, float] = (0.1, 0.35), blur: tuple[float, float] = (0.8, 2.5)) -> np.ndarray:
    """Mirrored text of the other side (bleed-through), blurred by a sigma drawn from ``blur``, at an opacity
    drawn from ``strength``, absent from the ground truth."""
    mirrored = np.ascontiguousarray(reverse[:, ::-1])
    soft = cv2.GaussianBlur(mirrored, (0, 0), rng.uniform(*blur))
    opacity = np.full(soft.shape, rng.uniform(*strength), np.float32)
    return apply_ink(rng, page, soft, ink, opacity)


def illumination(rng: np.random.Generator, page: np.ndarray) -> np.ndarray:
    """Multiply by a smooth light field (a tilted plane plus a low-frequency blob)."""
    height, width = page.shape[:2]
    y = np.linspace(-1, 1, height, dtype=np.float32)[:, None]
    x = np.linspace(-1, 1, width, dtype=np.float32)[None, :]
    gx, gy = rng.normal(0, 0.08, 2)
    blob = value_noise(rng, height, width, cell=min(height, width) / 1.5, octaves=2) - 0.5
    light = 1.0 + gx * x + gy * y + rng.uniform(0.05, 0.25) * blob
    return page * light[..., None]


def camera_light(rng: np.random.Generator, page: np.ndarray) -> np.ndarray:
    """A photographed page's light: a strong linear fall-off across the frame, a cos^4-style vignette about a
    random centre and a warm or cool colour cast (multiplies page and surround alike)."""
    height, width = page.shape[:2]
    y = np.linspace(-1, 1, height, dtype=np.float32)[:, None]
    x = np.linspace(-1, 1, width, dtype=np.float32)[None, :]
    angle = rng.uniform(0, 2 * np.pi)
    ramp = 1 - rng.uniform(0.1, 0.45) * (0.5 + 0.5 * (np.cos(angle) * x + np.sin(angle) * y))
    cy, cx = rng.uniform(-0.4, 0.4, 2)
    vignette = 1 / (1 + rng.uniform(0.1, 0.5) * ((x - cx) ** 2 + (y - cy) ** 2)) ** 2
    cast = 1 + rng.normal(0, 0.05, 3).astype(np.float32)
    return page * (ramp * vignette)[..., None] * cast


def blur(rng: np.random.Generator, page: np.ndarray) -> np.ndarray:
    """Gaussian defocus blur, sigma 0.5-1.3 pixels."""
    return cv2.GaussianBlur(page, (0, 0), rng.uniform(0.5, 1.3))


def sensor_noise(rng: np.random.Generator, page: np.ndarray) -> np.ndarray:
    """Additive Gaussian noise, sigma 1-6 grey levels."""
    sigma = rng.uniform(1, 6) / 255.0
    return page + rng.normal(0, sigma, page.shape).astype(np.float32)


def to_uint8(page: np.ndarray) -> np.ndarray:
    """Clip to [0, 1] and round to uint8."""
    return (np.clip(page, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def jpeg(rng: np.random.Generator, rgb: np.ndarray, quality: tuple[int, int] = (30, 90)) -> np.ndarray:
    """Round-trip through JPEG at a random quality (blocking and ringing artefacts)."""
    q = int(rng.integers(quality[0], quality[1] + 1))
    _, data = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, q])
    return np.ascontiguousarray(cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1])
