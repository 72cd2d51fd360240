"""Rendered text for synthetic pages: lines of random words as an anti-aliased ink coverage map.

Three hands, all available without font files: OpenCV's built-in faces (regular, italic, bold),
Pillow's built-in TrueType face (proportional print), and a cheap cursive
hand made of trochoid loops (x = v t + r cos wt, y = r sin wt). Each page draws one hand, one size
and one stroke width; each line gets its own slant, baseline jitter and length. The coverage map
(float32 in [0, 1]) is what the ground truth is cut from: ink where coverage >= 0.5.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

HANDS = ("opencv", "pillow", "cursive")

# Faces that render differently (OpenCV 5 maps the Hershey names onto a built-in TrueType sans:
# regular, italic, bold; OpenCV 4 draws the Hershey vector faces).
_OPENCV_FACES = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, cv2.FONT_HERSHEY_TRIPLEX)

# Letters weighted by their frequency in English text, so words have a plausible texture.
_LETTERS = np.array(list("etaoinshrdlcumwfgypbvkjxqz"))
_LETTER_FREQ = np.array(
    [12.7, 9.1, 8.2, 7.5, 7.0, 6.7, 6.3, 6.1, 6.0, 4.3, 4.0, 2.8, 2.8, 2.4, 2.4, 2.2, 2.0, 2.0,
     1.9, 1.5, 1.0, 0.8, 0.2, 0.2, 0.1, 0.1]
)
_LETTER_P = _LETTER_FREQ / _LETTER_FREQ.sum()


@dataclass(frozen=True)
class Hand:
    """One page's writing: which hand, cap height in pixels, stroke width in pixels, face or font."""

    kind: str
    cap_height: float
    stroke: int
    face: int = 0


def random_word(rng: np.random.Generator) -> str:
    """A random word of 1-10 letters, occasionally capitalised or followed by punctuation."""
    n = int(np.clip(rng.geometric(0.22), 1, 10))
    word = "".join(rng.choice(_LETTERS, size=n, p=_LETTER_P))
    if rng.random() < 0.12:
        word = word.capitalize()
    if rng.random() < 0.08:
        word += str(rng.choice(list(",.;:")))
    return word


def draw_hand(rng: np.random.Generator, cap_height: float, hands: tuple[str, ...]) -> Hand:
    """Pick a hand and a stroke width that suits the cap height."""
    kind = str(rng.choice(hands))
    max_stroke = max(1, round(cap_height / 7))
    stroke = int(rng.integers(1, max_stroke + 1))
    face = int(rng.choice(_OPENCV_FACES))
    return Hand(kind=kind, cap_height=cap_height, stroke=stroke, face=face)


@lru_cache(maxsize=64)
def _pillow_font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def _hand_font(hand: Hand) -> ImageFont.FreeTypeFont:
    """Pillow's face at the size whose capitals are about `hand.cap_height` tall."""
    return _pillow_font(round(hand.cap_height * 1.4))


def _opencv_scale(hand: Hand) -> float:
    (_, cap), _ = cv2.getTextSize("H", hand.face, 1.0, 1)
    return hand.cap_height / cap


def _text_width(text: str, hand: Hand) -> float:
    if hand.kind == "opencv":
        (w, _), _ = cv2.getTextSize(text, hand.face, _opencv_scale(hand), hand.stroke)
        return float(w)
    return float(_hand_font(hand).getlength(text)) + 2 * hand.stroke


def _draw_printed(strip: np.ndarray, text: str, hand: Hand, baseline: int) -> None:
    if hand.kind == "opencv":
        cv2.putText(strip, text, (0, baseline), hand.face, _opencv_scale(hand), 255, hand.stroke,
                    cv2.LINE_AA)
        return
    canvas = Image.fromarray(strip)
    ImageDraw.Draw(canvas).text((hand.stroke, baseline), text, fill=255, anchor="ls",
                                font=_hand_font(hand),
                                stroke_width=hand.stroke - 1, stroke_fill=255)
    strip[:] = np.asarray(canvas)


