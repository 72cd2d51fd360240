"""The CLI's one error handler (docbin.cli.DocbinGroup): a DocbinError that escapes a command is one line
``error: <message>`` and the exit status of its kind; any other exception is a bug and keeps its traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from docbin import batch, errors
from docbin.cli import FAILURE_STATUS, USAGE_STATUS, app, exit_status

runner = CliRunner()

USAGE = [errors.ParameterError, errors.InputPathError, errors.OutputPathError, errors.UnknownMethodError,
         errors.MethodUnavailableError, errors.ShapeMismatchError, errors.DatasetError, errors.DocbinError]
FAILURE = [errors.ImageReadError, errors.CorruptImageError, errors.ImageTooLargeError, errors.ModelNotFoundError,
           errors.ClusterError, errors.ExportError, errors.TrainingError]


def test_every_error_kind_has_its_own_stable_code() -> None:
    kinds = [cls for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, errors.DocbinError)]
    codes = [cls.code for cls in kinds]
    assert len(set(codes)) == len(codes) and set(USAGE + FAILURE) <= set(kinds)
    assert errors.ParameterError("x").code == "invalid_parameter" and issubclass(errors.ParameterError, ValueError)


@pytest.mark.parametrize("kind", USAGE + FAILURE, ids=lambda kind: kind.__name__)
def test_a_docbin_error_is_one_line_and_the_exit_status_of_its_kind(
    kind: type[errors.DocbinError], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise kind(f"{kind.__name__} happened")

    monkeypatch.setattr(batch, "prepare", fail)
    result = runner.invoke(app, ["binarize", str(tmp_path), "-o", str(tmp_path / "out"), "-q"])
    expected = FAILURE_STATUS if kind in FAILURE else USAGE_STATUS
    assert exit_status(kind("x")) == expected
    assert result.exit_code == expected, result.output
    assert result.output.splitlines() == [f"error: {kind.__name__} happened"]
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("bug", [ValueError("bad value"), TypeError("bad type"), KeyError("key"), OSError("disk")])
def test_an_unexpected_exception_is_never_a_usage_error(
    bug: Exception, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise bug

    monkeypatch.setattr(batch, "prepare", fail)
    result = runner.invoke(app, ["binarize", str(tmp_path), "-o", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 1 and result.exception is bug  # the traceback is kept (exc_info), not "error:"
    assert "error:" not in result.output


def test_library_errors_reach_the_user_as_one_line(tmp_path: Path) -> None:
    """Real errors raised by the library, through the real command: a missing input, an output folder that is
    a file, a report in a missing folder, an option combination that is refused."""
    Image.fromarray(np.full((8, 8), 200, np.uint8)).save(tmp_path / "a.png")
    (tmp_path / "file").write_text("x")
    cases = [
        (["binarize", str(tmp_path / "nope"), "-o", str(tmp_path / "o1")], "error: input not found: "),
        (["binarize", str(tmp_path / "a.png"), "-o", str(tmp_path / "file")], "error: the output folder "),
        (["binarize", str(tmp_path / "a.png"), "-o", str(tmp_path / "o2"), "--report", str(tmp_path / "x" / "r.json")],
         "error: the folder "),
        (["binarize", str(tmp_path / "a.png"), "-o", str(tmp_path / "o3"), "--skip-existing", "--overwrite"],
         "error: --skip-existing and --overwrite exclude each other"),
    ]
    for args, start in cases:
        result = runner.invoke(app, [*args, "-q"])
        lines = result.output.splitlines()
        assert result.exit_code == USAGE_STATUS and len(lines) == 1 and lines[0].startswith(start), result.output


def test_the_installed_command_prints_one_line_and_no_traceback(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "docbin", "binarize", str(tmp_path / "nope"), "-o", str(tmp_path / "o")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == USAGE_STATUS and run.stdout == ""
    assert run.stderr.splitlines() == [f"error: input not found: {tmp_path / 'nope'}"]
