"""``docbin evaluate`` end to end on a tiny synthetic set, and prediction/GT pairing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from docbin.cli import app
from docbin.datasets.pairs import pair_predictions
from docbin.errors import DatasetError

runner = CliRunner()


def make_set(root: Path) -> tuple[Path, Path]:
    gt_dir, pred_dir = root / "set" / "gt", root / "pred"
    gt_dir.mkdir(parents=True)
    pred_dir.mkdir()
    for i in range(3):
        gt = np.full((32, 32), 255, np.uint8)
        gt[8:24, 8 + i : 12 + i] = 0
        pred = gt.copy()
        pred[0, 0] = 0 if i else 255  # page 0 perfect, others one false-ink pixel
        Image.fromarray(gt).save(gt_dir / f"p{i}_gt.png")
        Image.fromarray(pred).save(pred_dir / f"p{i}.png")
    return pred_dir, root / "set"


def test_pairs_by_stem_and_reports_unpaired(tmp_path: Path) -> None:
    pred_dir, gt_root = make_set(tmp_path)
    assert [name for name, _, _ in pair_predictions(pred_dir, gt_root)] == ["p0", "p1", "p2"]
    (pred_dir / "p1.png").unlink()
    (pred_dir / "extra.png").write_bytes((pred_dir / "p0.png").read_bytes())
    with pytest.raises(DatasetError, match="no prediction for p1; no ground truth for extra"):
        pair_predictions(pred_dir, gt_root)


def test_evaluate_prints_table_and_writes_json_csv(tmp_path: Path) -> None:
    pred_dir, gt_root = make_set(tmp_path)
    result = runner.invoke(app, ["evaluate", str(pred_dir), str(gt_root), "--json", str(tmp_path / "s.json"),
                                 "--csv", str(tmp_path / "s.csv")])
    assert result.exit_code == 0, result.output
    assert "mean" in result.output and "infinite PSNR" in result.output
    assert "pseudo-FM: 2013-weighted, weights generated from the GT" in result.output
    assert "pseudo_fm" in result.output and "avg_score" in result.output and "not generate" not in result.output
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["images"][0]["pseudo_fm"] == 100 and summary["images"][1]["pseudo_precision"] < 100
    assert [r["name"] for r in summary["images"]] == ["p0", "p1", "p2"]
    assert summary["images"][0]["fm"] == 100 and summary["images"][0]["psnr"] is None
    assert summary["images"][1]["fp"] == 1
    assert (tmp_path / "s.csv").read_text().count("\n") == 4


def test_evaluate_with_official_weight_files_matches_generated(tmp_path: Path) -> None:
    from docbin.metrics import pseudo_weights

    pred_dir, gt_root = make_set(tmp_path)
    weights_dir = tmp_path / "weights"
    weights_dir.mkdir()
    for gt_path in sorted((gt_root / "gt").glob("*.png")):
        rw, pw = pseudo_weights(np.array(Image.open(gt_path)) == 0)
        np.savetxt(weights_dir / f"{gt_path.stem}_RWeights.dat", rw, fmt="%f")
        np.savetxt(weights_dir / f"{gt_path.stem}_PWeights.dat", pw, fmt="%f")
    generated = runner.invoke(app, ["evaluate", str(pred_dir), str(gt_root), "--json", str(tmp_path / "g.json")])
    given = runner.invoke(app, ["evaluate", str(pred_dir), str(gt_root), "--weights", str(weights_dir),
                                "--json", str(tmp_path / "w.json")])
    assert generated.exit_code == 0 and given.exit_code == 0, given.output
    assert f"weights from {weights_dir}" in given.output
    a, b = (json.loads((tmp_path / f).read_text())["images"] for f in ("g.json", "w.json"))
    assert [r["pseudo_fm"] for r in a] == pytest.approx([r["pseudo_fm"] for r in b], abs=1e-4)
    assert [r["pfm_weights"] for r in b] == ["given"] * 3


def test_evaluate_usage_error_on_unpaired(tmp_path: Path) -> None:
    pred_dir, gt_root = make_set(tmp_path)
    (pred_dir / "p2.png").unlink()
    result = runner.invoke(app, ["evaluate", str(pred_dir), str(gt_root)])
    assert result.exit_code == 2 and "no prediction for p2" in result.output


def test_benchmark_runs_methods_over_a_dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from docbin.metrics import weights

    calls = []
    compute = weights.compute_pseudo_weights
    monkeypatch.setattr(weights.cache, "compute_pseudo_weights", lambda ink: calls.append(1) or compute(ink))
    monkeypatch.setattr(weights.WEIGHTS_CACHE, "maxsize", 0)  # no cache: the benchmark itself must reuse each GT's weights
    weights.WEIGHTS_CACHE.clear()
    root = tmp_path / "set"
    (root / "images").mkdir(parents=True)
    (root / "gt").mkdir()
    for i in range(2):
        gt = np.full((64, 64), 255, np.uint8)
        gt[20:40, 10 + 5 * i : 30 + 5 * i] = 0
        scan = np.where(gt == 0, 40, 210).astype(np.uint8)
        Image.fromarray(scan).save(root / "images" / f"s{i}.png")
        Image.fromarray(gt).save(root / "gt" / f"s{i}.png")
    result = runner.invoke(app, ["benchmark", "--data", str(root), "--methods", "otsu,sauvola", "-p", "sauvola.window=15"])
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines()[1:]]
    header = result.output.splitlines()[0].split()
    assert header[2:6] == ["fm", "pseudo_fm", "psnr", "drd"] and "avg_score" in header
    assert [r[:2] for r in rows] == [["set", "otsu"], ["set", "sauvola"]]
    assert float(rows[0][2]) == 100.0 and float(rows[0][3]) == 100.0  # Otsu separates a two-level page perfectly
    assert len(calls) == 2  # two pages, two methods: weights generated once per GT
    bad = runner.invoke(app, ["benchmark", "--data", str(root), "--methods", "nope"])
    assert bad.exit_code == 2 and "unknown method" in bad.output


def test_error_map_colours() -> None:
    from docbin.report import FALSE_INK, MISSED_INK, error_map

    pred = np.array([[True, True, False, False]])
    gt = np.array([[True, False, True, False]])
    assert error_map(pred, gt)[0].tolist() == [[0, 0, 0], list(FALSE_INK), list(MISSED_INK), [255, 255, 255]]


def test_evaluate_writes_self_contained_html_report(tmp_path: Path) -> None:
    pred_dir, gt_root = make_set(tmp_path)
    (gt_root / "images").mkdir()
    for i in range(3):
        Image.fromarray(np.full((32, 32, 3), 200, np.uint8)).save(gt_root / "images" / f"p{i}.png")
    report = tmp_path / "report.html"
    result = runner.invoke(app, ["evaluate", str(pred_dir), str(gt_root), "--report", str(report)])
    assert result.exit_code == 0, result.output
    text = report.read_text()
    assert text.count("<tr>") == 4 and text.count("data:image/png;base64,") == 9  # scan, prediction, errors
    assert "<th>fm</th>" in text and "http" not in text.split("<body>")[1]  # nothing loaded from outside


def test_evaluate_scores_pages_in_parallel_with_the_same_result(tmp_path: Path) -> None:
    pred_dir, gt_root = make_set(tmp_path)
    big = np.full((64, 48), 255, np.uint8)  # the largest page is scored first, but listed in name order
    big[10:40, 20:24] = 0
    Image.fromarray(big).save(gt_root / "gt" / "p1_gt.png")
    Image.fromarray(big).save(pred_dir / "p1.png")
    outputs = {}
    for workers in ("1", "2"):
        path = tmp_path / f"w{workers}.json"
        result = runner.invoke(app, ["evaluate", str(pred_dir), str(gt_root), "-j", workers, "--json", str(path)])
        assert result.exit_code == 0, result.output
        outputs[workers] = json.loads(path.read_text())
    assert outputs["1"] == outputs["2"] and [r["name"] for r in outputs["2"]["images"]] == ["p0", "p1", "p2"]


def test_evaluate_names_the_page_that_cannot_be_scored(tmp_path: Path) -> None:
    pred_dir, gt_root = make_set(tmp_path)
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(pred_dir / "p1.png")  # wrong size
    result = runner.invoke(app, ["evaluate", str(pred_dir), str(gt_root), "-j", "2"])
    assert result.exit_code == 2 and "p1" in result.output and "Traceback" not in result.output


def test_evaluate_reads_a_dkds_split_with_layout(tmp_path: Path) -> None:
    pred_dir, gt_root = make_set(tmp_path)
    split = tmp_path / "Testset"
    for sub in ("image", "mask"):
        (split / sub).mkdir(parents=True)
    for gt in sorted((gt_root / "gt").iterdir()):
        name = gt.name.replace("_gt", "")
        (split / "mask" / name).write_bytes(gt.read_bytes())
        (split / "image" / name).write_bytes(gt.read_bytes())
    result = runner.invoke(app, ["evaluate", str(pred_dir), str(split), "--layout", "dkds"])
    assert result.exit_code == 0, result.output
    assert [line.split()[0] for line in result.output.splitlines()[2:5]] == ["p0", "p1", "p2"]
    wrong = runner.invoke(app, ["evaluate", str(pred_dir), str(split), "--layout", "generic"])
    assert wrong.exit_code == 2 and "generic layout needs images/ and gt/" in wrong.output
    unknown = runner.invoke(app, ["evaluate", str(pred_dir), str(split), "--layout", "nope"])
    assert unknown.exit_code == 2 and "unknown layout 'nope'" in unknown.output


def test_gt_without_ink_gives_strict_json_and_finite_means_everywhere(tmp_path: Path) -> None:
    """Issue 20: a blank GT page with an all-black prediction made DRD inf, Avg-Score -inf, ``Infinity`` in the
    JSON and ``data-v="inf"`` in the report."""
    import csv
    import re

    pred_dir, gt_root = make_set(tmp_path)
    Image.fromarray(np.full((32, 32), 255, np.uint8)).save(gt_root / "gt" / "p3_gt.png")
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(pred_dir / "p3.png")
    out = {name: tmp_path / name for name in ("s.json", "s.csv", "r.html")}
    result = runner.invoke(app, ["evaluate", str(pred_dir), str(gt_root), "-j", "1", "--json", str(out["s.json"]),
                                 "--csv", str(out["s.csv"]), "--report", str(out["r.html"])])
    assert result.exit_code == 0, result.output
    assert "warning: the GT of p3 has no ink" in result.output and "undefined (n/a) on p3" in result.output
    mean_line = next(line for line in result.output.splitlines() if line.startswith("mean"))
    assert "inf" not in mean_line and "nan" not in mean_line

    def refuse(token: str) -> None:
        raise ValueError(token)

    summary = json.loads(out["s.json"].read_text(), parse_constant=refuse)  # strict: no Infinity / NaN
    blank = summary["images"][3]
    assert blank["drd"] is None and blank["drd_undefined"] and blank["avg_score"] is None and blank["gt_empty"]
    rows = summary["images"][:3]
    assert summary["means"]["drd"] == sum(r["drd"] for r in rows) / 3  # the undefined page is left out
    assert summary["means"]["psnr"] == (100 + rows[1]["psnr"] + rows[2]["psnr"] + blank["psnr"]) / 4
    with open(out["s.csv"], newline="") as handle:
        values = [v for row in csv.DictReader(handle) for v in row.values()]
    assert not [v for v in values if v.lower() in ("inf", "-inf", "nan")]
    cells = re.sub(r'src="[^"]*"', "", out["r.html"].read_text())  # thumbnails' base64 aside
    assert all(np.isfinite(float(v)) for v in re.findall(r'data-v="([^"]*)"', cells))
    assert not re.search(r">-?(inf|nan)<", cells) and "<td>n/a</td>" in cells


def test_benchmark_stress_sets_report_each_failure_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    from docbin.datasets import stress

    made = stress.stress_pages
    monkeypatch.setattr(stress, "stress_pages", lambda mode, count: made(mode, count, 160, 128))
    result = runner.invoke(app, ["benchmark", "--stress", "--stress-pages", "1", "--methods", "otsu"])
    assert result.exit_code == 0, result.output
    header, *lines = result.output.splitlines()
    assert header.split()[-3:] == ["far_ink", "mode", "MP/s"]
    rows = {r[0]: [float(v) for v in r[2:]] for r in (line.split() for line in lines)}
    assert sorted(rows) == ["stress-bleed", "stress-dark", "stress-faint", "stress-marks", "stress-sharp_bleed",
                            "stress-surround"]
    for values in rows.values():
        assert all(0 <= v <= 100 for v in values[-3:-1])  # far_ink and the mode metric are percentages
    nothing = runner.invoke(app, ["benchmark", "--methods", "otsu"])
    assert nothing.exit_code == 2 and "--stress" in nothing.output
    one = runner.invoke(app, ["benchmark", "--stress-mode", "bleed", "--stress-pages", "1", "--methods", "otsu"])
    assert one.exit_code == 0 and len(one.output.splitlines()) == 2
    bleed = next(line for line in lines if line.startswith("stress-bleed"))
    assert one.output.splitlines()[1].split()[:-1] == bleed.split()[:-1]  # the same pages and scores, MP/s aside
    typo = runner.invoke(app, ["benchmark", "--stress-mode", "gloom", "--methods", "otsu"])
    assert typo.exit_code == 2 and "gloom" in typo.output


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_prediction_that_is_not_binary_is_one_warning_naming_the_page(tmp_path: Path, workers: str) -> None:
    pred_dir, gt_root = make_set(tmp_path)
    grey = np.asarray(Image.open(pred_dir / "p1.png")).copy()
    grey[0, 1] = 90
    Image.fromarray(grey).save(pred_dir / "p1.png")
    result = runner.invoke(app, ["evaluate", str(pred_dir), str(gt_root), "-j", workers])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "not binary" in line]
    assert lines == ["warning: p1: prediction is not binary: thresholded at 128 (ink < 128)"]
    assert "UserWarning" not in result.output
