"""The one-way dependencies of DESIGN.md, checked by import-linter rather than remembered."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold() -> None:
    lint_imports = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    result = subprocess.run(
        [lint_imports, "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_app_modules_form_no_import_circle() -> None:
    """A circle makes every module of it load (and change) with all the others: the screens once
    formed one with the App. Found as the strongly connected components of grimp's import graph."""
    import grimp

    graph = grimp.build_graph("app", "widgets", "services", "db", "schema", "synthetic", cache_dir=None)
    modules = sorted(m for m in graph.modules if m.split(".")[0] == "app")
    circles = [
        sorted({m, *chain})
        for m in modules
        for imported in graph.find_modules_directly_imported_by(m)
        if imported.split(".")[0] == "app"
        and (chain := graph.find_shortest_chain(importer=imported, imported=m)) is not None
    ]
    assert circles == [], circles
