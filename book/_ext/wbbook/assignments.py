"""A course in a box: each chapter as an assignment a student fills in and otter-grader grades.

    python -m wbbook.assignments write [--out _build/assignments] [CHAPTER.md ...]
    python -m wbbook.assignments grade SUBMISSIONS [--assignments _build/assignments]
    python -m wbbook.assignments references [--assignments _build/assignments]

``write`` (``make assignments``) turns each chapter into an otter-grader master notebook
(:func:`master_notebook`) and runs ``otter assign`` on it, giving
``<out>/<chapter>/student/<chapter>.ipynb``, the notebook a student gets, and
``<out>/<chapter>/autograder/``, the grader's material with the reference solutions. A
coding exercise whose starter code ends with a check of :mod:`wbinterp.check` becomes a
graded question: the student sees the starter code, the grader runs the book's solution
and, as its test, that check; every other solution is left out of the student's notebook.

``grade`` (``make grade SUBMISSIONS=DIR``) grades every notebook in ``DIR`` with ``otter
run`` (no containers), each in a temporary folder with a time limit, and writes
``DIR/grades.csv``: one row per submission and question, with its score, or one row
saying why a submission got none (not a notebook, empty, from no known chapter, raised,
ran too long). Nothing else in ``DIR`` is written.

``references`` (``make assignments-check``) grades each chapter's reference notebook, the
book's own solutions, and fails unless every question gets full marks.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

from .edition import DIRECTIVE, closing_fence, strip_solutions
from .notebooks import install_cell

ROOT = Path(__file__).resolve().parents[3]
#: The seconds a submission may run before it is given up (a chapter's own work is about
#: a minute with its models stored).
TIME_LIMIT = 600
GRADES = "grades.csv"
#: The notebook metadata key naming a student notebook's assignment.
METADATA = "wbbook"
FIELDS = ["submission", "chapter", "question", "score", "max_score", "note"]

_STARTER = re.compile(r"^Starter code:\s*$")


@dataclass(frozen=True)
class Question:
    """A coding exercise graded by its check: its label, the student's starter code, the
    book's solution code and the check calls that test it."""

    label: str
    starter: str
    solution: str
    tests: list[str]


def _raw(text: str) -> str:
    return f"```{{raw-cell}}\n{text}\n```\n"


def _code(text: str) -> str:
    return f"```{{code-cell}} ipython3\n{text.rstrip()}\n```\n"


_CHECK_CALL = re.compile(r"^check\.(?P<name>\w+)\((?P<args>.*)\)\s*(#.*)?$")


def _test(call: str) -> str:
    """The grader's test for a check call of the starter code: the same check, silent (otter
    compares what a test prints)."""
    match = _CHECK_CALL.match(call.strip())
    if match is None:
        raise ValueError(
            f"a check call should fit on one line, as check.name(arguments): {call!r}"
        )
    return f"assert check.passes(check.{match['name']}, {match['args']})"


def _starter(exercise: list[str]) -> str:
    """The indented block after "Starter code:" in an exercise's lines, dedented."""
    for i, line in enumerate(exercise):
        if _STARTER.match(line.strip()):
            block = []
            for rest in exercise[i + 1 :]:
                if rest.strip() and not rest.startswith("    "):
                    break
                block.append(rest)
            return textwrap.dedent("".join(block)).strip("\n")
    return ""


def _code_cells(lines: list[str]) -> list[str]:
    """The sources of the ``{code-cell}`` blocks in ``lines``, their option lines dropped."""
    cells, i = [], 0
    while i < len(lines):
        match = DIRECTIVE.match(lines[i])
        if match and match["name"] == "code-cell":
            end = closing_fence(lines, i, match["fence"])
            body = [line for line in lines[i + 1 : end] if not line.startswith(":")]
            cells.append("".join(body).strip("\n"))
            i = end + 1
        else:
            i += 1
    return cells


