"""Pseudo-FM weight maps generated from the GT (BinEvalWeights): small cases by hand, the official .dat files
pixel by pixel, the 75 official-equivalent reference rows, the thinning, and the per-GT cache."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi

from conftest import REFERENCE, needs_shared, reference_scores

from docbin import io
from docbin.metrics import evaluate, pseudo_f_measure, pseudo_weights, read_weights_dat
from docbin.metrics import weights as w
from docbin.metrics.weights import cache, connectivity, passes, ranges, rings, thinning


def bar(width: int = 5, length: int = 24) -> np.ndarray:
    """A horizontal ink bar in a blank page (True = ink)."""
    ink = np.zeros((24, 40), bool)
    ink[10 : 10 + width, 8 : 8 + length] = True
    return ink


def test_recall_weights_of_a_bar_sum_to_one_across_the_stroke() -> None:
    rw, _ = w.compute_pseudo_weights(bar())
    # 5 rows thick: D = 0 on the contour, 1, 2 (the skeleton row), 1, 0; NR = D x factor = 2 x 2 on the skeleton.
    middle = rw[10:15, 14:26]
    assert np.allclose(middle, np.array([0, 0.25, 0.5, 0.25, 0])[:, None])
    assert np.allclose(middle.sum(axis=0), 1)  # Normalization type I: each cross-section weighs 1
    assert rw[~bar()].max() == 0


def test_precision_weights_of_a_bar_grow_with_distance_up_to_the_stroke_width() -> None:
    _, pw = w.compute_pseudo_weights(bar())
    # Stroke width Gsw = 2 * floor(mean medial factor) = 4: PW - 1 = D / 4 up to D = 4, then PW = 1 (stored 0).
    assert np.allclose(pw[5:10, 18], [0, 1, 0.75, 0.5, 0.25])
    assert np.allclose(pw[15:20, 18], [0.25, 0.5, 0.75, 1, 0])
    assert np.allclose(pw[12, 3:8], [0, 1, 0.75, 0.5, 0.25])
    assert pw[bar()].max() == 0 and pw.max() <= w.PW_CAP


def test_pseudo_fm_of_a_bar_by_hand() -> None:
    gt = bar()
    pred = gt.copy()
    pred[12, 8:32] = False  # the whole skeleton row missed: half of every cross-section's weight
    pred[9, 14:18] = True  # four false pixels right above the bar, D = 1: PW = 1 + 1/4
    rw, pw = w.compute_pseudo_weights(gt)
    pfm, precall, pprecision = pseudo_f_measure(pred, gt, rw, pw)
    expected_recall = 100 * rw[pred & gt].sum() / rw[gt].sum()
    tp = np.count_nonzero(pred & gt)
    assert precall == pytest.approx(expected_recall) and 40 < precall < 60
    assert pprecision == pytest.approx(100 * tp / (tp + 4 * 1.25))


def test_blank_and_full_pages() -> None:
    rw, pw = w.compute_pseudo_weights(np.zeros((6, 7), bool))
    assert rw.shape == (6, 7) and not rw.any() and not pw.any()
    rw, pw = w.compute_pseudo_weights(np.ones((6, 7), bool))  # the frame is background: a contour exists
    assert rw.max() > 0 and not pw.any()


def _zhang_suen_reference(mask: np.ndarray) -> np.ndarray:
    """Plain parallel Zhang-Suen over the whole image, the frame counting as background."""
    tables = [np.array([thinning.zhang_suen_deletes(c, s) for c in range(256)]) for s in (1, 2)]
    m = mask.copy()
    h, wd = m.shape
    while True:
        changed = False
        for table in tables:
            p = np.pad(m, 1).astype(np.uint8)
            code = np.zeros(m.shape, np.uint8)
            for bit, (dy, dx) in enumerate(thinning._NEIGHBOURS):
                code |= p[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + wd] << bit
            gone = m & table[code]
            if gone.any():
                m &= ~gone
                changed = True
        if not changed:
            return m


def test_zhang_suen_equals_full_passes() -> None:
    rng = np.random.default_rng(7)
    for k in range(12):
        shape = (20 + 9 * k, 70 - 3 * k)
        mask = ndi.gaussian_filter(rng.random(shape), 1.5 + k % 3) > 0.5
        assert np.array_equal(thinning._zhang_suen(mask), _zhang_suen_reference(mask)), k
        assert np.array_equal(thinning._zhang_suen(~mask), _zhang_suen_reference(~mask)), k


def _lee_chen_reference(mask: np.ndarray) -> np.ndarray:
    """Plain sequential raster scans deleting in place, repeated until one deletes nothing."""
    p = np.pad(mask, 1).astype(np.uint8)
    removed = True
    while removed:
        removed = False
        for y, x in np.argwhere(p):
            if p[y, x]:
                code = sum(int(p[y + dy, x + dx]) << bit for bit, (dy, dx) in enumerate(thinning._NEIGHBOURS))
                if thinning._LEE_CHEN[code]:
                    p[y, x] = 0
                    removed = True
    return p[1:-1, 1:-1] > 0


def test_lee_chen_cleanup_equals_raster_scans() -> None:
    rng = np.random.default_rng(11)
    for k in range(12):
        mask = thinning._zhang_suen(ndi.gaussian_filter(rng.random((15 + 4 * k, 40 - k)), 1 + k % 3) > 0.5)
        mask |= rng.random(mask.shape) < 0.05  # corners and steps the thinning leaves none of
        assert np.array_equal(thinning._lee_chen_cleanup(mask), _lee_chen_reference(mask)), k


def _raster_pass(values: np.ndarray, changes: object) -> np.ndarray:
    """One plain in-place raster pass: ``changes(values, y, x)`` gives a pixel's new value or None."""
    out = values.copy()
    for y, x in np.ndindex(out.shape):
        new = changes(out, y, x)
        if new is not None:
            out[y, x] = new
    return out


