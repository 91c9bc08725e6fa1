"""Sphinx extension for the book's site: offline maths, no duplicated scripts, menu
buttons that work, notebooks to run (Colab, download), and the student edition.

**MathJax.** The book must render its maths offline (a reader on a train, a classroom behind
a firewall, CI without internet). MathJax 3.2.2 comes from the PyPI package
``django-static-mathjax`` (plain static files, no Django needed); this extension
copies the one component the book uses (``tex-chtml.js``) and its web fonts into
the site's ``_static/mathjax/`` and points Sphinx's ``mathjax_path`` at it.

**Scripts.** sphinx-thebe registers its inline configuration script each time
Sphinx reads sources; when that happens twice in one build, every page declares
``const THEBE_JS_URL`` twice and the browser reports a JavaScript error. Pages
get each distinct script once.

**Menu buttons.** pydata-sphinx-theme 0.17 wires only the first menu button of a page,
and under sphinx-book-theme 1.3 that one is a hidden duplicate, so the visible ☰ and
"Contents" buttons did nothing. ``static/wbbook-toggles.js`` forwards their clicks.

**Accessibility.** The browser check runs axe-core on every page (``browser_check.py``);
two of its findings are fixed here. docutils gives each citation of the bibliography the
ARIA role ``doc-biblioentry``, deprecated (DPUB-ARIA 1.1) and not allowed on a ``div``, so
the citations' ``role="list"`` container had no list items: they get ``role="listitem"``
(:func:`visit_citation`). Links inside sphinx-exercise's tinted exercise boxes lacked
contrast: ``static/wbbook.css`` darkens them there.

**Notebooks to run.** Colab opens only ``.ipynb`` files, and the book commits none
(chapters are MyST Markdown, jupytext's ``md:myst``). At the end of an HTML build,
:func:`write_notebooks` converts every chapter into ``_notebooks/<docname>.ipynb``
in the site, with a first cell that installs the package from the repository
(:func:`install_cell`) when it is missing. The publishing workflow pushes that folder
to the ``notebooks`` branch (config value ``wbbook_notebooks_branch``), and each
page's Colab button is pointed there (:func:`colab_url`); the download menu offers
the same notebook. Binder needs none of this: it opens the ``.md`` files through
jupytext (see ``binder/``).

**Student edition.** With ``wbbook_edition = "student"`` (``make book-student``;
sphinx-exercise's ``hide_solutions: true`` means the same) every solution, plain or
gated, is replaced by a short note (:class:`HideSolutions`), the generated notebooks
lose their solution blocks (:func:`strip_solutions`), and everything that would still
show them is left out of the site: the copied sources, the executed notebooks and
the launch buttons (Binder and Colab open the repository's files, solutions
included).

Add ``wbbook.site`` to ``extra_extensions``.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import urlparse

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)

COMPONENT = "tex-chtml.js"
FONTS = Path("output/chtml/fonts/woff-v2")


def mathjax_es5() -> Path:
    """The folder of MathJax 3's prebuilt ``es5`` files, from django-static-mathjax."""
    try:
        import mathjax  # installed by the PyPI package django-static-mathjax
    except ImportError as err:
        raise RuntimeError("MathJax is not installed: pip install django-static-mathjax") from err
    folder = Path(mathjax.__path__[0]) / "static" / "mathjax" / "es5"
    if not (folder / COMPONENT).is_file():
        raise RuntimeError(f"{folder / COMPONENT} is missing: reinstall django-static-mathjax")
    return folder


def _stage(app) -> None:
    _drop_duplicate_listeners(app, "env-before-read-docs")
    es5 = mathjax_es5()
    staging = Path(app.doctreedir).parent / "mathjax-static"
    target = staging / "mathjax"
    if not (target / COMPONENT).is_file():
        shutil.rmtree(staging, ignore_errors=True)
        (target / FONTS).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(es5 / COMPONENT, target / COMPONENT)
        shutil.copytree(es5 / FONTS, target / FONTS)
    app.config.html_static_path.append(str(staging))


#: The extension's own static files (``static/``): the script that makes the menu buttons
#: work, and the style sheet of the book's fixes (contrast).
STATIC = Path(__file__).parent / "static"
TOGGLES = "wbbook-toggles.js"
#: The explorer's script: it draws every ``.wbbook-explorer`` of a page from the JSON beside it.
EXPLORER = "wbbook-explorer.js"
#: Makes every figure a link to its full-size image.
FIGURES = "wbbook-figures.js"
STYLE = "wbbook.css"


#: What chapters write for the site while they run (the explorer's models, from
#: ``wbinterp.explorer.export``), copied into ``_static/`` once every page has executed.
GENERATED = Path("book") / "_generated"


def _add_static(app) -> None:
    app.config.html_static_path.append(str(STATIC))
    generated = Path(app.srcdir) / GENERATED
    generated.mkdir(parents=True, exist_ok=True)
    app.config.html_static_path.append(str(generated))
    app.add_js_file(TOGGLES, loading_method="defer")
    app.add_js_file(EXPLORER, loading_method="defer")
    app.add_js_file(FIGURES, loading_method="defer")
    app.add_css_file(STYLE)


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


