"""Sphinx extension for the book's site: offline maths, and no duplicated scripts.

**MathJax.** The book must render its maths offline (a reader on a train, a classroom behind
a firewall, CI without internet). MathJax 3.2.2 comes from the PyPI package
``django-static-mathjax`` (plain static files, no Django needed); this extension
copies the one component the book uses (``tex-chtml.js``) and its web fonts into
the site's ``_static/mathjax/`` and points Sphinx's ``mathjax_path`` at it.

**Scripts.** sphinx-thebe registers its inline configuration script each time
Sphinx reads sources; when that happens twice in one build, every page declares
``const THEBE_JS_URL`` twice and the browser reports a JavaScript error. Pages
get each distinct script once.

Add ``wbinterp.sphinx_site`` to ``extra_extensions``.
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
        logger.info(f"[wbinterp] dropped {len(listeners) - len(unique)} duplicate {event} listener(s)")
    listeners[:] = unique


def _unique_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts, seen = [], set()
    for script in context.get("script_files", []):
        # the same file or inline body (an inline script's filename is None or ''),
        # whatever priority it was registered with
        key = (str(getattr(script, "filename", script) or ""),
               repr(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            scripts.append(script)
    # in place: handlers that run later (sphinx.ext.mathjax) append to this same list
    context["script_files"][:] = scripts


def setup(app):
    app.connect("config-inited", _point_at_local_copy)
    app.connect("builder-inited", _stage)
    # early: html-page-context stops at the first handler that returns a template name
    app.connect("html-page-context", _unique_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