def test_in_place_passes_equal_plain_raster_passes() -> None:
    rng = np.random.default_rng(5)
    for k in range(40):
        h, wd = 1 + k % 9, 1 + (7 * k) % 23
        d = rng.integers(0, 4, (h, wd)).astype(np.int32)
        d[rng.random((h, wd)) < 0.5] = 2  # flat ridges
        skel, carries = rng.random((h, wd)) < 0.7, rng.random((h, wd)) < 0.8

        def flat(v: np.ndarray, y: int, x: int) -> int | None:
            around = [v[max(y - 1, 0), x], v[min(y + 1, h - 1), x], v[y, max(x - 1, 0)], v[y, min(x + 1, wd - 1)]]
            c = v[y, x]
            return c + 1 if skel[y, x] and 1 <= c <= w.MAX_DISTANCE and all(a == c for a in around) else None

        def peak(v: np.ndarray, y: int, x: int) -> int | None:
            if not (carries[y, x] and 0 < y < h - 1 and 0 < x < wd - 1):
                return None
            around = [v[y, x - 1], v[y - 1, x], v[y + 1, x], v[y, x + 1]]
            return v[y, x - 1] if all(around) and v[y, x] not in around else None

        raised, peaks = d.copy(), d.copy()
        passes.raise_flat_ridges(raised, skel)
        passes.propagate_peaks(peaks, carries)
        assert np.array_equal(raised, _raster_pass(d, flat)), k
        assert np.array_equal(peaks, _raster_pass(d, peak)), k


def test_lee_chen_table() -> None:
    deletes = thinning._LEE_CHEN
    assert deletes.sum() == 68
    n, e, s, west = 1, 4, 16, 64
    assert deletes[n | e] and deletes[e | s] and deletes[s | west] and deletes[west | n]  # staircase corners
    assert not deletes[n | s] and not deletes[n] and not deletes[0]  # a line pixel, an end point, a dot
    assert not deletes[n | e | s] and deletes[n | e | west]  # the tool keeps the vertical T patterns only
    stairs = np.zeros((4, 4), bool)
    stairs[1, 1:3] = stairs[2, 2] = True  # a 4-connected step: its corner pixel goes, the diagonal stays
    assert np.argwhere(thinning._lee_chen_cleanup(stairs)).tolist() == [[1, 1], [2, 2]]


@needs_shared
def test_official_2johnc1v3_weight_files_reproduced() -> None:
    folder = REFERENCE / "pseudo_weights"
    gt = io.read_image(folder / "2JohnC1V3-GroundTruth.pbm") == 0
    rw, pw = w.compute_pseudo_weights(gt)
    for ours, kind in ((rw, "R"), (pw, "P")):
        official = read_weights_dat(folder / f"2JohnC1V3-GroundTruth_{kind}Weights.dat.gz", gt.shape)
        deviation = float(np.abs(ours - official).max())
        print(f"2JohnC1V3 {kind}Weights: max |docbin - official| = {deviation:.2e}")
        assert deviation <= 5e-7 + 1e-12, deviation  # the files hold 6 decimals
        printed = np.char.mod("%.6f", ours.ravel()).astype(np.float64).reshape(ours.shape)
        assert np.array_equal(printed, official), kind  # every pixel, as the tool prints it


@needs_shared
@pytest.mark.parametrize(
    "method,expected",
    [("Sauvola", (93.3930, 92.7954, 93.9983)), ("Otsu", (92.9249, 89.1155, 97.0744)),
     ("Niblack", (92.1003, 90.7719, 93.4683))],
)
def test_official_2johnc1v3_pseudo_fm_with_generated_weights(method: str, expected: tuple[float, ...]) -> None:
    folder = REFERENCE / "pseudo_weights"
    m = evaluate(io.read_image(folder / f"2JohnC1V3-{method}.pbm"), io.read_image(folder / "2JohnC1V3-GroundTruth.pbm"))
    assert m["pfm_weights"] == "generated"
    for key, value in zip(("pseudo_fm", "pseudo_recall", "pseudo_precision"), expected):
        assert m[key] == pytest.approx(value, abs=1e-4), key


