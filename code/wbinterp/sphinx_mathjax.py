"""Sphinx extension: serve MathJax 3 with the site instead of from a CDN.

The book must render its maths offline (a reader on a train, a classroom behind
a firewall, CI without internet). MathJax 3.2.2 comes from the PyPI package
``django-static-mathjax`` (plain static files, no Django needed); this extension
copies the one component the book uses (``tex-chtml.js``) and its web fonts into
the site's ``_static/mathjax/`` and points Sphinx's ``mathjax_path`` at it.
Add ``wbinterp.sphinx_mathjax`` to ``extra_extensions``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

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


def setup(app):
    app.connect("config-inited", _point_at_local_copy)
    app.connect("builder-inited", _stage)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
