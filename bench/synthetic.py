"""Speed of the synthetic page generator (training samples pages online) vs augraphy's default pipeline.

    python bench/synthetic.py [--pages 40] [--size 512]

Prints the median time per page of docbin.datasets.synthetic.generate_page (all degradations on their
default probabilities; then the failure-mode additions: the robust training profile and each mode always on) and, when augraphy is importable, of augraphy's default pipeline applied to a
clean page of the same size (which only degrades; it does not render text), and their ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import tempfile
import time
from collections.abc import Callable

import numpy as np

from docbin.datasets.synthetic import SynthOptions, SyntheticPages, generate_page


def median_seconds(make: Callable[[int], object], pages: int) -> float:
    times = []
    for i in range(pages):
        start = time.perf_counter()
        make(i)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    size = args.size
    pages = SyntheticPages(seed=0, height=size, width=size)
    pages[0]  # warm caches (fonts)
    ours = median_seconds(lambda i: pages[i], args.pages)
    print(f"docbin synthetic {size}x{size}: {ours * 1e3:.1f} ms/page median ({1 / ours:.1f} pages/s)")
    for label, options in [("robust profile", SynthOptions.robust())] + [
        (f"{mode} always", SynthOptions(**{mode: 1.0}))
        for mode in ("surround", "faint", "marks", "heavy_show_through", "sharp_show_through", "camera_light",
                     "dark_support")
    ]:
        mode_pages = SyntheticPages(seed=0, height=size, width=size, options=options)
        seconds = median_seconds(lambda i: mode_pages[i], args.pages)
        print(f"  {label}: {seconds * 1e3:.1f} ms/page median ({seconds / ours:.2f}x the default pages)")
    try:
        import matplotlib.font_manager  # noqa: F401  (augraphy 8.2.6 uses it without importing it)
        from augraphy import default_augraphy_pipeline
    except ImportError:
        print("augraphy not importable: no peer timing")
        return
    clean, _ = generate_page(np.random.default_rng(0), size, size, options=SynthOptions.clean())
    pipeline = default_augraphy_pipeline()

    def augraphy_page(i: int) -> object:
        random.seed(i)
        np.random.seed(i)
        return pipeline(clean[..., ::-1].copy())

    with tempfile.TemporaryDirectory() as scratch, contextlib.chdir(scratch):  # augraphy caches into the cwd
        augraphy_page(0)  # numba compilation
        theirs = median_seconds(augraphy_page, args.pages)
    print(f"augraphy default pipeline {size}x{size}: {theirs * 1e3:.1f} ms/page median")
    print(f"docbin synthetic is {theirs / ours:.1f}x faster per page")


if __name__ == "__main__":
    main()
