"""The course in a box on a small chapter: otter-grader makes the student's notebook and
grades submissions into one CSV; the reference scores full marks, the untouched notebook
zero, and every bad submission gets one line."""

from __future__ import annotations

import csv
import json

import nbformat
import pytest

from wbbook import assignments

CHAPTER = """\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A small chapter

```{code-cell} ipython3
import torch
```

## Exercises

```{exercise} Code ★: the unsymmetrised tensor
:label: ex-small-code

Write `unsymmetrised(w_l, w_r)`.

Starter code:

    from wbinterp import check
    def unsymmetrised(w_l, w_r):
        ...  # torch.einsum
    check.unsymmetrised(unsymmetrised)
```

````{solution-start} ex-small-code
:class: dropdown
````

```{code-cell} ipython3
from wbinterp import check


def unsymmetrised(w_l, w_r):
    return torch.einsum("ai,aj->aij", w_l, w_r)


assert check.unsymmetrised(unsymmetrised)
```

The answer in words.

````{solution-end}
````

```{exercise} Open ★★★: a question to think about
:label: ex-small-open

Why?
```

````{solution-start} ex-small-open
:class: dropdown
````

A SECRET SKETCH.

````{solution-end}
````
"""


def test_a_coding_exercise_with_a_check_becomes_a_graded_question():
    [question] = assignments.questions(CHAPTER)
    assert question.label == "ex-small-code"
    assert question.tests == ["check.unsymmetrised(unsymmetrised)"]
    assert (
        "return torch.einsum" in question.solution
        and "def unsymmetrised" in question.starter
    )
    assert (
        assignments._test(question.tests[0])
        == "assert check.passes(check.unsymmetrised, unsymmetrised)"
    )
    with pytest.raises(ValueError, match="one line"):
        assignments._test("check.unsymmetrised(")


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    chapter = root / "book" / "09_small.md"
    chapter.parent.mkdir()
    chapter.write_text(CHAPTER, encoding="utf-8")
    assert assignments.write([chapter], root / "out") == ["09_small"]
    return root / "out" / "09_small"


def _sources(path):
    return [cell.source for cell in nbformat.read(path, as_version=4).cells]


def test_the_student_gets_the_starter_code_and_no_solution(made):
    student = "\n".join(_sources(made / "student" / "09_small.ipynb"))
    assert (
        "...  # torch.einsum" in student
        and "check.unsymmetrised(unsymmetrised)" in student
    )
    assert "return torch.einsum" not in student and "A SECRET SKETCH" not in student
    assert "The answer in words" not in student
    assert "install" in student  # the chapters' first cell: Colab installs the package
    grader = "\n".join(_sources(made / "autograder" / "09_small.ipynb"))
    assert "return torch.einsum" in grader
    assert len(list((made / "autograder").glob("*.zip"))) == 1
    for edition in ("student", "autograder"):
        meta = nbformat.read(made / edition / "09_small.ipynb", as_version=4).metadata
        assert meta[assignments.METADATA] == {"assignment": "09_small"}


def test_grading_a_folder_of_submissions(made, tmp_path):
    subs = tmp_path / "submissions"
    subs.mkdir()
    (subs / "reference.ipynb").write_bytes(
        (made / "autograder" / "09_small.ipynb").read_bytes()
    )
    student = nbformat.read(made / "student" / "09_small.ipynb", as_version=4)
    nbformat.write(student, subs / "untouched.ipynb")
    code = [i for i, cell in enumerate(student.cells) if cell.cell_type == "code"]
    raising = nbformat.from_dict(json.loads(json.dumps(student)))
    raising.cells[code[-1]].source = "raise ValueError('not done')"
    nbformat.write(raising, subs / "raises.ipynb")
    (subs / "notes.txt").write_text("not a notebook")
    nbformat.write(nbformat.v4.new_notebook(), subs / "empty.ipynb")
    other = nbformat.from_dict(json.loads(json.dumps(student)))
    other.metadata[assignments.METADATA] = {"assignment": "03_other"}
    nbformat.write(other, subs / "other.ipynb")
    before = {p.name: p.read_bytes() for p in subs.iterdir()}

    out = assignments.grade(subs, made.parent, limit=120)

    rows = {row["submission"]: row for row in csv.DictReader(out.open())}
    assert list(csv.reader(out.open()))[0] == assignments.FIELDS
    assert (
        rows["reference.ipynb"]["score"]
        == rows["reference.ipynb"]["max_score"]
        == "1.0"
    )
    assert (
        rows["untouched.ipynb"]["question"] == "ex-small-code"
        and float(rows["untouched.ipynb"]["score"]) == 0
    )
    assert (
        float(rows["raises.ipynb"]["score"]) == 0
        and "ValueError: not done" in rows["raises.ipynb"]["note"]
    )
    assert "not a Jupyter notebook" in rows["notes.txt"]["note"]
    assert rows["empty.ipynb"]["note"] == "an empty notebook"
    assert "'03_other'" in rows["other.ipynb"]["note"]
    # nothing in the folder changed but the new grades.csv
    assert {
        p.name: p.read_bytes() for p in subs.iterdir() if p.name != assignments.GRADES
    } == before


def test_a_submission_that_runs_too_long_is_not_graded(made, tmp_path):
    slow = nbformat.read(made / "student" / "09_small.ipynb", as_version=4)
    code = [i for i, cell in enumerate(slow.cells) if cell.cell_type == "code"]
    slow.cells[code[-1]].source = "import time\ntime.sleep(600)"
    nbformat.write(slow, tmp_path / "slow.ipynb")
    [autograder] = (made / "autograder").glob("*.zip")
    assert assignments.grade_one(tmp_path / "slow.ipynb", autograder, limit=5) == (
        [],
        "ran past 5 s: not graded",
    )
