"""A test-only method plugin for batch workers: ``die-on-marker`` kills its process on pages whose first
pixel is 7 (imported by each worker through ``ProcessPoolEngine(plugins=...)``)."""

from __future__ import annotations

import os
import signal

import numpy as np

from docbin import registry

NAME = "die-on-marker"


def die_on_marker(gray: np.ndarray) -> np.ndarray:
    if gray[0, 0] == 7:
        os.kill(os.getpid(), signal.SIGKILL)
    return np.where(gray > 128, 255, 0).astype(np.uint8)


registry.register(registry.Method(NAME, die_on_marker, "test", "test"))
