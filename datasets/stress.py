"""The stress set: synthetic pages made for one failure mode each, never trained on.

Held-out DIBCO pages fail where the training data is thin: the surround outside the page, faint ink, and
seals or stains (see docs and the model card); heavy bleed-through is the other side of faint ink (a model
taught to keep faint strokes keeps the reverse side's text too: dibco2013 HW05 in the model card); a dark support
such as papyrus, with ink only a little darker, is where the unseen papyri lose most ink (model card, twenty-seventh
round). Each stress mode switches one of those on at full rate, on
top of the ordinary degradations, from a seed no training run uses (training pages come from
``SyntheticPages(seed=config.seed)``, small seeds), and keeps the regions that isolate the mode
(:data:`docbin.metrics.stress.STRESS_METRICS`). ``docbin benchmark --stress`` scores methods on it.
"""

from __future__ import annotations

import numpy as np

from docbin.datasets.synthetic import SynthOptions, SynthPage, render_page
from docbin.errors import ParameterError

STRESS_SEED = 20261202  # far from the small seeds of the training configs
MODES: dict[str, dict[str, float]] = {
    "surround": {"surround": 1.0},
    "faint": {"faint": 1.0},
    "marks": {"marks": 1.0},
    "bleed": {"heavy_show_through": 1.0},
    "sharp_bleed": {"sharp_show_through": 1.0},
    "dark": {"dark_support": 1.0},
}


def stress_pages(mode: str, count: int = 8, height: int = 1200, width: int = 900) -> list[SynthPage]:
    """The ``count`` pages of one stress ``mode`` (page i from the seed (STRESS_SEED, mode index, i))."""
    if mode not in MODES:
        raise ParameterError(f"unknown stress mode {mode!r}; known: {sorted(MODES)}")
    options = SynthOptions(**MODES[mode])
    index = list(MODES).index(mode)
    return [render_page(np.random.default_rng([STRESS_SEED, index, i]), height, width, options) for i in range(count)]
