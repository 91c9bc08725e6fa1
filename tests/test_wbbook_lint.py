"""The chapters' visible code stands on its own: no name that only a hidden cell defines."""

from __future__ import annotations

from pathlib import Path

import pytest

from wbbook import lint

BOOK = Path(__file__).resolve().parents[1] / "book"
CHAPTERS = sorted(p for p in BOOK.glob("*.md") if "```{code-cell}" in p.read_text())


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_visible_code_uses_no_hidden_only_name(chapter):
    assert lint.hidden_only_names(chapter) == {}


def test_the_check_finds_a_hidden_only_name(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "# A page\n\n```{code-cell} ipython3\n:tags: [remove-cell]\nsecret = 1\nshown = 2\n```\n\n"
        "```{code-cell} ipython3\nprint(secret + shown)\n```\n\n```{code-cell} ipython3\nshown = 3\n```\n\n"
        "```{code-cell} ipython3\n:tags: [hide-cell]\nfolded = 4\n```\n\n"
        "```{code-cell} ipython3\nprint(folded, shown, len([secret]))\n```\n"
    )
    assert lint.hidden_only_names(page) == {"secret": 2, "shown": 1}