@needs_shared
def test_75_reference_pseudo_fm_with_generated_weights() -> None:
    keys = ("pseudo_fm", "pseudo_recall", "pseudo_precision")
    worst = {key: (0.0, "") for key in keys}
    for row, m in reference_scores():
        assert m["pfm_weights"] == "generated"
        for key in keys:
            deviation = abs(m[key] - float(row[key]))
            if deviation >= worst[key][0]:
                worst[key] = (deviation, f"{row['set']}/{row['name']}")
    summary = ", ".join(f"{key} {dev:.2e} ({where})" for key, (dev, where) in worst.items())
    print("worst deviation over 75 images, generated weights:", summary)
    assert max(dev for dev, _ in worst.values()) < 1e-3, summary


def test_weights_are_cached_per_ground_truth(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    compute = w.compute_pseudo_weights
    monkeypatch.setattr(cache, "compute_pseudo_weights", lambda ink: calls.append(1) or compute(ink))
    w.WEIGHTS_CACHE.clear()
    gt = np.where(bar(), 0, 255).astype(np.uint8)
    preds = [gt.copy() for _ in range(3)]
    preds[1][12, 10:20] = 255
    preds[2][5, 5] = 0
    scores = [evaluate(pred, gt) for pred in preds]  # three methods scored against one GT
    assert len(calls) == 1 and w.WEIGHTS_CACHE.misses == 1 and w.WEIGHTS_CACHE.hits == 2
    assert scores[0]["pseudo_fm"] == 100 and scores[1]["pseudo_recall"] < 100 and scores[2]["pseudo_precision"] < 100
    first = pseudo_weights(bar())
    assert pseudo_weights(bar()) is first and not first[0].flags.writeable
    other = bar().T.copy()  # the same pixel bytes in another shape is another GT
    pseudo_weights(other)
    assert len(calls) == 2
    for k in range(w.CACHE_SIZE + 1):
        pseudo_weights(bar(width=k + 1))
    assert len(w.WEIGHTS_CACHE) == w.CACHE_SIZE  # bounded: the oldest GTs are dropped
    w.WEIGHTS_CACHE.clear()


def test_propagated_rings_equal_range_look_ups() -> None:
    """Ring maxima and last ring writers by level propagation (with range look-ups where a component box cuts
    the square) equal the range look-ups of every centre, on random pages with holes and clamped boxes."""
    rng = np.random.default_rng(11)
    for k in range(8):
        shape = (30 + 7 * k, 64 - 3 * k)
        ink = ndi.gaussian_filter(rng.random(shape), 1.2 + k % 3) > 0.52
        for mask in (ink, ~ink):
            parts = connectivity.components(mask)
            features = connectivity._contour(ink) if k % 2 else thinning.skeleton(mask, parts)
            features &= rng.random(shape) < 0.8
            centres = mask & (rng.random(shape) < 0.9)
            values = np.stack([rng.integers(0, 50, shape), parts.labels]).astype(np.int32)
            propagated = rings.first_rings(features, parts, centres)
            looked_up = ranges.range_rings(features, parts, centres)
            assert np.array_equal(propagated.found, looked_up.found), k
            expected = ranges.range_ring_max(values, looked_up)
            assert np.array_equal(rings.ring_max(values, propagated), expected), k
            cy, cx = np.nonzero(centres)
            assert np.array_equal(rings.ring_max(values, propagated, at=(cy, cx)), expected[:, cy, cx])
            writers = ranges.range_last_writer(looked_up, parts)
            assert np.array_equal(rings.ring_last_writer(propagated, parts), writers), k


def test_chessboard_distances_equal_opencv() -> None:
    """The two raster passes give OpenCV's 3x3 chessboard distance transform, on sparse and dense features."""
    import cv2

    rng = np.random.default_rng(8)
    for k in range(60):
        shape = tuple(int(n) for n in rng.integers(1, 50, 2))
        features = rng.random(shape) < (0.002 if k % 3 == 0 else 0.2 * rng.random())
        features.flat[rng.integers(features.size)] = True
        expected = cv2.distanceTransform((~features).astype(np.uint8), cv2.DIST_C, 3).astype(np.int32)
        assert np.array_equal(connectivity._chessboard(features), expected), (k, shape)
    assert (connectivity._chessboard(np.zeros((3, 4), bool)) == 0xFFFF).all()


def test_visiting_order_keys_and_fast_nonzero() -> None:
    """The compact visiting-order keys sort pixels by component, then row, then column, and map back to the
    pixel; the fast np.nonzero gives numpy's rows and columns."""
    rng = np.random.default_rng(5)
    mask = ndi.gaussian_filter(rng.random((37, 53)), 1.5) > 0.5
    for image in (mask, ~mask):
        parts = connectivity.components(image)
        flat = np.flatnonzero(image)
        keys = parts.visit_key(flat)
        assert np.array_equal(np.argsort(keys), np.argsort(parts.order_key(flat)))
        assert np.array_equal(parts.visit_position(keys), flat)
    for image in (mask, ~mask, mask.view(np.uint8), np.zeros((3, 4), bool), np.ones((1, 1), bool)):
        for fast, slow in zip(connectivity._nonzero(image), np.nonzero(image)):
            assert np.array_equal(fast, slow) and fast.dtype == slow.dtype
