"""The CLI's help text: each command opens with a one-line summary (what ``docbin --help`` lists), and the
Markdown rendering keeps the placeholders that help texts quote as code."""

from __future__ import annotations

import inspect

import pytest
from typer.testing import CliRunner

from docbin.cli import app

runner = CliRunner()
COMMANDS = {info.name: info.callback for info in app.registered_commands}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_command_opens_with_a_one_line_summary(name: str) -> None:
    summary = inspect.getdoc(COMMANDS[name]).split("\n\n")[0]
    assert "\n" not in summary and len(summary) <= 100, summary


def test_every_command_is_listed_by_help_with_its_summary() -> None:
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for name, callback in COMMANDS.items():
        assert f"{name}  " in result.output and inspect.getdoc(callback).split("\n\n")[0] in result.output


@pytest.mark.parametrize(("command", "placeholder"), [("train", "<name>.small.pt"), ("export", "<name>[.small].pt"),
                                                      ("evaluate", "<name>_RWeights.dat")])
def test_placeholders_in_angle_brackets_survive_the_markdown(command: str, placeholder: str) -> None:
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and placeholder in result.output


def test_a_docstring_wrapped_in_the_source_reads_as_one_paragraph() -> None:
    result = runner.invoke(app, ["serve", "--help"], env={"COLUMNS": "200"})
    # the source breaks the line after DOCBIN_PUBLIC_DOCS; the help joins it with the next
    assert result.exit_code == 0 and "DOCBIN_PUBLIC_DOCS, DOCBIN_MAX_UPLOAD_BYTES" in result.output
