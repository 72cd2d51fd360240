"""The skeleton pseudo-FM of H-DIBCO 2010/2012 and DKDS (``--pfm 2010``): its GT skeleton is MATLAB's
``bwmorph(gt, 'thin', Inf)``, not Zhang-Suen ``skeletonize``; hand-checked tiny shapes, a real GT crop with an
independently computed score, and ``docbin evaluate --layout dkds --pfm 2010`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from docbin.cli import app
from docbin.metrics import evaluate
from docbin.metrics.pseudo import skeleton_pseudo_f_measure, thinned_skeleton

FIXTURES = Path(__file__).parent / "fixtures"


def picture(rows: str) -> np.ndarray:
    """A boolean image from rows of ``#`` (True) and ``.`` (False)."""
    return np.array([[c == "#" for c in row] for row in rows.split()], dtype=bool)


def lam_lee_suen_thin(ink: np.ndarray) -> np.ndarray:
    """MATLAB's ``bwmorph(ink, 'thin', Inf)`` written from the conditions its documentation cites (Lam, Lee,
    Suen, IEEE PAMI 14(9) 1992, p. 879), independently of any lookup table: x1..x8 are the neighbours from
    east counter-clockwise (outside the image: 0); a pixel goes in the first subiteration when G1, G2, G3
    hold and in the second when G1, G2, G3' hold, all pixels of a subiteration decided in parallel; repeat
    until nothing changes.
    G1: X_H = sum_{i=1..4} b_i = 1, b_i = 1 iff x_{2i-1} = 0 and (x_{2i} = 1 or x_{2i+1} = 1) (x9 = x1);
    G2: 2 <= min(n1, n2) <= 3, n1 = sum_k x_{2k-1} | x_{2k}, n2 = sum_k x_{2k} | x_{2k+1};
    G3: (x2 | x3 | ~x8) & x1 = 0; G3': (x6 | x7 | ~x4) & x5 = 0."""
    offsets = [(0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1), (1, 0), (1, 1)]  # x1 (east) .. x8
    skel = ink.astype(bool).copy()
    h, w = skel.shape
    while True:
        before = skel.copy()
        for second in (False, True):
            padded = np.pad(skel, 1)
            x = [None] + [padded[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] for dy, dx in offsets]
            x.append(x[1])  # x9 = x1
            x_h = sum((~x[2 * i - 1] & (x[2 * i] | x[2 * i + 1])).astype(int) for i in range(1, 5))
            n1 = sum((x[2 * k - 1] | x[2 * k]).astype(int) for k in range(1, 5))
            n2 = sum((x[2 * k] | x[2 * k + 1]).astype(int) for k in range(1, 5))
            g3 = ~((x[6] | x[7] | ~x[4]) & x[5]) if second else ~((x[2] | x[3] | ~x[8]) & x[1])
            skel &= ~((x_h == 1) & (np.minimum(n1, n2) >= 2) & (np.minimum(n1, n2) <= 3) & g3)
        if (skel == before).all():
            return skel


# (shape, MATLAB-style skeleton): each differs from skimage.morphology.skeletonize's result.
CASES = {
    # 2 rows thick: subiteration 1 removes the whole upper row (north side empty, south-east neighbour ink)
    # and the lower row's east end; subiteration 2 keeps the rest, whose ends are end points (n1 = 1).
    # skeletonize keeps the full upper row instead.
    "two-pixel bar": ("""
        ..........
        .########.
        .########.
        ..........""", """
        ..........
        ..........
        .#######..
        .........."""),
    # Subiteration 1 deletes the north row, the east column and the NW corner, leaving the lower-left 2x2
    # block; subiteration 2 deletes all of it but its upper-right pixel, the centre. skeletonize keeps two
    # diagonal pixels, (0, 1) and (1, 0) of the inner square, and not the centre.
    "filled 3x3 square": ("""
        .....
        .###.
        .###.
        .###.
        .....""", """
        .....
        .....
        ..#..
        .....
        ....."""),
    # A 2-pixel-wide band along the diagonal: thin keeps the left pixel of every row and both pixels of the
    # last one (an 8-connected diagonal from end to end); skeletonize drops rows 1-2, keeps both pixels of
    # row 3 and then the right pixel of every row.
    "diagonal band": ("""
        ........
        .##.....
        ..##....
        ...##...
        ....##..
        .....##.
        ......##
        ........""", """
        ........
        .#......
        ..#.....
        ...#....
        ....#...
        .....#..
        ......##
        ........"""),
    # An L of 2-pixel-thick arms: thin runs down the vertical arm's left column, steps diagonally into the
    # horizontal arm's lower row and stops one pixel short of its end; skeletonize turns into the upper row
    # and runs to its last column.
    "L corner": ("""
        .........
        .##......
        .##......
        .##......
        .##......
        .##......
        .#######.
        .#######.
        .........""", """
        .........
        .........
        .#.......
        .#.......
        .#.......
        .#.......
        ..#......
        ...####..
        ........."""),
}


@pytest.mark.parametrize("name", list(CASES))
def test_gt_skeleton_is_matlab_thin_where_skeletonize_differs(name: str) -> None:
    from skimage.morphology import skeletonize

    shape, expected = (picture(p) for p in CASES[name])
    skeleton = thinned_skeleton(shape)
    assert skeleton.tolist() == expected.tolist()
    assert lam_lee_suen_thin(shape).tolist() == expected.tolist()  # the hand check, written from the conditions
    assert skeletonize(shape).tolist() != expected.tolist()  # a case that tells the two apart


