"""The ``docbin`` command line: binarize | evaluate | benchmark | train | export | serve | methods | warmup.

Each command lives in its own module under :mod:`docbin.commands`; heavy imports stay inside the
command bodies so ``docbin --help`` is instant. A :class:`docbin.errors.DocbinError` that escapes a command
is reported here, as one line and the exit status of its kind; any other exception is a bug and keeps its
traceback (exit status 1).
"""

from __future__ import annotations

import typer
from typer.core import TyperGroup

from docbin.errors import ClusterError, DocbinError, ExportError, ImageReadError, ModelNotFoundError, TrainingError

USAGE_STATUS = 2  # the command line or what it names is wrong: fix it and rerun
FAILURE_STATUS = 1  # the work was tried and failed (files it could not read, a lost cluster, a failed export)
FAILURES = (ImageReadError, ModelNotFoundError, ClusterError, ExportError, TrainingError)


def exit_status(error: DocbinError) -> int:
    """The exit status of ``docbin`` when ``error`` ends a command.

    Parameters
    ----------
    error : DocbinError
        The error that ended the command.

    Returns
    -------
    int
        ``FAILURE_STATUS`` (1) for work that was tried and failed (:data:`FAILURES`), ``USAGE_STATUS`` (2)
        for every other DocbinError: a wrong option, parameter, path or dataset.
    """
    return FAILURE_STATUS if isinstance(error, FAILURES) else USAGE_STATUS


class DocbinGroup(TyperGroup):
    """The ``docbin`` command group: the one place where a DocbinError becomes ``error: <message>`` on
    stderr and :func:`exit_status`."""

    def invoke(self, ctx: typer.Context) -> object:
        try:
            return super().invoke(ctx)
        except DocbinError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(exit_status(exc)) from None


app = typer.Typer(
    name="docbin",
    help="Document image binarization: classical thresholding, a three-stage DWT+GAN model, DIBCO evaluation.",
    no_args_is_help=True,
    add_completion=False,
    # help text as Markdown: a docstring's wrapped source lines join into paragraphs, `code` renders as code
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
    cls=DocbinGroup,
)

# --- command registrations (one line per command module) ---
from docbin.commands import benchmark as _benchmark  # noqa: E402
from docbin.commands import binarize as _binarize  # noqa: E402
from docbin.commands import evaluate as _evaluate  # noqa: E402
from docbin.commands import export as _export  # noqa: E402
from docbin.commands import methods as _methods  # noqa: E402
from docbin.commands import serve as _serve  # noqa: E402
from docbin.commands import synth as _synth  # noqa: E402
from docbin.commands import train as _train  # noqa: E402
from docbin.commands import warmup as _warmup  # noqa: E402

app.command("benchmark")(_benchmark.benchmark)
app.command("binarize")(_binarize.binarize)
app.command("evaluate")(_evaluate.evaluate)
app.command("export")(_export.export)
app.command("methods")(_methods.methods)
app.command("serve")(_serve.serve)
app.command("synth")(_synth.synth)
app.command("train")(_train.train)
app.command("warmup")(_warmup.warmup)
# --- end of command registrations ---


def main() -> None:
    app()


if __name__ == "__main__":
    main()
