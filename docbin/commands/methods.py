"""``docbin methods``: list the registered binarization methods and their parameters."""

from __future__ import annotations

import json
from typing import Any

import typer


def methods(as_json: bool = typer.Option(False, "--json", help="Print the registry as JSON.")) -> None:
    """List every binarization method with its parameters, defaults and reference.

    A method that cannot run here (e.g. its model files are missing or corrupt) is listed with the reason."""
    from docbin import registry

    described = [m.describe() for m in registry.available()]
    if as_json:
        typer.echo(json.dumps(described, indent=2, allow_nan=False))
        return
    for m in described:
        typer.echo(f"{m['name']:<12} {m['description']}  [{m['reference']}]")
        if not m["available"]:
            typer.echo(f"    UNAVAILABLE: {m['unavailable']}")
        if m["model"]:
            typer.echo(f"    serves {model_line(m['model'])}")
        for p in m["params"]:
            bounds = "".join(
                f" {k}={p[k]}" for k in ("min", "max", "choices") if p[k] is not None
            )
            typer.echo(f"    {p['name']}: {p['type']} = {p['default']}{bounds}  {p['help']}")


def model_line(model: dict[str, Any]) -> str:
    """The served model in one line: folder, precision, version, size, and each precision that can (not) run."""
    line = f"{model['name']} ({model['precision']}, version {model['version']}, {model['bytes'] / 1e6:.2f} MB)"
    others = [f"{p}: {'available' if s['available'] else 'unavailable (' + s['unavailable'] + ')'}"
              for p, s in model.get("precisions", {}).items() if s.get("name") != model["name"]]
    return line + (f"; precision={', '.join(others)}" if others else "")
