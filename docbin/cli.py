"""The ``docbin`` command line: binarize | evaluate | benchmark | train | export | serve | methods.

Each command lives in its own module under :mod:`docbin.commands`; heavy imports stay inside the
command bodies so ``docbin --help`` is instant.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="docbin",
    help="Document image binarization: classical thresholding, a three-stage DWT+GAN model, DIBCO evaluation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
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

app.command("benchmark")(_benchmark.benchmark)
app.command("binarize")(_binarize.binarize)
app.command("evaluate")(_evaluate.evaluate)
app.command("export")(_export.export)
app.command("methods")(_methods.methods)
app.command("serve")(_serve.serve)
app.command("synth")(_synth.synth)
app.command("train")(_train.train)
# --- end of command registrations ---


def main() -> None:
    app()


if __name__ == "__main__":
    main()