def _point_at_local_copy(app, config) -> None:
    config.mathjax_path = f"mathjax/{COMPONENT}"


def _drop_duplicate_listeners(app, event: str) -> None:
    """Keep one listener per handler function (an extension set up twice registers twice)."""
    listeners = app.events.listeners.get(event, [])
    seen, unique = set(), []
    for listener in listeners:
        if listener.handler not in seen:
            seen.add(listener.handler)
            unique.append(listener)
    if len(unique) < len(listeners):
        logger.info(f"[wbbook] dropped {len(listeners) - len(unique)} duplicate {event} listener(s)")
    listeners[:] = unique


def _unique_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts, seen = [], set()
    for script in context.get("script_files", []):
        # the same file or inline body (an inline script's filename is None or ''),
        # whatever priority it was registered with
        key = (
            str(getattr(script, "filename", script) or ""),
            repr(sorted(getattr(script, "attributes", {}).items())),
        )
        if key not in seen:
            seen.add(key)
            scripts.append(script)
    # in place: handlers that run later (sphinx.ext.mathjax) append to this same list
    context["script_files"][:] = scripts


# --- notebooks to run (Colab, download) and the student edition ---------------------------

#: Folder of the generated notebooks inside the HTML output (pushed to the notebooks branch).
NOTEBOOKS = "_notebooks"
EDITIONS = ("full", "student")
STUDENT_NOTE = "*The solution is left out of the student edition.*"
_DIRECTIVE = re.compile(r"^ {0,3}(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}")


def github_repo(url: str) -> tuple[str, str]:
    """``(owner, name)`` of a ``https://github.com/OWNER/NAME`` repository URL."""
    parsed = urlparse(url.strip())
    parts = [part for part in parsed.path.split("/") if part]
    if parsed.netloc.lower() not in ("github.com", "www.github.com") or len(parts) < 2:
        raise ValueError(f"not a GitHub repository URL: {url!r}")
    return parts[0], parts[1].removesuffix(".git")


def colab_url(
    repository_url: str, branch: str, docname: str, colab: str = "https://colab.research.google.com"
) -> str:
    """Colab's address for ``<docname>.ipynb`` on ``branch`` of the GitHub repository."""
    owner, name = github_repo(repository_url)
    return f"{colab.rstrip('/')}/github/{owner}/{name}/blob/{branch}/{docname}.ipynb"


def install_cell(repository_url: str, ref: str, models_url: str | None = None) -> str:
    """Source of a generated notebook's first code cell.

    Where the package is missing (Colab, a fresh Jupyter) it pip-installs it from
    ``code/`` in the repository at ``ref``, with myst-nb (chapters glue their numbers
    through it). It tells the package where the data and the trained models go (the
    repository's ``data/`` and ``_store/`` in a checkout, else beside the notebook) and
    passes it the book's published models (``models_url``, the site's ``models/``); a
    variable already set is left as it is.
    """
    owner, name = github_repo(repository_url)
    package = f"wbinterp @ git+https://github.com/{owner}/{name}.git@{ref}#subdirectory=code"
    return f"""\
# Run this cell first. Where the book's package is missing (Colab, a fresh Jupyter) it
# installs it from the book's repository; then it says where data and models go.
import importlib.util, os, subprocess, sys
from pathlib import Path

PACKAGE = {json.dumps(package)}
missing = [requirement for module, requirement in [("wbinterp", PACKAGE), ("myst_nb", "myst-nb")]
           if importlib.util.find_spec(module) is None]
if missing:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *missing], check=True)
    importlib.invalidate_caches()
checkout = Path(importlib.util.find_spec("wbinterp").origin).parents[2]
home = checkout if (checkout / "_toc.yml").is_file() else Path.cwd()  # else: not a checkout
os.environ.setdefault("WBINTERP_DATA", str(home / "data"))
os.environ.setdefault("WBINTERP_STORE", str(home / "_store"))""" + (
        f'\nos.environ.setdefault("WBINTERP_MODELS_URL", {json.dumps(models_url)})' if models_url else ""
    )


def _closing_fence(lines: list[str], start: int, fence: str) -> int:
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
        match = _DIRECTIVE.match(lines[i])
        if not match or match["name"] not in ("solution", "solution-start"):
            out.append(lines[i])
            i += 1
            continue
        end = _closing_fence(lines, i, match["fence"])
        if match["name"] == "solution-start":
            for k in range(end + 1, len(lines)):
                closing = _DIRECTIVE.match(lines[k])
                if closing and closing["name"] == "solution-end":
                    end = _closing_fence(lines, k, closing["fence"])
                    break
            else:
                raise ValueError(f"the solution-start on line {i + 1} has no solution-end")
        out.append(note + "\n")
        i = end + 1
    return "".join(out)


