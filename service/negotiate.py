"""``Accept`` header negotiation with q-values (RFC 9110, section 12.5.1)."""

from __future__ import annotations

from collections.abc import Sequence


def _ranges(header: str) -> list[tuple[str, float]]:
    """``(media range, q)`` for every element of an ``Accept`` header; a malformed q counts as 0."""
    ranges = []
    for element in header.split(","):
        media, *params = (part.strip() for part in element.split(";"))
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
                q = min(max(q, 0.0), 1.0) if q == q else 0.0  # clamped to [0, 1]; NaN counts as 0
        if media:
            ranges.append((media.lower(), q))
    return ranges


def _specificity(media_range: str, media: str) -> int:
    """How closely ``media_range`` names ``media``: 2 exactly, 1 as ``type/*``, 0 as ``*/*``, -1 not at all."""
    return {media: 2, media.split("/")[0] + "/*": 1, "*/*": 0}.get(media_range, -1)


def acceptable(header: str | None, offered: Sequence[str]) -> list[str]:
    """The ``offered`` media types that ``header`` accepts (q > 0), highest q first, ties in ``offered`` order.

    A type's q comes from the most specific range that matches it (``image/png`` before ``image/*`` before
    ``*/*``); no header, or an empty one, accepts everything.
    """
    if header is None or not header.strip():
        return list(offered)
    ranges = _ranges(header)
    scored = []
    for index, media in enumerate(offered):
        matches = [(_specificity(r, media), q) for r, q in ranges if _specificity(r, media) >= 0]
        q = max(matches)[1] if matches else 0.0
        if q > 0:
            scored.append((-q, index, media))
    return [media for _, _, media in sorted(scored)]
