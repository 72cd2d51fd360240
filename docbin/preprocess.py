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
    """Scale an image to ``uint8``.

    Parameters
    ----------
    image : ndarray
        ``uint8`` (returned as is), ``uint16`` (``(x + 128) // 257``, so 65535 -> 255), bool (True -> 255) or
        float in [0, 1] (``rint(x * 255)``, clipped).

    Returns
    -------
    ndarray
        The image as ``uint8``, same shape.

    Raises
    ------
    ParameterError
        For any other pixel type.

    Examples
    --------
    >>> to_uint8(np.array([[0, 257, 65535]], np.uint16)).tolist()
    [[0, 1, 255]]
    """
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
    """A gray ``uint8`` image: ITU-R BT.601 luma or one colour channel.

    Parameters
    ----------
    image : ndarray
        Gray ``(H, W)`` or RGB ``(H, W, 3)``, any type :func:`to_uint8` takes.
    channel : {"luma", "red", "green", "blue"}, optional
        "luma": Y = 0.299 R + 0.587 G + 0.114 B (OpenCV's ``COLOR_RGB2GRAY``); else that channel.

    Returns
    -------
    ndarray
        ``(H, W)`` ``uint8``; a gray input is returned as it is (after :func:`to_uint8`).

    Raises
    ------
    ParameterError
        For any other shape.

    References
    ----------
    .. [1] ITU-R Recommendation BT.601-7, "Studio encoding parameters of digital television", 2011.
    """
    image = to_uint8(image)
    if image.ndim == 2:
        return image
    if image.ndim != 3 or image.shape[2] != 3:
        raise ParameterError(f"expected a gray (H, W) or RGB (H, W, 3) image, got shape {image.shape}")
    if channel == "luma":
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return np.ascontiguousarray(image[:, :, _CHANNEL_INDEX[channel]])


def to_rgb(image: np.ndarray) -> np.ndarray:
    """An RGB ``uint8`` image.

    Parameters
    ----------
    image : ndarray
        Gray ``(H, W)`` (replicated into three channels) or RGB ``(H, W, 3)``, any type :func:`to_uint8` takes.

    Returns
    -------
    ndarray
        ``(H, W, 3)`` ``uint8``.

    Raises
    ------
    ParameterError
        For any other shape.
    """
    image = to_uint8(image)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ParameterError(f"expected a gray (H, W) or RGB (H, W, 3) image, got shape {image.shape}")
    return image


def split_channels(rgb: np.ndarray) -> dict[str, np.ndarray]:
    """The four single-channel views of a page that the three-stage model reads.

    Parameters
    ----------
    rgb : ndarray
        Gray or RGB page (see :func:`to_rgb`).

    Returns
    -------
    dict of str to ndarray
        "gray" (luma, :func:`to_gray`), "red", "green", "blue": contiguous ``(H, W)`` ``uint8`` arrays.
    """
    rgb = to_rgb(rgb)
    return {
        "gray": to_gray(rgb),
        "red": np.ascontiguousarray(rgb[:, :, 0]),
        "green": np.ascontiguousarray(rgb[:, :, 1]),
        "blue": np.ascontiguousarray(rgb[:, :, 2]),
    }
