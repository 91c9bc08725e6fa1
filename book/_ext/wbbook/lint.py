"""Checks on the chapters' code that a build cannot make: what a reader sees must run.

A code cell tagged ``remove-cell`` (or ``remove-input``) is invisible on the page; a
visible cell that uses a name only such a cell defines cannot be followed or copied
by a reader. ``python -m wbbook.lint book/*.md`` lists those names, chapter by chapter,
the exercises a student would find without a solution or sketch to check against, and
the share of the chapters' code that is hidden (:data:`MAX_HIDDEN_SHARE` at most).
"""

from __future__ import annotations

import ast
import builtins
import re
import sys
from pathlib import Path

import jupytext

HIDDEN_TAGS = {"remove-cell", "remove-input"}


def _defined_and_used(source: str) -> tuple[set[str], set[str]]:
    """Names a cell binds (assignments, imports, defs, loop and function arguments) and uses."""
    tree = ast.parse(source)
    defined: set[str] = set()
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (used if isinstance(node.ctx, ast.Load) else defined).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined.update(
                (alias.asname or alias.name).split(".")[0] for alias in node.names
            )
    return defined, used


def hidden_only_names(path: Path) -> dict[str, int]:
    """Names that visible cells of the chapter at ``path`` use but only hidden cells define
    (each with the number of visible cells that use it)."""
    notebook = jupytext.read(path)
    visible, hidden = set(dir(builtins)), set()
    found: dict[str, int] = {}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        defined, used = _defined_and_used(cell.source)
        if HIDDEN_TAGS & set(cell.metadata.get("tags", [])):
            hidden |= defined
            continue
        for name in sorted((used - defined - visible) & hidden):
            found[name] = found.get(name, 0) + 1
        visible |= defined
    return found


MAX_HIDDEN_SHARE = 0.30
"""The largest share of the chapters' code lines that may be hidden (``remove-*``)."""


def code_lines(path: Path) -> tuple[int, int]:
    """``(hidden, all)``: the chapter's code lines, neither blank nor only a comment, in
    hidden cells and in all code cells."""
    hidden = total = 0
    for cell in jupytext.read(path).cells:
        if cell.cell_type != "code":
            continue
        lines = [
            line
            for line in cell.source.splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
        total += len(lines)
        if HIDDEN_TAGS & set(cell.metadata.get("tags", [])):
            hidden += len(lines)
    return hidden, total


MIN_EXERCISES = 3
"""Exercises a chapter that has any must have (issue: a chapter with one is not a lesson)."""

_EXERCISE = re.compile(r"^`{3,}\{exercise\}[^\n]*\n:label: (\S+)", re.MULTILINE)
_SOLUTION = re.compile(r"^`{3,}\{solution(?:-start)?\} (\S+)", re.MULTILINE)


def exercise_labels(path: Path) -> list[str]:
    """The labels of the chapter's exercises, in order."""
    return _EXERCISE.findall(path.read_text())


def exercises_without_solution(path: Path) -> list[str]:
    """Labels of the chapter's exercises that no ``solution`` (or ``solution-start``)
    directive answers."""
    answered = set(_SOLUTION.findall(path.read_text()))
    return [label for label in exercise_labels(path) if label not in answered]


def main(paths: list[str]) -> int:
    bad = 0
    for path in map(Path, paths):
        names = hidden_only_names(path)
        if names:
            bad += 1
            print(
                f"{path}: visible code uses names only hidden cells define: {', '.join(sorted(names))}"
            )
        unanswered = exercises_without_solution(path)
        if unanswered:
            bad += 1
            print(
                f"{path}: exercises without a solution or sketch: {', '.join(unanswered)}"
            )
        count = len(exercise_labels(path))
        if 0 < count < MIN_EXERCISES:
            bad += 1
            print(
                f"{path}: {count} exercises; a chapter with exercises needs at least {MIN_EXERCISES}"
            )
    counts = [code_lines(path) for path in map(Path, paths)]
    hidden, total = sum(h for h, _ in counts), sum(t for _, t in counts)
    if total:
        share = hidden / total
        print(
            f"hidden code: {hidden} of {total} lines ({share:.0%}; at most {MAX_HIDDEN_SHARE:.0%})"
        )
        bad += share > MAX_HIDDEN_SHARE
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
