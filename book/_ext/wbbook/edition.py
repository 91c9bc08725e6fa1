"""The student edition: the same book with every solution left out.

With ``wbbook_edition = "student"`` (``make book-student``; sphinx-exercise's
``hide_solutions: true`` means the same) every solution, plain or gated, is replaced by
a short note (:class:`HideSolutions`), and the generated notebooks lose their solution
blocks (:func:`strip_solutions`); the site then leaves out everything that would still
show them (:mod:`wbbook.site`).
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.transforms import SphinxTransform

EDITIONS = ("full", "student")


STUDENT_NOTE = "*The solution is left out of the student edition.*"


DIRECTIVE = re.compile(r"^ {0,3}(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}")


def closing_fence(lines: list[str], start: int, fence: str) -> int:
    """The line index of the fence that closes the directive opened on line ``start``."""
    char, length = fence[0], len(fence)
    for j in range(start + 1, len(lines)):
        stripped = lines[j].strip()
        if stripped and set(stripped) == {char} and len(stripped) >= length:
            return j
    raise ValueError(f"the directive opened on line {start + 1} is never closed")


def strip_solutions(text: str, note: str = STUDENT_NOTE) -> str:
    """MyST text without its solutions, each replaced by ``note``.

    Removes ``{solution}`` directives, and gated solutions from the
    ``{solution-start}`` directive through the ``{solution-end}`` one, with all the
    text and code cells between them.
    """
    lines = text.splitlines(keepends=True)
    out, i = [], 0
    while i < len(lines):
        match = DIRECTIVE.match(lines[i])
        if not match or match["name"] not in ("solution", "solution-start"):
            out.append(lines[i])
            i += 1
            continue
        end = closing_fence(lines, i, match["fence"])
        if match["name"] == "solution-start":
            for k in range(end + 1, len(lines)):
                closing = DIRECTIVE.match(lines[k])
                if closing and closing["name"] == "solution-end":
                    end = closing_fence(lines, k, closing["fence"])
                    break
            else:
                raise ValueError(
                    f"the solution-start on line {i + 1} has no solution-end"
                )
        out.append(note + "\n")
        i = end + 1
    return "".join(out)


def set_edition(app, config) -> None:
    """Check ``wbbook_edition``; in the student edition, hide solutions ourselves and copy no sources."""
    if config.wbbook_edition not in EDITIONS:
        raise ValueError(
            f"wbbook_edition must be one of {EDITIONS}, not {config.wbbook_edition!r}"
        )
    if config.wbbook_edition == "student" or config.hide_solutions:
        config.wbbook_edition = "student"
        # sphinx-exercise's own hide_solutions (1.2) drops a gated solution's start but keeps
        # its content, and then fails on the orphaned end node: HideSolutions does the hiding.
        config.hide_solutions = False
        config.html_copy_source = False  # the sources hold the solutions


class HideSolutions(SphinxTransform):
    """In the student edition, replace every solution (plain or gated) by a short note.

    Runs after sphinx-exercise has merged each ``solution-start`` … ``solution-end``
    pair into one solution node (its transform has priority 10), so the text and
    code cells between them go too.
    """

    default_priority = 11

    def apply(self, **kwargs) -> None:
        if self.config.wbbook_edition != "student":
            return
        from sphinx_exercise.nodes import (
            solution_end_node,
            solution_node,
            solution_start_node,
        )

        for node in list(self.document.findall(solution_node)):
            note = nodes.paragraph()
            note += nodes.emphasis(text=STUDENT_NOTE.strip("*"))
            node.replace_self(note)
        for kind in (solution_start_node, solution_end_node):  # unmatched gates, if any
            if any(True for _ in self.document.findall(kind)):
                raise ValueError(
                    f"{self.env.docname}: a gated solution was left unmerged"
                )
