"""``docbin methods``: list the registered binarization methods and their parameters."""

from __future__ import annotations

import json

import typer


def methods(as_json: bool = typer.Option(False, "--json", help="Print the registry as JSON.")) -> None:
    """List every binarization method with its parameters, defaults and reference; a method that cannot run
    here (e.g. its model files are missing or corrupt) is listed with the reason."""
    from docbin import registry

    described = [m.describe() for m in registry.available()]
    if as_json:
        typer.echo(json.dumps(described, indent=2, allow_nan=False))
        return
    for m in described:
        typer.echo(f"{m['name']:<12} {m['description']}  [{m['reference']}]")
        if not m["available"]:
            typer.echo(f"    UNAVAILABLE: {m['unavailable']}")
        for p in m["params"]:
            bounds = "".join(
                f" {k}={p[k]}" for k in ("min", "max", "choices") if p[k] is not None
            )
            typer.echo(f"    {p['name']}: {p['type']} = {p['default']}{bounds}  {p['help']}")
