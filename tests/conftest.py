"""Shared test helpers, importable from every test module (``from conftest import ...``; pytest puts this
folder on ``sys.path``), so that no test module imports another. Paths are relative to this file: the tests
run from any working directory."""

from __future__ import annotations

import csv
import functools
import io as bytes_io
import struct
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import pytest
from PIL import Image

from docbin.threestage.pipeline import PipelineConfig

if TYPE_CHECKING:
    from docbin.models.train import TrainConfig

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"  # real data and metric references; tests that need them skip when absent
SAMPLES = REPO / "docbin" / "samples"
SAMPLE_SCAN = SAMPLES / "sample_scan.png"
REFERENCE = SHARED / "reference"  # the official metric values and weight files
needs_shared = pytest.mark.skipif(not REFERENCE.exists(), reason="../shared reference data not available")
# Three-stage pipeline settings for tiny pages: small tiles so they still span several tiles, a small global
# size and minimum side so the global branch runs.
TINY = PipelineConfig(tile=64, overlap=16, batch=3, global_size=64, global_min_side=64, stage1_window=128)


def png(gray: np.ndarray, **save: Any) -> bytes:
    """``gray`` encoded as PNG bytes (``save``: Pillow's PNG options, e.g. ``dpi``)."""
    buffer = bytes_io.BytesIO()
    Image.fromarray(gray).save(buffer, "PNG", **save)
    return buffer.getvalue()


def page_png(size: tuple[int, int] = (80, 120), **save: Any) -> bytes:
    """A small gray page with the word "ink" on it, as PNG bytes."""
    page = np.full(size, 210, np.uint8)
    cv2.putText(page, "ink", (5, size[0] // 2), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 20, 3)
    return png(page, **save)


def png_bytes_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width x height`` (a decompression bomb's calling card)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def error_code(response: Any) -> str:
    """The stable code of a service error response ``{"error": {"code", "message"}}``."""
    return response.json()["error"]["code"]


def text_page(seed: int, size: tuple[int, int] = (120, 200)) -> np.ndarray:
    """A light, slightly uneven page with dark text: ink is known, every method should find it."""
    rng = np.random.default_rng(seed)
    h, w = size
    page = (200 + 30 * np.linspace(0, 1, w)[None, :] + rng.normal(0, 3, (h, w))).clip(0, 255).astype(np.uint8)
    cv2.putText(page, f"page {seed}", (10, h // 2), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 30, 3)
    return page


def synthetic_page(height: int = 150, width: int = 230, seed: int = 0) -> np.ndarray:
    """A stained colour page with dark text."""
    rng = np.random.default_rng(seed)
    page = np.full((height, width, 3), (225, 210, 180), dtype=np.uint8)
    cv2.circle(page, (width // 3, height // 2), height // 3, (170, 140, 110), -1)
    page = cv2.GaussianBlur(page, (0, 0), 5)
    for row in range(3):
        cv2.putText(page, "ink 123", (8, 40 + 45 * row), cv2.FONT_HERSHEY_SIMPLEX, 1.1, (40, 30, 60), 2)
    noise = rng.normal(0, 4, page.shape)
    return np.clip(page + noise, 0, 255).astype(np.uint8)


def exact_window_sums(gray: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integer sums of x and x^2 and the area n of DoxaPy's clipped window (int64 cumulative sums)."""
    before, after = (window - 1) // 2, window // 2

    def box(values: np.ndarray) -> np.ndarray:
        padded = np.pad(values.astype(np.int64), ((before + 1, after), (before + 1, after)))
        table = padded.cumsum(0).cumsum(1)
        return table[window:, window:] - table[:-window, window:] - table[window:, :-window] + table[:-window, :-window]

    return box(gray), box(gray.astype(np.int64) ** 2), box(np.ones_like(gray))


@functools.lru_cache(maxsize=1)
def reference_scores() -> list[tuple[dict[str, str], dict]]:
    """docbin's metrics (pseudo-FM from weights generated from the GT) for the 75 rows of expected.csv,
    computed once per session for the tests of both metrics modules."""
    from docbin import io
    from docbin.metrics import evaluate  # imported here: the metrics (numba) are slow to import for other tests

    with open(REFERENCE / "metrics" / "expected.csv") as handle:
        rows = list(csv.DictReader(handle))
    scores = []
    for row in rows:
        pred = io.read_image(REFERENCE / "metrics" / row["set"] / f"{row['name']}.png")
        gt = io.read_image(SHARED / "data" / row["set"] / "gt" / f"{row['name']}.png")
        scores.append((row, evaluate(pred, gt)))
    return scores


def tiny_dataset(root: Path) -> Path:
    """A training set ``toy`` of two 96 x 96 colour scans of short dark strokes and their GT, under ``root``."""
    rng = np.random.default_rng(0)
    for sub in ("images", "gt"):
        (root / "toy" / sub).mkdir(parents=True)
    for i in range(2):
        gt = np.full((96, 96), 255, np.uint8)
        for _ in range(6):
            y, x = rng.integers(5, 80, size=2)
            gt[y : y + 10, x : x + 3] = 0
        scan = np.where(gt == 0, 60, 200).astype(np.uint8)[..., None].repeat(3, axis=2)
        scan = (scan + rng.normal(0, 8, scan.shape)).clip(0, 255).astype(np.uint8)
        Image.fromarray(scan).save(root / "toy" / "images" / f"p{i}.png")
        Image.fromarray(gt).save(root / "toy" / "gt" / f"p{i}.png")
    return root


def tiny_train_config(root: Path, **kw: object) -> TrainConfig:
    """Training settings for a tiny gray generator on :func:`tiny_dataset` under ``root`` (``kw`` override)."""
    from docbin.models.train import TrainConfig  # imported here: it needs torch, which other tests do without

    base = dict(name="toy", data_root=str(root), sets=["toy"], generator={"in_channels": 1, "base": 4, "depth": 2},
                batch_size=4, crop=32, checkpoint_dir=str(root / "ckpt"), checkpoint_every=5, threads=1)
    return TrainConfig(**(base | kw))