def questions(text: str) -> list[Question]:
    """The chapter's graded questions: exercises whose starter code calls a check."""
    lines = text.splitlines(keepends=True)
    found, exercises = [], {}
    i = 0
    while i < len(lines):
        match = DIRECTIVE.match(lines[i])
        if match and match["name"] == "exercise":
            end = closing_fence(lines, i, match["fence"])
            label = next(
                (
                    line.split(":label:")[1].strip()
                    for line in lines[i:end]
                    if ":label:" in line
                ),
                None,
            )
            if label:
                exercises[label] = lines[i:end]
            i = end + 1
        elif match and match["name"] == "solution-start":
            label = lines[i].split("}", 1)[1].strip()
            start = closing_fence(lines, i, match["fence"]) + 1
            k = start
            while not (
                (m := DIRECTIVE.match(lines[k])) and m["name"] == "solution-end"
            ):
                k += 1
            starter = _starter(exercises.get(label, []))
            tests = [line for line in starter.splitlines() if line.startswith("check.")]
            if tests:
                found.append(
                    Question(
                        label, starter, "\n\n".join(_code_cells(lines[start:k])), tests
                    )
                )
            i = k + 1
        else:
            i += 1
    return found


def master_notebook(text: str, name: str):
    """The otter-grader master notebook of a chapter's MyST text: its graded questions with
    their starter code, solutions and tests, every other solution left out."""
    import jupytext

    graded = {q.label: q for q in questions(text)}
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = DIRECTIVE.match(lines[i])
        if match and match["name"] == "exercise":
            label = next(
                (
                    line.split(":label:")[1].strip()
                    for line in lines[i : i + 4]
                    if ":label:" in line
                ),
                "",
            )
            if label in graded:
                out.append(
                    _raw(
                        f"# BEGIN QUESTION\nname: {label}\npoints: 1\ncheck_cell: false"
                    )
                )
            out.append(lines[i])
            i += 1
        elif (
            match
            and match["name"] == "solution-start"
            and lines[i].split("}", 1)[1].strip() in graded
        ):
            question = graded[lines[i].split("}", 1)[1].strip()]
            k = i
            while not (
                (m := DIRECTIVE.match(lines[k])) and m["name"] == "solution-end"
            ):
                k += 1
            prompt = question.starter
            out += [
                _raw("# BEGIN SOLUTION"),
                _code(
                    f'""" # BEGIN PROMPT\n{prompt}\n""" # END PROMPT\n'
                    f"# BEGIN SOLUTION NO PROMPT\n{question.solution}\n# END SOLUTION"
                ),
                _raw("# END SOLUTION"),
                _raw("# BEGIN TESTS"),
                _code("\n".join(_test(call) for call in question.tests)),
                _raw("# END TESTS"),
                _raw("# END QUESTION"),
            ]
            i = closing_fence(lines, k, m["fence"]) + 1
        else:
            out.append(lines[i])
            i += 1
    body = strip_solutions("".join(out))
    config = (
        f"# ASSIGNMENT CONFIG\nname: {name}\ninit_cell: false\ncheck_all_cell: false\n"
        "export_cell: false\nsolutions_pdf: false\nrun_tests: false\ngenerate: true\ntests:\n  files: false"
    )
    nb = jupytext.reads(body, fmt="md:myst")
    import nbformat

    nb.cells.insert(0, nbformat.v4.new_raw_cell(config))
    at = (
        2 if len(nb.cells) > 1 and nb.cells[1].cell_type == "markdown" else 1
    )  # after the title
    nb.cells.insert(at, nbformat.v4.new_code_cell(_install_source()))
    nb.metadata.pop("jupytext", None)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def _install_source() -> str:
    """The chapters' first cell (:func:`wbbook.notebooks.install_cell`), from the book's settings."""
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    repository, base = config["repository"], config.get("html", {}).get("baseurl")
    models = f"{base.rstrip('/')}/models/" if base else None
    return install_cell(repository["url"], repository.get("branch", "main"), models)


