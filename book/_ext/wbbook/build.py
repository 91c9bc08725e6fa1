"""``python -m wbbook.build [--student | --pdf] [--from-published] [jupyter-book flags]``:
what ``make book``, ``make book-student``, ``make pdf`` and ``make book-published`` run.

Each edition is one ``jupyter-book build`` command; this module only adds what
jupyter-book does not know:

* **Stale outputs.** myst-nb's execution cache keys only on a chapter's code cells, and
  Sphinx re-reads only chapters whose source changed, so an edit to the package would
  leave stale outputs in the book. A fingerprint of the package's source is recorded
  beside the execution cache and beside each edition's output; when it differs, the
  execution cache is dropped and jupyter-book is asked to rebuild every page (``--all``).
  Trained models live in their own store (:mod:`wbinterp.store`) and are only retrained
  when their own key changes.
* **Editions.** The student edition (``--student``) and the one-page book for the PDF
  (``--pdf``) are the same book with another configuration file (jupyter-book's
  ``--config``), written from ``_config.yml`` with the edition's changes, and another
  output folder (``--path-output``). All three share one execution cache
  (``_build/.jupyter_cache``), so a chapter runs once whatever is built.
* **Legible figures.** Each figure's PNG records the size of its smallest text at the
  column's width (:func:`wbinterp.notebook.setup`); a page whose figure text is
  smaller than :data:`MIN_TEXT_POINTS` fails the build, naming the figure.
* **Models are trained, never downloaded.** The chapters' kernels run with the published
  store turned off (``WBINTERP_MODELS_URL`` empty, :mod:`wbinterp.published`), so every
  model the site publishes was trained by a build, not copied from an earlier site.
  ``--from-published`` (``make book-published``, for a local builder's first build)
  first downloads every published model today's code uses into the store, checked as
  :func:`wbinterp.store.fetch_all` checks them; the chapters then train only what the
  site lacks.

Outputs: ``_build/html`` (the book), ``_build/student/_build/html`` (the student
edition), ``_build/pdf/book.pdf`` (from ``_build/pdf/_build/singlehtml``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

#: The science library whose source the executed outputs depend on.
PACKAGE = "wbinterp"
#: What `python -m wbbook.build --NAME` builds: its output folder (jupyter-book's
#: ``--path-output``) and its Sphinx builder (the site's editions are ``wbbook.edition.EDITIONS``).
BUILDS = {
    "book": ("", "html"),
    "student": ("student", "html"),
    "pdf": ("pdf", "singlehtml"),
}
EXECUTION_CACHE = Path("_build") / ".jupyter_cache"
#: The smallest text a figure may show at the column's width, in points.
MIN_TEXT_POINTS = 9.0
#: The longest line of printed output a page may show (the column, and print, cut wider).
MAX_OUTPUT_CHARS = 80
#: Fewer pages than this means the PDF lost most of the book (a page that did not render).
MIN_PDF_PAGES = 100


def package_fingerprint() -> str:
    """SHA-256 over the science library's Python sources."""
    import importlib.util

    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise SystemExit(
            f"wbbook.build: the package {PACKAGE!r} is not installed (pip install -e ./code)"
        )
    from wbinterp.hashing import sha256_tree

    return sha256_tree(Path(spec.origin).parent)


def site_fingerprint_of(package: str) -> str:
    """SHA-256 over the package's fingerprint and this machinery's own files (``wbbook``)."""
    from wbinterp.hashing import sha256_text, sha256_tree

    here = Path(__file__).parent
    return sha256_text(
        package + sha256_tree(here) + sha256_tree(here / "static", "*.*")
    )


def changed_since(stamp: Path, fingerprint: str) -> bool:
    """Whether ``stamp`` records another fingerprint than ``fingerprint`` (or none)."""
    return not stamp.is_file() or stamp.read_text().strip() != fingerprint


def record(stamp: Path, fingerprint: str) -> None:
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(fingerprint + "\n")


