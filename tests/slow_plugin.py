"""A test-only method plugin for batch workers: ``sleep-on-marker`` sleeps a minute on pages whose first
pixel is 7, so a test can interrupt a run with jobs in flight (imported through ``plugins=``)."""

from __future__ import annotations

import time

import numpy as np

from docbin import registry

NAME = "sleep-on-marker"


def sleep_on_marker(gray: np.ndarray) -> np.ndarray:
    if gray[0, 0] == 7:
        time.sleep(60)
    return np.where(gray > 128, 255, 0).astype(np.uint8)


registry.register(registry.Method(NAME, sleep_on_marker, "test", "test"))
