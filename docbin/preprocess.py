"""Pixel-type and colour conversion shared by every method: ``uint8`` scaling, gray (luma or one channel), RGB,
and the split of an RGB page into its gray and colour views.

Conventions (docs/ARCHITECTURE.md): arrays are numpy, colour is RGB order, 8-bit unless stated otherwise.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

from docbin.errors import ParameterError

__all__ = ["Channel", "split_channels", "to_gray", "to_rgb", "to_uint8"]

Channel = Literal["luma", "red", "green", "blue"]
_CHANNEL_INDEX = {"red": 0, "green": 1, "blue": 2}


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Scale 16-bit (or bool/float in [0, 1]) images to ``uint8``; ``uint8`` passes through unchanged."""
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return ((image.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if image.dtype == bool:
        return np.where(image, 255, 0).astype(np.uint8)
    if np.issubdtype(image.dtype, np.floating):
        return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)
    raise ParameterError(f"unsupported pixel type {image.dtype}")


def to_gray(image: np.ndarray, channel: Channel = "luma") -> np.ndarray:
    """Gray ``uint8`` image: ITU-R BT.601 luma (OpenCV's RGB2GRAY) or one chosen RGB channel."""
    image = to_uint8(image)
    if image.ndim == 2:
        return image
    if image.ndim != 3 or image.shape[2] != 3:
        raise ParameterError(f"expected a gray (H, W) or RGB (H, W, 3) image, got shape {image.shape}")
    if channel == "luma":
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return np.ascontiguousarray(image[:, :, _CHANNEL_INDEX[channel]])


def to_rgb(image: np.ndarray) -> np.ndarray:
    """RGB ``uint8`` image (gray is replicated into three channels)."""
    image = to_uint8(image)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ParameterError(f"expected a gray (H, W) or RGB (H, W, 3) image, got shape {image.shape}")
    return image


def split_channels(rgb: np.ndarray) -> dict[str, np.ndarray]:
    """The three-stage pipeline's four single-channel views: gray (luma), red, green, blue."""
    rgb = to_rgb(rgb)
    return {
        "gray": to_gray(rgb),
        "red": np.ascontiguousarray(rgb[:, :, 0]),
        "green": np.ascontiguousarray(rgb[:, :, 1]),
        "blue": np.ascontiguousarray(rgb[:, :, 2]),
    }
