"""The matcher's modules import one way: base ← features ← the backends ← the package, which
picks a backend by name (the embeddings backend's encoder and its disk cache sit below it, the
offline calibration beside). No backend imports another or the package, so the circle the matcher
once had (the matcher importing the backends, which imported the matcher) cannot come back."""

from __future__ import annotations

import ast
from pathlib import Path

import kefu.bot.matching

PACKAGE = "kefu.bot.matching"
ROOT = Path(kefu.bot.matching.__file__).parent

#: What each module may import from the package (the package itself, ``kefu.bot.matching``,
#: is never importable by its own modules: that is where the backends are chosen).
ALLOWED: dict[str, set[str]] = {
    "base": set(),
    "features": set(),
    "tfidf": {"base", "features"},
    "embeddings": {"base", "features", "encoders"},
    "encoders": {"features", "vectorcache"},
    "vectorcache": set(),
    "calibration": set(),
    "__init__": {"base"},
}


def _imports(path: Path) -> set[str]:
    """Every module of ``kefu.bot.matching`` the file imports, at any depth (lazy imports
    inside functions count), as the module's short name; ``""`` for the package."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: use absolute imports"
            module = node.module or ""
            names = [f"{module}.{alias.name}" for alias in node.names] + [module]
        for name in names:
            if name == PACKAGE:
                found.add("")
            elif name.startswith(PACKAGE + "."):
                found.add(name[len(PACKAGE) + 1 :].split(".")[0])
    return found


def _string_imports(path: Path) -> set[str]:
    """Modules named in strings (``importlib.import_module(BACKENDS[...])``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        value = node.value if isinstance(node, ast.Constant) else None
        if isinstance(value, str) and value.startswith(PACKAGE + "."):
            found.add(value[len(PACKAGE) + 1 :])
    return found


def test_every_module_is_listed() -> None:
    assert {p.stem for p in ROOT.glob("*.py")} == set(ALLOWED)


def test_imports_go_one_way() -> None:
    for path in sorted(ROOT.glob("*.py")):
        imported = _imports(path) - {path.stem}
        assert imported <= ALLOWED[path.stem], (path.name, imported - ALLOWED[path.stem])
        assert "" not in imported or path.stem == "__init__", path.name


def test_the_registry_names_the_backends_without_importing_them() -> None:
    init = ROOT / "__init__.py"
    assert _imports(init) == {"base"}  # no import statement of a backend
    assert _string_imports(init) == {"tfidf", "embeddings"}
    assert set(kefu.bot.matching.BACKENDS) == {"tfidf", "embeddings"}


def test_the_allowed_graph_has_no_cycle() -> None:
    state: dict[str, int] = {}

    def visit(module: str) -> None:
        assert state.get(module) != 1, f"import cycle through {module}"
        if state.get(module) == 2:
            return
        state[module] = 1
        for dep in ALLOWED[module]:
            visit(dep)
        state[module] = 2

    for module in ALLOWED:
        visit(module)


def test_nothing_outside_imports_the_old_modules() -> None:
    """Callers import the package (or a backend by its new name), never ``kefu.bot.matcher``,
    ``kefu.bot.tfidf`` or ``kefu.bot.embeddings``."""
    src = ROOT.parent.parent
    old = {"kefu.bot.matcher", "kefu.bot.tfidf", "kefu.bot.embeddings"}
    for path in src.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in old:
                raise AssertionError(f"{path}: imports {node.module}")
            if isinstance(node, ast.Import):
                assert not {a.name for a in node.names} & old, path
