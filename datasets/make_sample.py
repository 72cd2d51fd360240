"""Make the bundled sample scan and its ground truth from the synthetic generator (deterministic).

    python -m docbin.datasets.make_sample [OUT_DIR]   (default: docbin/samples)

writes sample_scan.png (880 x 640 RGB: iron-gall print, fading, stains, show-through, blur, JPEG)
and sample_gt.png (ink 0 / background 255).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from docbin.datasets.synthetic import SynthOptions, generate_page

SEED = 7
HEIGHT, WIDTH = 880, 640
OPTIONS = SynthOptions(
    hands=("opencv", "pillow"), inks=("iron_gall",), cap_height=15.0, stains=1.0, show_through=1.0,
    fading=0.7, illumination=1.0, blur=1.0, noise=0.0, jpeg=1.0,
)


def sample_page() -> tuple[np.ndarray, np.ndarray]:
    """The sample (rgb, gt) pair, exactly as committed under docbin/samples."""
    return generate_page(np.random.default_rng(SEED), HEIGHT, WIDTH, options=OPTIONS)


def main(out_dir: Path) -> None:
    from docbin.datasets.synth_io import save_pair

    out_dir.mkdir(parents=True, exist_ok=True)
    save_pair(*sample_page(), out_dir / "sample_scan.png", out_dir / "sample_gt.png")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "docbin" / "samples")
