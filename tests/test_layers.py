"""The layers of the README's Layout: nothing below `project.py` imports or receives a `Project`."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "qualpipe"
# The application layer: the CLI, the demo and the web app call the Project API; the package root re-exports it.
ABOVE = {"__init__.py", "project.py", "cli.py", "cli_common.py", "cli_research.py", "cli_web.py", "demo.py"}


def below_project() -> list[Path]:
    def above(path: Path) -> bool:
        return (path.parent == PACKAGE and path.name in ABOVE) or path.relative_to(PACKAGE).parts[0] == "web"

    return sorted(p for p in PACKAGE.rglob("*.py") if not above(p))


def offences(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module in ("qualpipe.project", "qualpipe") and any(
                alias.name == "Project" for alias in node.names):
            found.append(f"line {node.lineno}: imports Project")
        elif isinstance(node, ast.ImportFrom) and node.module == "qualpipe.project":
            found.append(f"line {node.lineno}: imports from qualpipe.project")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names = [a.arg for a in node.args.args + node.args.kwonlyargs]
            if "project" in names:
                found.append(f"line {node.lineno}: {node.name}() takes a project")
    return found


def test_no_module_below_project_imports_or_receives_a_project():
    checked = below_project()
    assert len(checked) > 50 and PACKAGE / "engines.py" in checked and PACKAGE / "project.py" not in checked
    problems = {str(p.relative_to(PACKAGE)): offences(p) for p in checked}
    assert {name: found for name, found in problems.items() if found} == {}


def test_the_layer_check_finds_a_module_that_takes_a_project(tmp_path):
    module = tmp_path / "lower.py"
    module.write_text("from qualpipe.project import Project\n\ndef report(project, week):\n    return project\n",
                      encoding="utf-8")
    assert offences(module) == ["line 1: imports Project", "line 3: report() takes a project"]
