"""Every ```python block of the user guide (docs/*.md) runs, as a reader would run it.

The blocks of a page run in order in one namespace (a later block may use what an
earlier one made), in a scratch folder where the files the page names are the real
recordings of ../shared/data (linked, never copied) and where ``../shared/data``
itself resolves, so that ``load_localizer("../shared/data/localizer")`` works as
written. What a page only describes in prose (``bold``, ``activations``...) is made
by its setup in ``tests/_docs_setup.py``, from the same real data where the page
is about real data. A page whose data is absent is skipped; a block that fails
reports its page and line.

A fenced block that is not meant to run (a signature, a console session) is not
marked ``python``: use ``text`` or ``console``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests import _docs_setup
from tests.conftest import ROOT, SHARED_DATA

DOCS = ROOT / "docs"
_FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.S | re.M)


def python_blocks(page: Path) -> list[tuple[int, str]]:
    """(first line of the code, code) of every ```python block of ``page``."""
    text = page.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in _FENCE.finditer(text)]


#: Pages that run a language model on hundreds of stimuli or parse large tables (minutes
#: on a busy machine): marked slow, so that ``-m "not slow"`` leaves them out.
SLOW = {"celegans.md", "distributed.md", "frequency-tagging.md", "models.md", "selectivity.md"}
PAGES = [
    pytest.param(page.name, marks=[pytest.mark.slow] if page.name in SLOW else [])
    for page in sorted(DOCS.glob("*.md"))
    if python_blocks(page)
]
#: Pages whose examples do not run yet, and why (reported as skips by ``pytest -ra``).
PENDING: dict[str, str] = {}


def test_every_page_with_examples_is_collected():
    # a guard against a fence the regular expression would silently miss (e.g. "``` python")
    for page in sorted(DOCS.glob("*.md")):
        loose = re.findall(r"^```\s*(?:py|python)\b", page.read_text(encoding="utf-8"), re.M)
        assert len(loose) == len(python_blocks(page)), page.name


@pytest.mark.shared_data
@pytest.mark.parametrize("page", PAGES)
def test_user_guide_examples_run(page, tmp_path, monkeypatch):
    if page in PENDING:
        pytest.skip(f"docs/{page}: {PENDING[page]}")
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder not available: {SHARED_DATA}")
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "data").symlink_to(SHARED_DATA, target_is_directory=True)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("NEURODATA_DATA", str(SHARED_DATA))
    namespace = _docs_setup.setup(page, work)
    plt = pytest.importorskip("matplotlib.pyplot")
    try:
        for line, code in python_blocks(DOCS / page):
            # padded so that a traceback names the line of the page
            exec(compile("\n" * (line - 1) + code, f"docs/{page}", "exec"), namespace)
    finally:
        plt.close("all")
