"""The packages import one way: data -> text -> nn -> embeddings -> train -> tasks -> lab, cli.

Every import counts, at module level or inside a function, and so does a module named in a
string for ``importlib`` (the lazy attributes of a package ``__init__``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "seqlab"

# Rank of each package; a package may import only from packages of a lower rank. Top-level
# modules (seqlab.io, ...) are shared helpers that any package may use.
LAYERS = {
    "data": 0,
    "text": 1,
    "nn": 2,
    "embeddings": 3,
    "train": 4,
    "tasks": 5,
    "lab": 6,
    "explore": 6,
    "cli": 7,
}
MODULE_NAME = re.compile(r"seqlab(\.\w+)+")


def imported_packages(path: Path) -> set[tuple[str, int]]:
    """``(package, line)`` for every ``seqlab.<package>`` that the file imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Constant) and MODULE_NAME.fullmatch(str(node.value)):
            names = [node.value]
        for name in names:
            parts = name.split(".")
            if parts[0] == "seqlab" and len(parts) > 1 and (SRC / parts[1]).is_dir():
                found.add((parts[1], node.lineno))
    return found


def test_every_package_has_a_layer():
    packages = {p.name for p in SRC.iterdir() if (p / "__init__.py").is_file()}
    assert packages <= set(LAYERS), f"give these packages a layer: {packages - set(LAYERS)}"


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_imports_flow_one_way(package):
    folder = SRC / package
    if not folder.is_dir():
        pytest.skip(f"seqlab.{package} does not exist yet")
    wrong = [
        f"{path.relative_to(SRC.parent)}:{line} imports seqlab.{other}"
        for path in sorted(folder.rglob("*.py"))
        for other, line in sorted(imported_packages(path))
        if other != package and LAYERS.get(other, -1) >= LAYERS[package]
    ]
    assert not wrong, f"seqlab.{package} may only import packages before it:\n" + "\n".join(wrong)