def chapter_notebook(text: str, install_source: str, student: bool = False):
    """A chapter's MyST text as an nbformat notebook, with ``install_source`` as its first code cell.

    The cell goes after the opening Markdown cell (the title). Cells get stable ids,
    so the same chapter always gives the same file.
    """
    import jupytext
    import nbformat

    if student:
        text = strip_solutions(text)
    nb = jupytext.reads(text, fmt="md:myst")
    nb.metadata.pop("jupytext", None)
    at = 1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0
    nb.cells.insert(at, nbformat.v4.new_code_cell(install_source, metadata={"tags": ["install-wbinterp"]}))
    for n, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{n}"
    nb.nbformat, nb.nbformat_minor = 4, 5
    nbformat.validate(nb)
    return nb


def write_notebooks(
    sources: dict[str, Path], out_dir: Path, install_source: str, student: bool = False
) -> list[Path]:
    """Write ``out_dir/<docname>.ipynb`` for each ``docname: source`` pair; return the paths."""
    import nbformat

    written = []
    for docname, source in sorted(sources.items()):
        nb = chapter_notebook(Path(source).read_text(encoding="utf-8"), install_source, student)
        path = Path(out_dir) / f"{docname}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(nbformat.writes(nb), encoding="utf-8")
        written.append(path)
    return written


def _is_chapter(app, docname: str) -> bool:
    """A MyST Markdown notebook (jupytext front matter with a kernelspec)."""
    return (
        "kernelspec" in app.env.metadata.get(docname, {}) and Path(app.env.doc2path(docname)).suffix == ".md"
    )


def _theme(app) -> dict:
    return app.config.html_theme_options or {}


def _student(app) -> bool:
    return app.config.wbbook_edition == "student"


def _set_edition(app, config) -> None:
    if config.wbbook_edition not in EDITIONS:
        raise ValueError(f"wbbook_edition must be one of {EDITIONS}, not {config.wbbook_edition!r}")
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
        from sphinx_exercise.nodes import solution_end_node, solution_node, solution_start_node

        for node in list(self.document.findall(solution_node)):
            note = nodes.paragraph()
            note += nodes.emphasis(text=STUDENT_NOTE.strip("*"))
            node.replace_self(note)
        for kind in (solution_start_node, solution_end_node):  # unmatched gates, if any
            if any(True for _ in self.document.findall(kind)):
                raise ValueError(f"{self.env.docname}: a gated solution was left unmerged")


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
            colab = theme.get("launch_buttons", {}).get("colab_url") or "https://colab.research.google.com"
            for button in launch["buttons"]:
                if button.get("text") == "Colab":
                    button["url"] = colab_url(
                        theme["repository_url"], app.config.wbbook_notebooks_branch, pagename, colab
                    )
    if download is not None:
        if _student(app):
            download["buttons"] = [
                b
                for b in download["buttons"]
                if b.get("label") not in ("download-notebook-button", "download-source-button")
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
    match = re.fullmatch(r'\s*<meta http-equiv="Refresh" content="0; url=([^"]+)" />\s*', index.read_text())
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
    chapters = {d: Path(app.env.doc2path(d)) for d in app.env.found_docs if _is_chapter(app, d)}
    written = write_notebooks(chapters, Path(app.outdir) / NOTEBOOKS, install, student=_student(app))
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
            heads, bodies = list(table.findall(nodes.thead)), list(table.findall(nodes.tbody))
            if not heads or not bodies:
                continue
            header = [entry.astext() for entry in heads[0].findall(nodes.entry)]
            if header[:1] != ["Document"] or "Run Time (s)" not in header:
                continue
            runtime = header.index("Run Time (s)")
            for entry in heads[0].findall(nodes.entry):
                text = {"Document": "Chapter", "Run Time (s)": "Run time (min)"}.get(entry.astext())
                if text is not None:
                    entry.children = [nodes.paragraph(text=text)]
            for row in bodies[0].findall(nodes.row):
                cells = [child for child in row.children if isinstance(child, nodes.entry)]
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
    from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput, visit_HideCellInput

    app.add_node(HideCodeCellNode, override=True, singlehtml=(visit_HideCellInput, depart_HideCellInput))


def setup(app):
    app.add_config_value("wbbook_edition", "full", "env", [str])
    app.add_config_value("wbbook_notebooks_branch", "notebooks", "html", [str])
    app.connect("config-inited", _point_at_local_copy)
    app.connect("config-inited", _set_edition)
    app.add_transform(HideSolutions)
    app.add_post_transform(ReadableExecTable)
    app.add_node(nodes.citation, override=True, html=(visit_citation, depart_citation))
    _hidden_cells_in_one_page(app)
    app.connect("builder-inited", _stage)
    app.connect("builder-inited", _add_static)
    # early: html-page-context stops at the first handler that returns a template name
    app.connect("html-page-context", _unique_scripts, priority=100)
    # after sphinx-book-theme has made its header buttons (priority 501)
    app.connect("html-page-context", _adjust_buttons, priority=600)
    app.connect("build-finished", _finish)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