def refresh_execution_cache(cache: Path, fingerprint: str) -> bool:
    """Drop the execution cache ``cache`` if the package changed since it was filled (or if
    nothing records what filled it); True if dropped."""
    stamp = cache.with_name(cache.name + ".package")
    dropped = changed_since(stamp, fingerprint) and cache.exists()
    if dropped:
        shutil.rmtree(cache)
    record(stamp, fingerprint)  # what fills the cache from now on is this package's
    return dropped


def edition_config(root: Path, edition: str, out: Path) -> Path:
    """Write the configuration file of ``edition`` (``_config.yml`` with its changes) into
    ``out``; return its path. The book itself uses ``_config.yml`` unchanged."""
    config = yaml.safe_load((root / "_config.yml").read_text())
    # the editions share the book's execution cache
    config.setdefault("execute", {})["cache"] = str((root / EXECUTION_CACHE).resolve())
    if edition == "student":
        # sphinx-exercise's own setting; wbbook.site does the hiding (see its docstring)
        config.setdefault("sphinx", {}).setdefault("config", {})["hide_solutions"] = (
            True
        )
    path = out / "_config.yml"
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def command(root: Path, edition: str, flags: list[str], fresh: bool) -> list[str]:
    """The ``jupyter-book build`` command line of ``edition``."""
    folder, builder = BUILDS[edition]
    cmd = [
        str(Path(sys.executable).with_name("jupyter-book")),
        "build",
        str(root),
        "--builder",
        builder,
    ]
    if folder:
        out = root / "_build" / folder
        cmd += [
            "--path-output",
            str(out),
            "--config",
            str(edition_config(root, edition, out / "_build")),
        ]
    if fresh and "--all" not in flags:
        cmd.append("--all")
    return cmd + flags


def pdf_page_count(pdf: Path) -> int:
    """How many pages the PDF ``pdf`` has: its ``/Type /Page`` objects (Chromium writes
    each page's dictionary uncompressed)."""
    import re

    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", Path(pdf).read_bytes()))


def solutions_left(site: Path) -> list[str]:
    """The pages of the student edition at ``site`` that still show a solution (its
    ``solution`` admonition), or that show no student note although the book has
    exercises with solutions there."""
    import re

    from .edition import STUDENT_NOTE

    note = STUDENT_NOTE.strip("*")
    # a solution is a div admonition; the student note that replaces it is a paragraph
    solution = re.compile(r'<div class="solution[^"]*admonition')
    left = []
    for page in sorted(Path(site).rglob("*.html")):
        if solution.search(page.read_text(errors="replace")):
            left.append(page.relative_to(site).as_posix())
    if not any(
        note in p.read_text(errors="replace") for p in Path(site).rglob("*.html")
    ):
        left.append("(no page carries the student note)")
    return left


def single_page(site: Path, toc: Path) -> Path:
    """The singlehtml builder's page, copied to ``site/book.html``.

    Sphinx writes the one page at the root document's path (``book/00_preface.html``)
    but links its assets as if it stood at the site's root; the copy does.
    """
    root_doc = yaml.safe_load(Path(toc).read_text())["root"]
    page = site / "book.html"
    shutil.copyfile(site / f"{root_doc}.html", page)
    return page


def print_pdf(
    site: Path, pdf: Path, page: str = "index.html", timeout_ms: int = 120_000
) -> Path:
    """Print ``site/page`` to ``pdf`` in headless Chromium, once MathJax has typeset it."""
    from playwright.sync_api import sync_playwright

    from .browser import launch, open_ready, serve

    pdf.parent.mkdir(parents=True, exist_ok=True)
    with serve(site) as base, sync_playwright() as pw:
        browser = launch(pw)
        try:
            tab = open_ready(browser.new_context(), f"{base}/{page}", timeout_ms)
            tab.emulate_media(media="print")
            tab.pdf(
                path=str(pdf),
                format="A4",
                print_background=True,
                margin={
                    "top": "15mm",
                    "bottom": "15mm",
                    "left": "12mm",
                    "right": "12mm",
                },
            )
        finally:
            browser.close()
    return pdf


