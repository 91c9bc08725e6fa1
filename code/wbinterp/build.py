"""Build glue: ``python -m wbinterp.build [--student | --pdf] [flags]`` (what ``make book``,
``make book-student`` and ``make pdf`` run).

myst-nb's execution cache keys only on a chapter's code cells, and Sphinx
re-reads only chapters whose source changed, so an edit to the package would
leave stale outputs in the book. Before building, this compares a fingerprint of
the package's source with the one recorded at the last build and, when they
differ, drops both the execution cache and Sphinx's saved environment, so every
chapter is read and executed again against the new code. Trained models live in their own store (:mod:`wbinterp.cache`) and
are only retrained when their own key changes.

Three outputs, one execution cache (``_build/.jupyter_cache``), so a chapter runs
once whatever is built:

* the book, ``_build/html`` (``jupyter-book build``);
* ``--student``: the student edition, ``_build/student/html``, the same book with
  solutions left out (``wbinterp_edition = "student"``, see :mod:`wbinterp.sphinx_site`);
* ``--pdf``: the whole book on one page, ``_build/pdf/singlehtml``, printed to
  ``_build/pdf/book.pdf`` by Chromium through Playwright.

The flags are jupyter-book's: ``-n`` (nitpicky), ``-W`` (warnings are errors),
``--keep-going``, ``--all`` (fresh environment), ``-v``, ``-q``.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
#: Set for the chapters' kernels while the book builds: the model store then trains silently
#: (a notice printed by a training cell would appear only in the pages of a clean build).
BUILDING_ENV = "WBINTERP_BUILDING"


def package_fingerprint(package_dir: Path = PACKAGE_DIR) -> str:
    """SHA-256 over the package's Python sources (names and contents)."""
    digest = hashlib.sha256()
    for path in sorted(package_dir.rglob("*.py")):
        digest.update(str(path.relative_to(package_dir)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


#: What a package change invalidates: executed outputs, and Sphinx's record of read sources.
STALE_ON_CHANGE = (".jupyter_cache", ".doctrees")


def refresh_execution_cache(build_dir: Path, fingerprint: str) -> bool:
    """Drop ``build_dir``'s execution cache and doctrees if the package changed; True if dropped."""
    stamp = build_dir / ".package-fingerprint"
    cache = build_dir / ".jupyter_cache"
    stale = stamp.exists() and stamp.read_text().strip() != fingerprint
    if stale or (cache.exists() and not stamp.exists()):
        for name in STALE_ON_CHANGE:
            shutil.rmtree(build_dir / name, ignore_errors=True)
        dropped = True
    else:
        dropped = False
    build_dir.mkdir(parents=True, exist_ok=True)
    stamp.write_text(fingerprint + "\n")
    return dropped


#: Sphinx settings of each edition built in-process (``--student``, ``--pdf``): output folder
#: under ``_build``, builder, and configuration overrides.
EDITIONS = {
    "student": ("student/html", "html", {"wbinterp_edition": "student"}),
    "pdf": ("pdf/singlehtml", "singlehtml", {}),
}

#: jupyter-book's flags, as keyword arguments of ``jupyter_book.sphinx.build_sphinx``.
FLAGS = {"-n": ("nitpicky", True), "--nitpick": ("nitpicky", True),
         "-W": ("warningiserror", True), "--warningiserror": ("warningiserror", True),
         "--keep-going": ("keep_going", True), "--all": ("freshenv", True),
         "-v": ("verbosity", 1), "-q": ("quiet", True)}

#: Where Chromium is looked for before Playwright's own download.
CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def edition_settings(root: Path, edition: str, flags: list[str]) -> dict:
    """Keyword arguments of ``build_sphinx`` for ``edition``, as ``jupyter-book build`` would pass.

    The edition shares the book's execution cache and keeps its own Sphinx environment.
    """
    out, builder, overrides = EDITIONS[edition]
    options: dict = {}
    for flag in flags:
        if flag not in FLAGS:
            raise SystemExit(f"wbinterp.build: {flag!r} is not supported with --{edition}; "
                             f"use {', '.join(sorted(FLAGS))}")
        name, value = FLAGS[flag]
        options[name] = value
    confoverrides = {   # what `jupyter-book build` passes, plus the edition's own settings
        "external_toc_path": (root / "_toc.yml").as_posix(),
        "latex_individualpages": False,
        "nb_execution_cache_path": str(root / "_build" / ".jupyter_cache"),
        **overrides,
    }
    if options.pop("nitpicky", False):
        confoverrides["nitpicky"] = True
    return dict(sourcedir=root, outputdir=root / "_build" / out, noconfig=True,
                path_config=root / "_config.yml", confoverrides=confoverrides, builder=builder,
                **options)


def build_edition(root: Path, edition: str, flags: list[str]) -> int:
    """Build ``edition`` with jupyter-book's Sphinx driver; 0 on success."""
    from jupyter_book.sphinx import build_sphinx

    settings = edition_settings(root, edition, flags)
    # its own environment must be dropped when the package changes, like the book's
    refresh_execution_cache(Path(settings["outputdir"]).parent, package_fingerprint())
    result = build_sphinx(**settings)
    if isinstance(result, BaseException):
        print(f"wbinterp.build: {edition} build failed: {result}", file=sys.stderr)
        return 1
    return int(result or 0)


def chromium() -> str | None:
    """Debian's Chromium if installed, else None (Playwright then uses its own download)."""
    return next((path for path in CHROMIUM if Path(path).is_file()), None)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def print_pdf(site: Path, pdf: Path, page: str = "index.html", timeout_ms: int = 120_000) -> Path:
    """Print ``site/page`` to ``pdf`` in headless Chromium, once MathJax has typeset it.

    The site is served over a local HTTP server (the fonts of the local MathJax do not
    load from ``file://``).
    """
    from playwright.sync_api import sync_playwright

    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    pdf.parent.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium(), headless=True,
                                         args=["--no-sandbox", "--disable-gpu"])
            tab = browser.new_page()
            tab.goto(f"http://127.0.0.1:{server.server_address[1]}/{page}",
                     wait_until="networkidle", timeout=timeout_ms)
            tab.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
            tab.emulate_media(media="print")
            tab.pdf(path=str(pdf), format="A4", print_background=True,
                    margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"})
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return pdf


def single_page(site: Path, toc: Path) -> Path:
    """The singlehtml builder's page, copied to ``site/book.html``.

    Sphinx writes the one page at the root document's path (``book/00_preface.html``)
    but links its assets as if it stood at the site's root; the copy does.
    """
    import yaml

    root_doc = yaml.safe_load(Path(toc).read_text())["root"]
    page = site / "book.html"
    shutil.copyfile(site / f"{root_doc}.html", page)
    return page


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
    return sorted(k for k in first.keys() | second.keys() if first.get(k) != second.get(k))


def main(argv: list[str] | None = None) -> int:
    flags = list(sys.argv[1:] if argv is None else argv)
    root = Path.cwd()
    os.environ[BUILDING_ENV] = "1"          # inherited by jupyter-book and its kernels
    editions = [e for e in EDITIONS if f"--{e}" in flags]
    flags = [f for f in flags if f.removeprefix("--") not in EDITIONS]
    if len(editions) > 1:
        raise SystemExit("wbinterp.build: choose one of --student and --pdf")
    if refresh_execution_cache(root / "_build", package_fingerprint()):
        print("wbinterp changed since the last build: every chapter will re-run", flush=True)
    if editions:
        status = build_edition(root, editions[0], flags)
        if status == 0 and editions[0] == "pdf":
            site = root / "_build" / "pdf" / "singlehtml"
            page = single_page(site, root / "_toc.yml")
            pdf = print_pdf(site, root / "_build" / "pdf" / "book.pdf", page=page.name)
            print(f"wbinterp.build: wrote {pdf.relative_to(root)}", flush=True)
        return status
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jupyter_book), "build", str(root), "--builder", "html", *flags]
    return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main())
