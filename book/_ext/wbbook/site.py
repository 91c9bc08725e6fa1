"""The Sphinx extension for the book's site (add ``wbbook.site`` to ``extra_extensions``).

It registers the pieces, each in its module: MathJax and the static files
(:mod:`wbbook.assets`), the notebooks to run (:mod:`wbbook.notebooks`) and the student
edition (:mod:`wbbook.edition`); and it fixes the pages here: the launch and download
buttons (the student edition keeps nothing that shows
solutions: no copied sources, executed notebooks or launch buttons), the bibliography's
ARIA roles (:func:`visit_citation`), the favicon of the redirecting index, the
execution table (:class:`ReadableExecTable`) and hidden cells in the one-page PDF book.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

from .assets import add_static, point_at_local_copy, stage_mathjax, unique_scripts
from .edition import HideSolutions, set_edition
from .notebooks import NOTEBOOKS, colab_url, install_cell, write_notebooks

logger = logging.getLogger(__name__)


def visit_citation(self, node) -> None:
    """docutils' citation (an entry of a ``role="list"`` block), as a list item.

    docutils 0.21 gives each entry ``role="doc-biblioentry"``: deprecated since DPUB-ARIA
    1.1 and not allowed on a ``div``, so assistive technology (and axe-core) saw a list
    without items. ``listitem`` is the role that DPUB-ARIA 1.1 puts in its place.
    """
    type(self).visit_citation(self, node)
    self.body[-1] = self.body[-1].replace('role="doc-biblioentry"', 'role="listitem"')


def depart_citation(self, node) -> None:
    type(self).depart_citation(self, node)


def _is_chapter(app, docname: str) -> bool:
    """A MyST Markdown notebook (jupytext front matter with a kernelspec)."""
    return (
        "kernelspec" in app.env.metadata.get(docname, {})
        and Path(app.env.doc2path(docname)).suffix == ".md"
    )


def _theme(app) -> dict:
    return app.config.html_theme_options or {}


def _student(app) -> bool:
    return app.config.wbbook_edition == "student"


def _adjust_buttons(app, pagename, templatename, context, doctree) -> None:
    """Colab opens the generated notebook; the download menu offers it; the student edition
    keeps nothing that shows solutions."""
    if not _is_chapter(app, pagename):
        return
    buttons = context.get("header_buttons", [])
    groups = {b.get("label"): b for b in buttons if b.get("type") == "group"}
    launch, download = groups.get("launch-buttons"), groups.get("download-buttons")
    if launch is not None:
        if _student(app):
            buttons.remove(launch)
        else:
            theme = _theme(app)
            colab = (
                theme.get("launch_buttons", {}).get("colab_url")
                or "https://colab.research.google.com"
            )
            for button in launch["buttons"]:
                if button.get("text") == "Colab":
                    button["url"] = colab_url(
                        theme["repository_url"],
                        app.config.wbbook_notebooks_branch,
                        pagename,
                        colab,
                    )
    if download is not None:
        if _student(app):
            download["buttons"] = [
                b
                for b in download["buttons"]
                if b.get("label")
                not in ("download-notebook-button", "download-source-button")
            ]
        for button in download["buttons"]:
            if button.get("label") == "download-notebook-button":
                button["text"] = ".ipynb (with outputs)"
                button["tooltip"] = "Download the notebook as executed for this site"
        download["buttons"].insert(
            0,
            {
                "type": "link",
                "url": context["pathto"](f"{NOTEBOOKS}/{pagename}.ipynb", 1),
                "text": ".ipynb (to run)",
                "tooltip": "Download a notebook that installs the book's package and runs anywhere",
                "icon": "fas fa-code",
                "label": "download-runnable-notebook-button",
            },
        )


def redirect_with_icon(outdir: Path, favicon: str | None) -> bool:
    """Give the site's redirecting ``index.html`` (written by sphinx-external-toc) the favicon.

    A page without an icon makes the browser ask for ``/favicon.ico``, which the site does
    not have: a 404 in the console of the redirect page. Returns True if the page was rewritten.
    """
    index = Path(outdir) / "index.html"
    if not favicon or not index.is_file():
        return False
    match = re.fullmatch(
        r'\s*<meta http-equiv="Refresh" content="0; url=([^"]+)" />\s*',
        index.read_text(),
    )
    if not match:
        return False
    index.write_text(
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">\n'
        f'<link rel="icon" href="_static/{Path(favicon).name}">\n'
        f'<meta http-equiv="Refresh" content="0; url={match[1]}">\n'
        f'</head><body><a href="{match[1]}">{match[1]}</a></body></html>\n'
    )
    return True


def _finish(app, exception) -> None:
    if exception is not None or app.builder.name not in ("html", "dirhtml"):
        return
    theme = _theme(app)
    baseurl = app.config.html_baseurl
    install = install_cell(
        theme["repository_url"],
        theme.get("repository_branch") or "main",
        f"{baseurl.rstrip('/')}/models/" if baseurl else None,
    )
    chapters = {
        d: Path(app.env.doc2path(d)) for d in app.env.found_docs if _is_chapter(app, d)
    }
    written = write_notebooks(
        chapters, Path(app.outdir) / NOTEBOOKS, install, student=_student(app)
    )
    logger.info(f"[wbbook] wrote {len(written)} notebooks to {NOTEBOOKS}/")
    redirect_with_icon(Path(app.outdir), app.config.html_favicon)
    if _student(app):
        # the theme copies each executed notebook (solutions included) into _sources/
        shutil.rmtree(Path(app.outdir) / "_sources", ignore_errors=True)


class ReadableExecTable(SphinxPostTransform):
    """myst-nb's execution table (``{nb-exec-table}``) with chapter titles instead of file
    names and run times in minutes instead of seconds.

    Runs after myst-nb's own post-transform, which has the same priority but was
    registered first, and before references are resolved.
    """

    default_priority = 8

    def run(self, **kwargs) -> None:
        for table in list(self.document.findall(nodes.table)):
            heads, bodies = (
                list(table.findall(nodes.thead)),
                list(table.findall(nodes.tbody)),
            )
            if not heads or not bodies:
                continue
            header = [entry.astext() for entry in heads[0].findall(nodes.entry)]
            if header[:1] != ["Document"] or "Run Time (s)" not in header:
                continue
            runtime = header.index("Run Time (s)")
            for entry in heads[0].findall(nodes.entry):
                text = {"Document": "Chapter", "Run Time (s)": "Run time (min)"}.get(
                    entry.astext()
                )
                if text is not None:
                    entry.children = [nodes.paragraph(text=text)]
            for row in bodies[0].findall(nodes.row):
                cells = [
                    child for child in row.children if isinstance(child, nodes.entry)
                ]
                for xref in cells[0].findall(pending_xref):
                    title = self.env.titles.get(xref.astext())
                    if title is not None:
                        xref.children = [nodes.inline(text=title.astext())]
                try:
                    minutes = float(cells[runtime].astext()) / 60
                except ValueError:  # "-": not executed
                    continue
                cells[runtime].children = [nodes.paragraph(text=f"{minutes:.1f}")]


def _hidden_cells_in_one_page(app) -> None:
    """myst-nb gives its hidden-cell node a visitor for the ``html`` format only; once an
    extension registers any handler for the ``singlehtml`` builder by name, Sphinx looks
    there alone, and the one-page book for the PDF (``make pdf``) stops at the first hidden
    cell. Give that builder myst-nb's own visitor too."""
    from myst_nb.sphinx_ import (
        HideCodeCellNode,
        depart_HideCellInput,
        visit_HideCellInput,
    )

    app.add_node(
        HideCodeCellNode,
        override=True,
        singlehtml=(visit_HideCellInput, depart_HideCellInput),
    )


def setup(app):
    app.add_config_value("wbbook_edition", "full", "env", [str])
    app.add_config_value("wbbook_notebooks_branch", "notebooks", "html", [str])
    app.connect("config-inited", point_at_local_copy)
    app.connect("config-inited", set_edition)
    app.add_transform(HideSolutions)
    app.add_post_transform(ReadableExecTable)
    app.add_node(nodes.citation, override=True, html=(visit_citation, depart_citation))
    _hidden_cells_in_one_page(app)
    app.connect("builder-inited", stage_mathjax)
    app.connect("builder-inited", add_static)
    # early: html-page-context stops at the first handler that returns a template name
    app.connect("html-page-context", unique_scripts, priority=100)
    # after sphinx-book-theme has made its header buttons (priority 501)
    app.connect("html-page-context", _adjust_buttons, priority=600)
    app.connect("build-finished", _finish)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
