"""Write synthetic (rgb, gt) pairs as lossless PNG files, atomically (no half-written outputs)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from docbin.io import atomic_write_bytes


def png_bytes(image: np.ndarray) -> bytes:
    """Lossless PNG of an RGB or gray uint8 array (maximum compression)."""
    pixels = image[..., ::-1] if image.ndim == 3 else image
    _, data = cv2.imencode(".png", pixels, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    return data.tobytes()


def save_pair(rgb: np.ndarray, gt: np.ndarray, image_path: Path, gt_path: Path) -> None:
    """Write the page and its ground truth; each file appears whole or not at all."""
    atomic_write_bytes(image_path, png_bytes(rgb))
    atomic_write_bytes(gt_path, png_bytes(gt))
