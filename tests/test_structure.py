"""The shape of the code: no module imports another in a cycle (imports inside functions
included), data flows one way (questionnaires -> reviews -> actions), and no module grows
past what one person can read in a sitting.

Every module of the apps is parsed with `ast`; nothing is imported, so a cycle that Python
would tolerate (because one side imports inside a function) is still found."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("config", "questionnaires", "reviews", "actions")
# Which apps each app must never import: data flows questionnaires -> reviews -> actions.
FORBIDDEN = {
    "questionnaires": ("reviews", "actions"),
    "reviews": ("actions",),
}
MAX_LINES = 600


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    lines: int
    imports: dict[str, int] = field(default_factory=dict)  # module -> first line


def parse_modules(root: Path, paths: list[Path]) -> dict[str, Module]:
    """The modules at `paths` (under `root`), parsed, with their imports."""
    modules = {}
    for path in paths:
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        name = ".".join(parts)
        text = path.read_text(encoding="utf-8")
        modules[name] = Module(name, path, ast.parse(text, str(path)), len(text.splitlines()))
    import_graph(modules)
    return modules


def app_modules() -> dict[str, Module]:
    """Every module of the apps, migrations left out."""
    paths = [
        path
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.relative_to(ROOT).parts
    ]
    return parse_modules(ROOT, paths)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST):
    """Every import statement at any depth (functions, classes, try blocks), except those
    under `if TYPE_CHECKING:`, which never run."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (n for child in node.orelse for n in _import_nodes_of(child))
            continue
        yield from _import_nodes_of(node)


def _import_nodes_of(node: ast.AST):
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    else:
        yield from _import_nodes(node)


def _resolve(module: Module, node: ast.Import | ast.ImportFrom, known: set[str]) -> list[str]:
    """The app modules an import statement loads."""
    if isinstance(node, ast.Import):
        targets = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module.name.split(".")
            if module.path.name != "__init__.py":
                package = package[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join([*package, base] if base else package)
        targets = [
            f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
            for alias in node.names
        ]
    found = []
    for target in targets:
        # `import a.b.c` loads a, a.b and a.b.c; the deepest app module is the dependency.
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != module.name:
            found.append(target)
    return found


def import_graph(modules: dict[str, Module]) -> dict[str, dict[str, int]]:
    known = set(modules)
    for module in modules.values():
        for node in _import_nodes(module.tree):
            for target in _resolve(module, node, known):
                module.imports.setdefault(target, node.lineno)
    return {name: module.imports for name, module in modules.items()}


def find_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """One cycle (a -> b -> ... -> a) per strongly connected group of modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(node: str) -> None:  # Tarjan
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_cycle_in(group, graph) for group in sorted(groups, key=min)]


def _cycle_in(group: set[str], graph: dict[str, dict[str, int]]) -> list[str]:
    """A shortest path from the group's first module back to itself, inside the group."""
    start = min(group)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in sorted(graph[node]):
            if target == start:
                return [*paths[node], start]
            if target in group and target not in paths:
                paths[target] = [*paths[node], target]
                queue.append(target)
    raise AssertionError(f"no cycle in {group}")  # pragma: no cover


def describe(cycle: list[str], modules: dict[str, Module]) -> str:
    steps = [
        f"{a} (line {modules[a].imports[b]}) -> {b}" for a, b in zip(cycle, cycle[1:], strict=False)
    ]
    return "; ".join(steps)


def is_models_only(module: Module) -> bool:
    """A models module holding only models: imports, classes and constants, no functions."""
    if module.path.stem != "models" and module.path.parent.name != "models":
        return False
    allowed = (ast.Import, ast.ImportFrom, ast.ClassDef, ast.Assign, ast.AnnAssign, ast.Expr)
    return all(isinstance(node, allowed) for node in module.tree.body)


@pytest.fixture(scope="module")
def modules() -> dict[str, Module]:
    return app_modules()


def test_the_apps_are_found(modules):
    assert {"actions.models", "reviews.models", "questionnaires.risk", "config.settings"} <= set(
        modules
    )
    assert not any(".migrations" in name for name in modules)


def test_no_module_imports_another_in_a_cycle(modules):
    cycles = find_cycles({name: m.imports for name, m in modules.items()})
    assert not cycles, "Import cycles (one per group of modules):\n" + "\n".join(
        describe(cycle, modules) for cycle in cycles
    )


@pytest.mark.parametrize("app", sorted(FORBIDDEN))
def test_data_flows_one_way(modules, app):
    wrong = [
        f"{module.name} line {line} imports {target}"
        for module in modules.values()
        if module.name.split(".")[0] == app
        for target, line in module.imports.items()
        if target.split(".")[0] in FORBIDDEN[app]
    ]
    assert not wrong, "\n".join(wrong)


def test_no_module_is_over_600_lines(modules):
    long = [
        f"{m.name}: {m.lines} lines"
        for m in modules.values()
        if m.lines > MAX_LINES and not is_models_only(m)
    ]
    assert not long, "\n".join(long)


# --- The checks themselves, on small made-up apps ---------------------------------------------


def _tree(tmp_path: Path, files: dict[str, str]) -> dict[str, Module]:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return parse_modules(tmp_path, sorted(tmp_path.rglob("*.py")))


def test_a_cycle_hidden_in_a_function_is_found(tmp_path):
    found = _tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/services.py": "def f():\n    from app.tasks import t\n",
            "app/tasks.py": "from app import services\n",
            "app/views.py": "from app import services, tasks\n",
        },
    )
    (cycle,) = find_cycles({name: m.imports for name, m in found.items()})
    assert cycle == ["app.services", "app.tasks", "app.services"]
    assert describe(cycle, found) == (
        "app.services (line 2) -> app.tasks; app.tasks (line 1) -> app.services"
    )


def test_relative_and_type_checking_imports(tmp_path):
    found = _tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/a.py": "from . import b\nfrom .c import thing\n",
            "app/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from app import a\n",
            "app/c.py": "import os\nimport app.b\n",
        },
    )
    assert found["app.a"].imports == {"app.b": 1, "app.c": 2}
    assert found["app.b"].imports == {}
    assert found["app.c"].imports == {"app.b": 2}
    assert find_cycles({name: m.imports for name, m in found.items()}) == []


def test_a_models_module_with_functions_is_not_models_only(tmp_path):
    found = _tree(
        tmp_path,
        {
            "app/models.py": "import x\nclass A:\n    pass\nB = 1\n",
            "app/other/models.py": "def helper():\n    pass\n",
            "app/services.py": "class A:\n    pass\n",
        },
    )
    assert is_models_only(found["app.models"])
    assert not is_models_only(found["app.other.models"])
    assert not is_models_only(found["app.services"])