@pytest.mark.parametrize("name", list(CASES))
def test_pseudo_recall_counts_the_thin_skeleton(name: str) -> None:
    """Predicting exactly the thinned skeleton (all of it GT ink) gives pseudo-recall and precision 100, so
    pFM 100; dropping one of its n pixels costs pseudo-recall 1/n."""
    shape, expected = (picture(p) for p in CASES[name])
    n = int(expected.sum())
    pfm, recall = skeleton_pseudo_f_measure(expected, shape)
    assert (pfm, recall) == (pytest.approx(100), pytest.approx(100))
    missed = expected.copy()
    missed[tuple(np.argwhere(expected)[0])] = False
    _, recall = skeleton_pseudo_f_measure(missed, shape)
    assert recall == pytest.approx(100 * (n - 1) / n)


def test_real_gt_crop_scores_as_the_dkds_code() -> None:
    """A 64x96 crop of H-DIBCO 2010 H09's GT (rows 224-287, columns 288-383) and of Otsu's output on the
    whole page. Expected values from the DKDS authors' evaluation (``Base/metrics.py`` ``get_metric`` with
    ``Base/bwmorph_thin.py``, re-typed outside this repository): their GT skeleton has 204 pixels, 171 of
    them predicted ink; 512 of the 551 predicted ink pixels are GT ink; pFM = 88.13856213098167. The test
    recounts them here with :func:`lam_lee_suen_thin` and the direct formula pFM = 2 R P / (R + P)."""
    gt = np.array(Image.open(FIXTURES / "hdibco2010_H09_crop_gt.png"))
    pred = np.array(Image.open(FIXTURES / "hdibco2010_H09_crop_otsu.png"))
    gt_ink, pred_ink = gt == 0, pred == 0
    skeleton = lam_lee_suen_thin(gt_ink)
    assert (int(skeleton.sum()), int((skeleton & pred_ink).sum())) == (204, 171)
    assert (int((pred_ink & gt_ink).sum()), int(pred_ink.sum())) == (512, 551)
    recall, precision = 171 / 204, 512 / 551
    expected = 100 * 2 * recall * precision / (recall + precision)
    assert expected == pytest.approx(88.13856213098167, abs=1e-12)
    m = evaluate(pred, gt, pfm="2010")
    assert m["pseudo_recall"] == pytest.approx(100 * recall, abs=1e-9)
    assert m["pseudo_fm"] == pytest.approx(expected, abs=1e-9)
    assert m["pfm_variant"] == "2010-skeleton"
    assert m["avg_score"] == pytest.approx((m["fm"] + expected + m["psnr"] + 100 - m["drd"]) / 4)


def test_evaluate_dkds_layout_with_the_2010_pseudo_fm(tmp_path: Path) -> None:
    """``docbin evaluate PRED Testset --layout dkds --pfm 2010`` on a copy of the DKDS folders
    (``Trainset/`` and ``Testset/``, each ``image/`` + ``mask/`` with one file stem per page, as the authors'
    scripts read them): every page is scored with the thinned-skeleton pseudo-FM."""
    root, pred_dir = tmp_path / "DKDS", tmp_path / "pred"
    pred_dir.mkdir()
    gt = np.array(Image.open(FIXTURES / "hdibco2010_H09_crop_gt.png"))
    otsu = np.array(Image.open(FIXTURES / "hdibco2010_H09_crop_otsu.png"))
    pages = {"test_0001": (gt, otsu), "test_0002": (gt[:, ::-1], otsu[:, ::-1]), "test_0003": (gt, gt)}
    for split, names in (("Trainset", ["train_0001"]), ("Testset", list(pages))):
        for sub in ("image", "mask"):
            (root / split / sub).mkdir(parents=True)
        for name in names:
            mask, _ = pages.get(name, (gt, gt))
            scan = np.where(mask == 0, 60, 200).astype(np.uint8)
            Image.fromarray(np.dstack([scan] * 3)).save(root / split / "image" / f"{name}.jpg")
            Image.fromarray(mask).save(root / split / "mask" / f"{name}.png")
    for name, (_, pred) in pages.items():
        Image.fromarray(pred).save(pred_dir / f"{name}.png")

    result = CliRunner().invoke(app, ["evaluate", str(pred_dir), str(root / "Testset"), "--layout", "dkds",
                                      "--pfm", "2010", "--json", str(tmp_path / "s.json"), "-j", "1"])
    assert result.exit_code == 0, result.output
    assert "pseudo-FM: 2010-skeleton" in result.output
    rows = {r["name"]: r for r in json.loads((tmp_path / "s.json").read_text())["images"]}
    assert list(rows) == list(pages)
    for name, (mask, pred) in pages.items():
        pfm, _ = skeleton_pseudo_f_measure(pred == 0, mask == 0)
        assert rows[name]["pseudo_fm"] == pytest.approx(pfm) and rows[name]["pfm_variant"] == "2010-skeleton"
    assert rows["test_0001"]["pseudo_fm"] == pytest.approx(88.13856213098167, abs=1e-9)
    assert rows["test_0003"]["pseudo_fm"] == pytest.approx(100)
    root_only = CliRunner().invoke(app, ["evaluate", str(pred_dir), str(root), "--layout", "dkds", "--pfm", "2010"])
    assert root_only.exit_code == 2 and "pick a split" in root_only.output
