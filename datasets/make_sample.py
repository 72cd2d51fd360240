"""Make the bundled sample scan and its ground truth from the synthetic generator (deterministic).

    python -m docbin.datasets.make_sample [OUT_DIR]   (default: docbin/samples)

writes sample_scan.png (880 x 640 RGB: iron-gall print, fading, stains, show-through, blur, JPEG)
and sample_gt.png (ink 0 / background 255).
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

from docbin.datasets.synthetic import SynthOptions, generate_page
from docbin.io import atomic_write_bytes

SEED = 2
HEIGHT, WIDTH = 880, 640
OPTIONS = SynthOptions(
    hands=("opencv", "pillow"), inks=("iron_gall",), cap_height=15.0, stains=1.0, show_through=1.0,
    fading=0.7, illumination=1.0, blur=1.0, noise=0.0, jpeg=1.0,
)


def sample_page() -> tuple[np.ndarray, np.ndarray]:
    """The sample (rgb, gt) pair, exactly as committed under docbin/samples."""
    return generate_page(np.random.default_rng(SEED), HEIGHT, WIDTH, options=OPTIONS)


def png_bytes(image: np.ndarray) -> bytes:
    """Lossless PNG of an RGB or gray uint8 array (maximum compression)."""
    pixels = image[..., ::-1] if image.ndim == 3 else image
    _, data = cv2.imencode(".png", pixels, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    return data.tobytes()


def main(out_dir: Path) -> None:
    rgb, gt = sample_page()
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out_dir / "sample_scan.png", png_bytes(rgb))
    atomic_write_bytes(out_dir / "sample_gt.png", png_bytes(gt))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "docbin" / "samples")
