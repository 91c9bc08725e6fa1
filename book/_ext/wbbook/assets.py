"""MathJax served with the site, and the extension's own static files.

**MathJax.** The book must render its maths offline (a reader on a train, a classroom
behind a firewall, CI without internet). MathJax 3.2.2 comes from the PyPI package
``django-static-mathjax`` (plain static files, no Django needed); the book copies the
one component it uses (``tex-chtml.js``) and its web fonts into the site's
``_static/mathjax/`` and points Sphinx's ``mathjax_path`` at it.

**Scripts.** sphinx-thebe registers its inline configuration script each time Sphinx
reads sources; when that happens twice in one build, every page declares
``const THEBE_JS_URL`` twice and the browser reports a JavaScript error. Pages get
each distinct script once (:func:`unique_scripts`).

**Static files.** ``static/wbbook-toggles.js`` forwards the clicks of the ☰ and
"Contents" buttons (pydata-sphinx-theme 0.17 wires only the first menu button of a
page, a hidden duplicate under sphinx-book-theme 1.3); ``static/wbbook.css`` darkens
links in sphinx-exercise's tinted boxes (contrast); the explorer's and the figures'
scripts; and what chapters write for the site (``book/_generated``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)


COMPONENT = "tex-chtml.js"


FONTS = Path("output/chtml/fonts/woff-v2")


def mathjax_es5() -> Path:
    """The folder of MathJax 3's prebuilt ``es5`` files, from django-static-mathjax."""
    try:
        import mathjax  # installed by the PyPI package django-static-mathjax
    except ImportError as err:
        raise RuntimeError(
            "MathJax is not installed: pip install django-static-mathjax"
        ) from err
    folder = Path(mathjax.__path__[0]) / "static" / "mathjax" / "es5"
    if not (folder / COMPONENT).is_file():
        raise RuntimeError(
            f"{folder / COMPONENT} is missing: reinstall django-static-mathjax"
        )
    return folder


def stage_mathjax(app) -> None:
    """Copy MathJax's component and fonts once into the build's staging folder, served as ``_static/mathjax/``."""
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


def add_static(app) -> None:
    """Serve the extension's static files and what the chapters wrote for the site."""
    app.config.html_static_path.append(str(STATIC))
    generated = Path(app.srcdir) / GENERATED
    generated.mkdir(parents=True, exist_ok=True)
    app.config.html_static_path.append(str(generated))
    app.add_js_file(TOGGLES, loading_method="defer")
    app.add_js_file(EXPLORER, loading_method="defer")
    app.add_js_file(FIGURES, loading_method="defer")
    app.add_css_file(STYLE)


def point_at_local_copy(app, config) -> None:
    """Point Sphinx's ``mathjax_path`` at the site's own copy."""
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
        logger.info(
            f"[wbbook] dropped {len(listeners) - len(unique)} duplicate {event} listener(s)"
        )
    listeners[:] = unique


def unique_scripts(app, pagename, templatename, context, doctree) -> None:
    """Keep each distinct script of a page once (same file or inline body)."""
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
