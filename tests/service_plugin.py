"""A test-only method plugin for the service's worker processes: ``sleep-test`` sleeps ``seconds`` and then
thresholds at 128 (imported by each worker through ``Settings(plugins=...)`` and by the test process)."""

from __future__ import annotations

import time

import numpy as np

from docbin import registry

NAME = "sleep-test"


def sleep_then_threshold(gray: np.ndarray, seconds: float) -> np.ndarray:
    time.sleep(seconds)
    return np.where(gray > 128, 255, 0).astype(np.uint8)


METHOD = registry.register(registry.Method(
    NAME, sleep_then_threshold, "test", "test",
    params=(registry.Param("seconds", float, 0.0, "how long to sleep", min=0.0, max=60.0),),
))