def write(chapters: list[Path], out: Path) -> list[str]:
    """Run ``otter assign`` on each chapter's master notebook into ``out/<chapter>/``;
    return the chapters written."""
    import nbformat

    out = Path(out).resolve()  # otter runs in the chapter's folder
    written = []
    for chapter in chapters:
        name = chapter.stem
        text = chapter.read_text(encoding="utf-8")
        if not questions(text):
            continue
        target = out / name
        with tempfile.TemporaryDirectory() as tmp:
            master = Path(tmp) / f"{name}.ipynb"
            nbformat.write(master_notebook(text, name), master)
            shutil.rmtree(target, ignore_errors=True)
            result = subprocess.run(
                [sys.executable, "-m", "otter", "assign", str(master), str(target)],
                capture_output=True,
                text=True,
                cwd=chapter.parent,
            )
        if result.returncode != 0:
            raise RuntimeError(
                f"otter assign failed on {chapter}: {result.stderr.strip().splitlines()[-1:]}"
            )
        # the assignment's name travels with the student's notebook (Jupyter keeps metadata)
        for edition in ("student", "autograder"):
            notebook = target / edition / f"{name}.ipynb"
            nb = nbformat.read(notebook, as_version=4)
            nb.metadata[METADATA] = {"assignment": name}
            nbformat.write(nb, notebook)
        written.append(name)
    return written


def _autograders(assignments: Path) -> dict[str, Path]:
    """``{chapter: its autograder zip}`` under ``assignments``."""
    return {
        zip_.parents[1].name: zip_
        for zip_ in sorted(assignments.glob("*/autograder/*.zip"))
    }


def _chapter_of(path: Path, known: dict[str, Path]) -> tuple[str | None, str]:
    """Which assignment a submission belongs to, or why it has none."""
    import nbformat

    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as err:  # noqa: BLE001 - whatever the file is, it is not a notebook
        return None, f"not a Jupyter notebook ({type(err).__name__})"
    if not any(cell.source.strip() for cell in nb.cells):
        return None, "an empty notebook"
    name = (nb.metadata.get(METADATA) or {}).get("assignment")
    if name is None:
        return (
            None,
            "not a notebook of make assignments (its metadata names no assignment)",
        )
    if name not in known:
        return None, f"from chapter {name!r}, which has no assignment here"
    return name, ""


