"""Stage-3 training inputs: the merged maps M_c = (P_c + P_gray) / 2 of whole pages, computed from trained
Stage-2 checkpoints by the inference code itself (:func:`docbin.learned.merged_maps`), so the local generator
trains on exactly what it will see at inference."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

from docbin.learned import PipelineConfig, Runner, merged_maps
from docbin.models.data import STAGE2, Page
from docbin.models.export import checkpoint_path, load_generator, torch_runner


def stage2_runners(checkpoints: Path, device: torch.device) -> dict[str, Runner]:
    """Torch runners of the four Stage-2 generators in ``checkpoints`` on ``device``."""
    return {name: torch_runner(load_generator(checkpoint_path(checkpoints, name))[0], device) for name in STAGE2}


def merged_pages(pages: list[Page], runners: dict[str, Runner], cfg: PipelineConfig, threads: int = 1) -> list[Page]:
    """Each page's merged map M (``uint8`` (H, W, 3)) with its GT; ``threads`` pages at a time."""
    def merge(page: Page) -> Page:
        return Page(merged_maps(page.rgb, runners, cfg), page.gt_ink)

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        return list(pool.map(merge, pages))
