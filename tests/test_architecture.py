"""The shape of the package: no import circles, small modules, one subpackage per analysis."""

from __future__ import annotations

from pathlib import Path

import pytest

import neurodata

PACKAGE = Path(neurodata.__file__).parent
MAX_LINES = 600


def _graph():
    grimp = pytest.importorskip("grimp")  # installed with import-linter
    return grimp.build_graph("neurodata", include_external_packages=False)


def test_no_import_circle_between_any_two_modules():
    """Function-level imports count: grimp records every import statement."""
    import networkx as nx

    graph = _graph()
    edges = nx.DiGraph()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            # a package's __init__ importing its own submodules is not a circle of modules
            if not imported.startswith(module + "."):
                edges.add_edge(module, imported)
    circles = [c for c in nx.simple_cycles(edges) if not _is_init_reexport(c)]
    assert circles == [], f"import circles: {circles[:5]}"


def _is_init_reexport(cycle: list[str]) -> bool:
    """``pkg.sub`` importing from ``pkg`` (its parent's __init__), which re-exports ``pkg.sub``."""
    return len(cycle) == 2 and (
        cycle[0].startswith(cycle[1] + ".") or cycle[1].startswith(cycle[0] + ".")
    )


def test_no_module_over_the_size_limit():
    sizes = {
        str(p.relative_to(PACKAGE.parent)): sum(1 for _ in p.open(encoding="utf-8"))
        for p in PACKAGE.rglob("*.py")
    }
    big = {name: n for name, n in sizes.items() if n > MAX_LINES}
    assert big == {}, f"modules over {MAX_LINES} lines: {big}"


def test_analyses_are_subpackages_with_at_most_three_flat_modules():
    analyses = PACKAGE / "analyses"
    flat = sorted(p.name for p in analyses.glob("*.py") if p.name != "__init__.py")
    assert len(flat) <= 3, flat
    for name in ("rsa", "encoding", "frequency_tagging", "connectome", "selectivity"):
        assert (analyses / name / "__init__.py").is_file(), name


def test_subpackages_resolve_on_attribute_access():
    import subprocess
    import sys

    code = (
        "import sys, neurodata as nd\n"
        "heavy = [m for m in ('torch', 'mne', 'pynwb', 'transformers', 'sklearn') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "for name in ('rsa', 'encoding', 'frequency_tagging', 'connectome', 'selectivity'):\n"
        "    assert getattr(nd.analyses, name).__all__, name\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