def _otter_run(args: list[str], cwd: str, limit: int) -> subprocess.CompletedProcess:
    """``python -m otter run ARGS`` in its own process group, so that a run past ``limit``
    seconds is stopped with the kernel it started (raises ``subprocess.TimeoutExpired``)."""
    command = [sys.executable, "-m", "otter", "run", *args]
    with subprocess.Popen(
        command,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            out, err = process.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def grade_one(
    path: Path, autograder: Path, limit: int = TIME_LIMIT
) -> tuple[list[dict], str]:
    """``otter run`` on a copy of one submission: its questions' scores, or why none."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / path.name
        shutil.copy(path, copy)
        try:
            result = _otter_run(
                ["-a", str(autograder), "-o", tmp, "--no-logo", str(copy)], tmp, limit
            )
        except subprocess.TimeoutExpired:
            return [], f"ran past {limit} s: not graded"
        results = Path(tmp) / "results.json"
        if result.returncode != 0 or not results.is_file():
            return [], f"the grader could not run it: {_last_line(result.stderr)}"
        scores = [t for t in json.loads(results.read_text())["tests"] if "score" in t]
        if all(t["score"] == t["max_score"] for t in scores):
            return scores, ""
        # something failed: run again, stopping at the first error, to say where it was
        try:
            again = _otter_run(
                ["--debug", "-a", str(autograder), "-o", tmp, str(copy)], tmp, limit
            )
        except subprocess.TimeoutExpired:
            return scores, ""
    if again.returncode != 0:
        return (
            scores,
            f"a cell raised {_last_line(again.stdout + again.stderr)}; the scores count what ran",
        )
    return scores, ""


def _last_line(output: str) -> str:
    """The last non-empty line of ``output``, without terminal colours."""
    lines = [
        line.strip()
        for line in re.sub(r"\x1b\[[0-9;]*m", "", output).splitlines()
        if line.strip()
    ]
    return lines[-1] if lines else "no message"


def grade(submissions: Path, assignments: Path, limit: int = TIME_LIMIT) -> Path:
    """Grade every ``*.ipynb`` (and any other file) in ``submissions``; write and return
    ``submissions/grades.csv``."""
    known = _autograders(
        Path(assignments).resolve()
    )  # otter runs in a temporary folder
    if not known:
        raise SystemExit(
            f"error: no assignments under {assignments}: run `make assignments` first"
        )
    rows = []
    for path in sorted(
        p for p in submissions.iterdir() if p.is_file() and p.name != GRADES
    ):
        chapter, why = _chapter_of(path, known)
        if chapter is None:
            rows.append(
                {
                    "submission": path.name,
                    "chapter": "",
                    "question": "",
                    "score": "",
                    "max_score": "",
                    "note": why,
                }
            )
            continue
        scores, why = grade_one(path, known[chapter], limit)
        if not scores:
            rows.append(
                {
                    "submission": path.name,
                    "chapter": chapter,
                    "question": "",
                    "score": "",
                    "max_score": "",
                    "note": why,
                }
            )
        for test in scores:
            rows.append(
                {
                    "submission": path.name,
                    "chapter": chapter,
                    "question": test["name"],
                    "score": test["score"],
                    "max_score": test["max_score"],
                    "note": why,
                }
            )
    out = submissions / GRADES
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return out


def check_references(assignments: Path, limit: int = TIME_LIMIT) -> list[str]:
    """Grade every chapter's reference notebook; the lines of those below full marks."""
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for chapter in sorted(_autograders(Path(assignments).resolve())):
            shutil.copy(
                Path(assignments) / chapter / "autograder" / f"{chapter}.ipynb",
                Path(tmp) / f"{chapter}.ipynb",
            )
        out = grade(Path(tmp), assignments, limit)
        for row in csv.DictReader(out.open(encoding="utf-8")):
            full = row["score"] != "" and float(row["score"]) == float(row["max_score"])
            print(
                f"{'ok' if full else 'FAIL':4s} {row['chapter']} {row['question']} {row['score']}/{row['max_score']} {row['note']}"
            )
            if not full:
                failures.append(f"{row['chapter']}: {row['question'] or row['note']}")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m wbbook.assignments", description=__doc__.splitlines()[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser(
        "write", help="write each chapter's student notebook and autograder"
    )
    w.add_argument("chapters", nargs="*", type=Path)
    w.add_argument("--out", type=Path, default=ROOT / "_build" / "assignments")
    g = sub.add_parser(
        "grade", help="grade the notebooks in a folder into its grades.csv"
    )
    g.add_argument("submissions", type=Path)
    g.add_argument("--assignments", type=Path, default=ROOT / "_build" / "assignments")
    g.add_argument("--time-limit", type=int, default=TIME_LIMIT)
    r = sub.add_parser(
        "references",
        help="grade the reference solutions: every question must get full marks",
    )
    r.add_argument("--assignments", type=Path, default=ROOT / "_build" / "assignments")
    args = parser.parse_args(argv)
    if args.command == "references":
        failures = check_references(args.assignments)
        print(f"references: {len(failures)} below full marks")
        return 1 if failures else 0
    if args.command == "write":
        chapters = args.chapters or sorted((ROOT / "book").glob("[0-9]*.md"))
        written = write(chapters, args.out)
        print(
            f"assignments for {len(written)} chapters in {args.out}: {', '.join(written)}"
        )
        return 0
    if not args.submissions.is_dir():
        print(
            f"error: {args.submissions} is not a folder of submissions", file=sys.stderr
        )
        return 2
    out = grade(args.submissions, args.assignments, args.time_limit)
    print(f"grades written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
