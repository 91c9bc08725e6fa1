"""The chapters' visible code stands on its own (no name that only a hidden cell defines),
and every exercise has a solution or sketch to check against."""

from __future__ import annotations

from pathlib import Path

import pytest

from wbbook import lint

BOOK = Path(__file__).resolve().parents[1] / "book"
CHAPTERS = sorted(p for p in BOOK.glob("*.md") if "```{code-cell}" in p.read_text())


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_visible_code_uses_no_hidden_only_name(chapter):
    assert lint.hidden_only_names(chapter) == {}


def test_at_most_thirty_percent_of_the_chapters_code_is_hidden():
    counts = [lint.code_lines(chapter) for chapter in CHAPTERS]
    hidden, total = sum(h for h, _ in counts), sum(t for _, t in counts)
    assert hidden <= lint.MAX_HIDDEN_SHARE * total, (
        f"{hidden} of {total} code lines hidden"
    )


def test_code_lines_counts_hidden_cells_and_skips_blanks_and_comments(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "# A page\n\n```{code-cell} ipython3\n:tags: [remove-cell]\n# glue\nx = 1\n\ny = 2\n```\n\n"
        "```{code-cell} ipython3\n:tags: [remove-output]\nfig = x + y\n```\n\n"
        "```{code-cell} ipython3\n:tags: [hide-cell]\nz = 3\n```\n"
    )
    assert lint.code_lines(page) == (2, 4)
    assert lint.main([str(page)]) == 1  # half the code hidden: over the limit


def test_the_check_finds_a_hidden_only_name(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "# A page\n\n```{code-cell} ipython3\n:tags: [remove-cell]\nsecret = 1\nshown = 2\n```\n\n"
        "```{code-cell} ipython3\nprint(secret + shown)\n```\n\n```{code-cell} ipython3\nshown = 3\n```\n\n"
        "```{code-cell} ipython3\n:tags: [hide-cell]\nfolded = 4\n```\n\n"
        "```{code-cell} ipython3\nprint(folded, shown, len([secret]))\n```\n"
    )
    assert lint.hidden_only_names(page) == {"secret": 2, "shown": 1}


EXERCISED = sorted(p for p in BOOK.glob("*.md") if lint.exercise_labels(p))


@pytest.mark.parametrize("chapter", EXERCISED, ids=lambda p: p.stem)
def test_every_exercise_has_a_solution_and_a_chapter_at_least_three(chapter):
    assert lint.exercises_without_solution(chapter) == []
    assert len(lint.exercise_labels(chapter)) >= lint.MIN_EXERCISES


def test_the_check_finds_an_exercise_without_a_solution(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "# A page\n\n```{exercise} By hand: one\n:label: ex-one\n\nDo it.\n```\n\n"
        "````{solution-start} ex-one\n:class: dropdown\n````\n\nDone.\n\n````{solution-end}\n````\n\n"
        "```{exercise} Open: two\n:label: ex-two\n\nThink.\n```\n\n"
        "```{exercise} Code: three\n:label: ex-three\n\nRun.\n```\n\n"
        "```{solution} ex-three\n:class: dropdown\n\nRan.\n```\n"
    )
    assert lint.exercise_labels(page) == ["ex-one", "ex-two", "ex-three"]
    assert lint.exercises_without_solution(page) == ["ex-two"]
    assert lint.main([str(page)]) == 1
