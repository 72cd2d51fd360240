"""docs/ARCHITECTURE.md's module map names every module of the project, and only modules that exist."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("docbin", "models", "datasets", "service", "bench")


def project_modules() -> set[str]:
    """Every Python file of the packages and bench scripts, package markers aside."""
    return {
        path.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if path.name != "__init__.py" and "__pycache__" not in path.parts
    }


def mapped_modules() -> set[str]:
    """The module paths in the first column of the module map's tables."""
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    section = text.split("## Module map", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([\w/]+\.py)` \|", section, flags=re.MULTILINE))


def test_every_module_is_in_the_map() -> None:
    assert sorted(project_modules() - mapped_modules()) == []


def test_the_map_names_no_missing_module() -> None:
    assert sorted(mapped_modules() - project_modules()) == []