def figure_text_sizes(site: Path) -> dict[tuple[str, str], float]:
    """``(page, image) -> smallest text in points`` for every figure of the built ``site``
    whose PNG records it."""
    import re

    from PIL import Image

    from wbinterp.notebook import TEXT_SIZE_KEY

    sizes = {}
    for page in sorted(site.rglob("*.html")):
        for src in re.findall(
            r'<img[^>]+src="([^"]+\.png)"', page.read_text(encoding="utf-8")
        ):
            image = (page.parent / src).resolve()
            if not image.is_file():
                continue
            with Image.open(image) as png:
                size = png.text.get(TEXT_SIZE_KEY)  # type: ignore[attr-defined]  # a PNG's text chunks
            if size is not None:
                sizes[(str(page.relative_to(site)), image.name)] = float(size)
    return sizes


def long_output_lines(
    execute_dir: Path, limit: int = MAX_OUTPUT_CHARS
) -> list[tuple[str, int, str]]:
    """``(notebook, length, line)`` for each line of visible printed output (standard
    output and results, not standard error, which the pages leave out) longer than
    ``limit`` in the executed notebooks under ``execute_dir``."""
    import nbformat

    hidden = {"remove-cell", "remove-output"}
    found = []
    for path in sorted(execute_dir.rglob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type != "code" or hidden & set(cell.metadata.get("tags", [])):
                continue
            for output in cell.get("outputs", []):
                if output.output_type == "stream":
                    text = output.text if output.name == "stdout" else ""
                else:
                    text = output.get("data", {}).get("text/plain", "")
                found += [
                    (path.stem, len(line), line)
                    for line in text.splitlines()
                    if len(line) > limit
                ]
    return found


def figures_without_image(execute_dir: Path) -> list[str]:
    """Glued figures (``"page/key"``) that carry no picture, only matplotlib's text
    ``<Figure size ...>``: a figure glued after the cell that drew it has ended is shown
    as nothing on the page, without a warning from myst-nb."""
    import json

    blank = []
    for path in sorted(Path(execute_dir).rglob("*.glue.json")):
        page = path.relative_to(execute_dir).as_posix().removesuffix(".glue.json")
        for key, output in json.loads(path.read_text()).items():
            data = output.get("data", {})
            text = data.get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else text
            if text.startswith("<Figure size") and not any(
                m.startswith("image/") for m in data
            ):
                blank.append(f"{page}/{key}")
    return blank


def glued_values(execute_dir: Path) -> dict[str, str]:
    """Every glued number and table of an executed book, ``{"page/key": text}``.

    Read from the ``*.glue.json`` files myst-nb writes beside the executed
    notebooks (``_build/jupyter_execute``); figures are left out (their PNG bytes
    vary with library versions, their numbers are glued separately).
    """
    import json

    values = {}
    for path in sorted(Path(execute_dir).rglob("*.glue.json")):
        page = path.relative_to(execute_dir).as_posix().removesuffix(".glue.json")
        for key, output in json.loads(path.read_text()).items():
            data = output.get("data", {})
            if any(mime.startswith("image/") for mime in data):
                continue
            text = data.get("text/markdown", data.get("text/plain", ""))
            values[f"{page}/{key}"] = "".join(text) if isinstance(text, list) else text
    return values


def glue_differences(first: dict[str, str], second: dict[str, str]) -> list[str]:
    """Keys whose glued text differs between two builds, or that only one build has."""
    return sorted(
        k for k in first.keys() | second.keys() if first.get(k) != second.get(k)
    )


def site_models_url(config_file: Path) -> str | None:
    """The book's published store, ``models/`` under the site's address (``html.baseurl``
    in ``config_file``); ``None`` when the file names no site. The package knows no site:
    the book passes this address in."""
    if not config_file.is_file():
        return None
    baseurl = ((yaml.safe_load(config_file.read_text()) or {}).get("html") or {}).get(
        "baseurl"
    )
    return f"{baseurl.rstrip('/')}/models/" if baseurl else None


def fetch_published_models(url: str | None) -> int:
    """Download every published model today's code uses from ``url`` (default
    ``$WBINTERP_MODELS_URL``) into the model store (the ones stored already are kept);
    returns how many were fetched. When the site cannot be reached, one line says so and
    the build trains what the store lacks."""
    from wbinterp import published, store

    try:
        fetched, refused = store.fetch_all(url=url)
    except published.FetchError as err:
        print(
            f"wbbook.build: no published models fetched ({err}); the chapters train what they need",
            file=sys.stderr,
        )
        return 0
    for line in refused:
        print(f"wbbook.build: not fetched, will be trained: {line}", file=sys.stderr)
    print(
        f"wbbook.build: fetched {fetched} published models into {store.store_dir()}",
        flush=True,
    )
    return fetched


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    editions = [e for e in BUILDS if f"--{e}" in args]
    from_published = "--from-published" in args
    flags = [
        a
        for a in args
        if a.removeprefix("--") not in BUILDS and a != "--from-published"
    ]
    if len(editions) > 1:
        print(
            "wbbook.build: choose one of --book, --student and --pdf", file=sys.stderr
        )
        return 2
    edition = editions[0] if editions else "book"
    root = Path.cwd()
    if from_published:
        from wbinterp.published import models_url

        fetch_published_models(models_url() or site_models_url(root / "_config.yml"))
    fingerprint = package_fingerprint()
    if refresh_execution_cache(root / EXECUTION_CACHE, fingerprint):
        print(
            f"{PACKAGE} changed since the chapters were executed: every chapter will re-run",
            flush=True,
        )
    folder, builder = BUILDS[edition]
    out = root / "_build" / folder / "_build" if folder else root / "_build"
    stamp = out / f".{builder}.package"
    # the pages depend on the package and on this machinery (its Sphinx extension and the
    # static files it adds, which Sphinx copies only when it writes some page)
    site_fingerprint = site_fingerprint_of(fingerprint)
    from wbinterp.published import URL_ENV

    status = subprocess.call(
        command(root, edition, flags, fresh=changed_since(stamp, site_fingerprint)),
        env={**os.environ, URL_ENV: ""},
    )
    if (
        status == 0
    ):  # Sphinx's saved environment now matches the package and the machinery
        record(stamp, site_fingerprint)
    if status == 0 and edition != "pdf":
        sizes = figure_text_sizes(out / builder)
        small = {k: v for k, v in sizes.items() if v < MIN_TEXT_POINTS}
        for (page, image), size in sorted(small.items()):
            print(
                f"wbbook.build: {page}: figure {image} shows text at {size:.1f} pt at the column's "
                f"width (at least {MIN_TEXT_POINTS:g}): draw it narrower or its text larger",
                file=sys.stderr,
            )
        long_lines = long_output_lines(out / "jupyter_execute")
        for notebook, length, line in long_lines:
            print(
                f"wbbook.build: {notebook}: a printed line of {length} characters (at most "
                f"{MAX_OUTPUT_CHARS}): {line[:60]}…",
                file=sys.stderr,
            )
        left = solutions_left(out / builder) if edition == "student" else []
        for page in left:
            print(
                f"wbbook.build: the student edition still shows a solution: {page}",
                file=sys.stderr,
            )
        blank = figures_without_image(out / "jupyter_execute")
        for key in blank:
            print(
                f"wbbook.build: the figure {key} was glued without its picture: glue it in the "
                "cell that draws it",
                file=sys.stderr,
            )
        if small or long_lines or left or blank:
            status = 1
        elif sizes:
            print(
                f"wbbook.build: {len(sizes)} figures, smallest text {min(sizes.values()):.1f} pt "
                "at the column's width",
                flush=True,
            )
    if status == 0 and edition == "pdf":
        site = out / builder
        whole = single_page(site, root / "_toc.yml")
        pdf = print_pdf(site, root / "_build" / "pdf" / "book.pdf", page=whole.name)
        pages = pdf_page_count(pdf)
        print(
            f"wbbook.build: wrote {pdf.relative_to(root)} ({pages} pages)", flush=True
        )
        if pages < MIN_PDF_PAGES:
            print(
                f"wbbook.build: {pdf.relative_to(root)} has {pages} pages, fewer than "
                f"{MIN_PDF_PAGES}: most of the book did not render",
                file=sys.stderr,
            )
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
