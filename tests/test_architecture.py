"""The shape of the code: no import circles (function-local imports count), stages import only earlier stages."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "workflows")
# The award's order: a stage package may import core, documents and the stages before it, never a later one.
STAGE_ORDER = ("core", "documents", "committee", "call", "apply", "review", "scoring", "voting", "publicity")
# Top-level workflows modules that compose the stages; no stage package imports them.
COMPOSERS = {"workflows.intake", "workflows.archive", "workflows.edition", "workflows.tables", "workflows.progress",
             "workflows.broadcast", "workflows.retention", "workflows.stage_order"}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports anywhere in its body (function-local imports included).

    Importing `a.b.c` from outside package `a.b` also runs `a.b/__init__`, so that edge is added too;
    a sibling import inside a package does not re-run the package's own `__init__`.
    """
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}

    def add(src: str, target: str) -> None:
        if target not in modules or target == src:
            return
        graph[src].add(target)
        parent = target.rpartition(".")[0]
        src_pkg = src if modules[src].name == "__init__.py" else src.rpartition(".")[0]
        while parent and parent in modules and not src_pkg.startswith(parent):
            graph[src].add(parent)
            parent = parent.rpartition(".")[0]

    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    add(name, alias.name)
            elif isinstance(node, ast.ImportFrom):
                source = _resolve(name, is_package, node)
                for alias in node.names:
                    full = f"{source}.{alias.name}"
                    add(name, full if full in modules else source)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "workflows" and parts[1] in STAGE_ORDER else None


def test_no_import_cycles_in_bot_or_workflows():
    assert cycles(import_graph()) == []


def test_a_cycle_is_found_when_there_is_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_stages_import_only_earlier_stages():
    wrong = []
    for src, targets in import_graph().items():
        src_stage = _stage(src)
        if src_stage is None:
            continue
        for target in targets:
            if target in COMPOSERS:
                wrong.append(f"{src} -> {target}")
            target_stage = _stage(target)
            if target_stage and STAGE_ORDER.index(target_stage) > STAGE_ORDER.index(src_stage):
                wrong.append(f"{src} -> {target}")
    assert wrong == []


def test_every_stage_is_a_package_you_can_see():
    listed = {p.name for p in (ROOT / "workflows").iterdir() if (p / "__init__.py").exists()}
    assert set(STAGE_ORDER) <= listed
