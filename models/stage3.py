"""Stage-3 training inputs: the merged maps M_c = (P_c + P_gray) / 2 of whole pages, computed from trained
Stage-2 checkpoints by the inference code itself (:func:`docbin.threestage.pipeline.merged_maps`), so the local generator
trains on exactly what it will see at inference."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import torch

from docbin.models.data import STAGE2, Page
from docbin.models.export import checkpoint_path, load_generator, torch_runner
from docbin.threestage.pipeline import PipelineConfig, Runner, merged_maps


def stage2_runners(checkpoints: Path, device: torch.device) -> dict[str, Runner]:
    """Torch runners of the four Stage-2 generators in ``checkpoints`` on ``device``."""
    return {name: torch_runner(load_generator(checkpoint_path(checkpoints, name))[0], device) for name in STAGE2}


def merged_pages(pages: list[Page], runners: dict[str, Runner], cfg: PipelineConfig, threads: int = 1) -> list[Page]:
    """Each page's merged map M (``uint8`` (H, W, 3)) with its GT; ``threads`` pages at a time."""
    def merge(page: Page) -> Page:
        return Page(merged_maps(page.rgb, runners, cfg), page.gt_ink, page.source)

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        return list(pool.map(merge, pages))


def cache_key(checkpoints: Path, inputs: Any) -> str:
    """A key for the merged maps of a page set: the Stage-2 checkpoint files' bytes and ``inputs`` (anything
    JSON-serialisable that fixes the pages and the Stage-1 transform)."""
    digest = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode())
    for name in STAGE2:
        digest.update(checkpoint_path(checkpoints, name).read_bytes())
    return digest.hexdigest()[:20]


def cached_merged_pages(pages: list[Page], compute: Callable[[list[Page]], list[Page]], folder: Path) -> list[Page]:
    """The merged maps of ``pages`` from ``folder`` (one PNG per page, written when first computed), so a
    resumed or repeated local-generator run skips recomputing them."""
    done = folder / "complete.json"
    if done.is_file() and json.loads(done.read_text()).get("pages") == len(pages):
        return [Page(cv2.cvtColor(cv2.imread(str(folder / f"{i:05d}.png")), cv2.COLOR_BGR2RGB), page.gt_ink, page.source)
                for i, page in enumerate(pages)]
    merged = compute(pages)
    folder.mkdir(parents=True, exist_ok=True)
    for i, page in enumerate(merged):
        tmp = folder / f"{i:05d}.tmp.png"
        cv2.imwrite(str(tmp), cv2.cvtColor(page.rgb, cv2.COLOR_RGB2BGR))
        tmp.replace(folder / f"{i:05d}.png")
    done.write_text(json.dumps({"pages": len(pages)}))
    return merged
