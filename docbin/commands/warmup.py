"""``docbin warmup``: compile docbin's numba kernels ahead of use (or load them from numba's cache)."""

from __future__ import annotations

import time

import typer


def warmup() -> None:
    """Compile every compiled kernel once, so that no later command pays for it.

    Runs each kernel on tiny inputs (~30-50 s the first time on a machine, under a
    second once numba's cache holds them) and prints what was compiled or loaded, where it is cached, and how
    long each step took. Run it after installing or upgrading docbin."""
    from docbin import kernels

    start = time.perf_counter()
    with kernels.compile_notice():
        states = kernels.warm_up(lambda step, seconds: typer.echo(f"{step:<12} {seconds:6.2f} s"))
    for state in states:
        how = f"compiled {state.compiled}" if state.compiled else f"loaded {state.loaded} from cache"
        typer.echo(f"{state.name:<55} {how}")
    for folder in sorted({state.cache_dir for state in states}):
        typer.echo(f"cache: {folder}")
    compiled = sum(state.compiled for state in states)
    typer.echo(f"{len(states)} kernels ready in {time.perf_counter() - start:.1f} s "
               f"({compiled} signature(s) compiled, {sum(s.loaded for s in states)} loaded from cache)")