def _draw_cursive(rng: np.random.Generator, strip: np.ndarray, width: int, hand: Hand,
                  baseline: int) -> None:
    """Words of connected trochoid loops, the odd ascender or descender, pressure varying by letter."""
    x = 0.0
    h = hand.cap_height
    while True:
        letters = int(np.clip(rng.geometric(0.2), 1, 9))
        pitch = h * rng.uniform(0.45, 0.7)
        if x + letters * pitch > width:
            break
        t = np.linspace(0.0, 2 * np.pi * letters, 12 * letters)
        loop = np.floor(t / (2 * np.pi)).astype(int).clip(max=letters - 1)
        radius = h * rng.uniform(0.16, 0.32, size=letters)[loop]
        xs = x + pitch * t / (2 * np.pi) + radius * rng.uniform(0.3, 0.9) * np.cos(t)
        ys = baseline - radius - radius * np.sin(t)
        bumps = rng.random(letters) < 0.3
        stretch = np.where(bumps[loop], rng.choice([-1.3, 1.6], size=letters)[loop], 0.0)
        ys -= stretch * radius * np.clip(np.sin(t), 0, None) ** 2
        pts = np.stack([xs, ys], axis=1).round().astype(np.int32)
        pressure = np.maximum(1, hand.stroke - rng.integers(0, 2, size=letters))
        for k in range(letters):  # one letter per polyline, each with its own pen pressure
            letter = pts[max(12 * k - 1, 0):12 * (k + 1)]
            cv2.polylines(strip, [letter], False, 255, int(pressure[k]), cv2.LINE_AA)
        x += letters * pitch + h * rng.uniform(0.5, 1.0)


def _line_text(rng: np.random.Generator, hand: Hand, width: float) -> str:
    words: list[str] = []
    while True:
        word = random_word(rng)
        if _text_width(" ".join([*words, word]), hand) > width:
            return " ".join(words)
        words.append(word)


def render_line(rng: np.random.Generator, hand: Hand, width: int) -> np.ndarray:
    """One slanted line of words as a uint8 strip (height 3 x cap height), baseline at 2/3."""
    height = int(np.ceil(hand.cap_height * 3))
    baseline = int(hand.cap_height * 2)
    strip = np.zeros((height, width), np.uint8)
    if hand.kind == "cursive":
        _draw_cursive(rng, strip, width, hand, baseline)
    else:
        _draw_printed(strip, _line_text(rng, hand, width - hand.cap_height), hand, baseline)
    slant = rng.normal(0.0, 0.08) + (0.25 if hand.kind == "cursive" else 0.0)
    shear = np.array([[1.0, -slant, slant * baseline], [0.0, 1.0, 0.0]])
    return cv2.warpAffine(strip, shear, (width, height), flags=cv2.INTER_LINEAR)


def render_text(rng: np.random.Generator, height: int, width: int,
                hands: tuple[str, ...] = HANDS, cap_height: float | None = None) -> np.ndarray:
    """Ink coverage in [0, 1] (float32, H x W) of a page of text lines, slightly skewed."""
    cap = cap_height if cap_height is not None else rng.uniform(0.018, 0.05) * min(height, width) + 5
    hand = draw_hand(rng, cap, hands)
    margin_x = int(width * rng.uniform(0.04, 0.12))
    pitch = cap * rng.uniform(1.7, 2.7)
    coverage = np.zeros((height, width), np.uint8)
    y = rng.uniform(0.03, 0.1) * height
    while y + 3 * cap < height * 0.97:
        indent = int(cap * rng.uniform(1, 4)) if rng.random() < 0.15 else 0
        length = width - 2 * margin_x - indent
        if rng.random() < 0.15:
            length = int(length * rng.uniform(0.2, 0.8))
        if length > 4 * cap:
            strip = render_line(rng, hand, length)
            top = int(y + rng.normal(0.0, cap * 0.05))
            x0 = margin_x + indent
            rows = slice(max(top, 0), min(top + strip.shape[0], height))
            src = strip[rows.start - top:rows.stop - top]
            np.maximum(coverage[rows, x0:x0 + length], src, out=coverage[rows, x0:x0 + length])
        y += pitch * (rng.uniform(1.5, 2.2) if rng.random() < 0.08 else 1.0)
    skew = cv2.getRotationMatrix2D((width / 2, height / 2), rng.normal(0.0, 0.6), 1.0)
    coverage = cv2.warpAffine(coverage, skew, (width, height), flags=cv2.INTER_LINEAR)
    return coverage.astype(np.float32) / 255.0
