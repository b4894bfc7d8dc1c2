"""workflows/ is pure: it never imports the web, messaging, scheduling or template layers."""

import ast
from pathlib import Path

import pytest

FORBIDDEN = {"flask", "werkzeug", "wechatpy", "apscheduler", "jinja2", "bot"}
WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


@pytest.mark.parametrize("module", sorted(WORKFLOWS.rglob("*.py")), ids=lambda p: p.name)
def test_module_imports_no_framework(module):
    tree = ast.parse(module.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert not imported & FORBIDDEN
