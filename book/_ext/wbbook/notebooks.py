"""Notebooks to run: each chapter as an ``.ipynb`` for Colab and the download menu.

Colab opens only ``.ipynb`` files, and the book commits none (chapters are MyST
Markdown, jupytext's ``md:myst``). At the end of an HTML build, :func:`write_notebooks`
converts every chapter into ``_notebooks/<docname>.ipynb`` in the site, with a first
cell that installs the package from the repository (:func:`install_cell`) when it is
missing. The publishing workflow pushes that folder to the ``notebooks`` branch, and
each page's Colab button is pointed there (:func:`colab_url`). Binder needs none of
this: it opens the ``.md`` files through jupytext (see ``binder/``).
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlparse

from .edition import strip_solutions

#: Folder of the generated notebooks inside the HTML output (pushed to the notebooks branch).
NOTEBOOKS = "_notebooks"


def github_repo(url: str) -> tuple[str, str]:
    """``(owner, name)`` of a ``https://github.com/OWNER/NAME`` repository URL."""
    parsed = urlparse(url.strip())
    parts = [part for part in parsed.path.split("/") if part]
    if parsed.netloc.lower() not in ("github.com", "www.github.com") or len(parts) < 2:
        raise ValueError(f"not a GitHub repository URL: {url!r}")
    return parts[0], parts[1].removesuffix(".git")


def colab_url(
    repository_url: str,
    branch: str,
    docname: str,
    colab: str = "https://colab.research.google.com",
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
    package = (
        f"wbinterp @ git+https://github.com/{owner}/{name}.git@{ref}#subdirectory=code"
    )
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
        f'\nos.environ.setdefault("WBINTERP_MODELS_URL", {json.dumps(models_url)})'
        if models_url
        else ""
    )


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
    nb.cells.insert(
        at,
        nbformat.v4.new_code_cell(
            install_source, metadata={"tags": ["install-wbinterp"]}
        ),
    )
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
        nb = chapter_notebook(
            Path(source).read_text(encoding="utf-8"), install_source, student
        )
        path = Path(out_dir) / f"{docname}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(nbformat.writes(nb), encoding="utf-8")
        written.append(path)
    return written
