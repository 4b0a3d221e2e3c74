"""The house rules a newcomer relies on to read the tree, checked on the tree itself.

No module over 600 lines and no class over 400 (split by job when one grows), at most four
modules at ``intake/``'s root besides ``__init__`` and ``__main__`` (everything else lives in
the folder of its domain), and every subpackage and module in the tree table of
docs/architecture.md (a folder nobody can find in the map does not exist for a newcomer).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "intake"
ARCHITECTURE = ROOT / "docs" / "architecture.md"

MAX_MODULE_LINES = 600
MAX_CLASS_LINES = 400
MAX_ROOT_MODULES = 4


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def line_count(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_no_module_is_over_600_lines() -> None:
    over = {name(p): n for p in modules() if (n := line_count(p)) > MAX_MODULE_LINES}
    assert not over, f"over {MAX_MODULE_LINES} lines (split by job): {over}"


def test_no_class_is_over_400_lines() -> None:
    over: dict[str, int] = {}
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                size = node.end_lineno - node.lineno + 1
                if size > MAX_CLASS_LINES:
                    over[f"{name(path)}::{node.name}"] = size
    assert not over, f"classes over {MAX_CLASS_LINES} lines (split by job): {over}"


def test_the_root_holds_at_most_four_modules() -> None:
    root = sorted(p.name for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__"))
    assert len(root) <= MAX_ROOT_MODULES, f"move these into their domain's folder: {root}"


def tree_table() -> str:
    """The section of docs/architecture.md that draws the tree."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    start = text.index("\n## The tree, by domain")
    return text[start : text.find("\n## ", start + 1)]


def test_every_module_is_in_the_architecture_tree() -> None:
    table = tree_table()
    missing = [
        name(p)
        for p in modules()
        if p.name != "__init__.py"
        and "versions" not in p.parts
        and p.parent != PACKAGE
        # a row names a module by its path, or by its name in a list after its folder's first
        and p.relative_to(PACKAGE).as_posix() not in table
        and f"`{p.name}`" not in table
    ]
    assert not missing, f"draw these modules in docs/architecture.md's tree: {missing}"


def drawn_folders() -> set[str]:
    """The folders the tree table of docs/architecture.md draws: the ``folder/`` names in its
    second column (``| layer | folder or module | its job | library |``)."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    start = text.index("\n## The tree, by domain")
    end = text.find("\n#", start + 1)
    rows = [line for line in text[start:end].splitlines() if line.startswith("|")]
    cells = [row.split("|")[2] for row in rows if row.count("|") >= 5]
    return {f for cell in cells for f in re.findall(r"`([a-z_][a-z0-9_/]*/)`", cell)}


def test_every_subpackage_is_in_the_architecture_tree() -> None:
    listed = drawn_folders()
    packages = {
        init.parent.relative_to(PACKAGE).as_posix() + "/"
        for init in PACKAGE.rglob("__init__.py")
        if init.parent != PACKAGE
    }
    missing = sorted(packages - listed)
    assert not missing, f"add these folders to the tree in docs/architecture.md: {missing}"
    gone = sorted(p for p in listed if not (PACKAGE / p).is_dir())
    assert not gone, f"docs/architecture.md draws folders that do not exist: {gone}"
