"""The site around the book: generated notebooks (Colab, download), the student edition,
the PDF and student builds, Binder's environment and the publishing workflow."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
from pathlib import Path

import nbformat
import pytest
import yaml

from wbbook import edition, notebooks
from wbbook import site as sphinx_site

ROOT = Path(__file__).resolve().parents[1]
REPO = "https://github.com/wbinterp/wbinterp-book"

CHAPTER = """\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
    format_version: 0.13
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A chapter

Some text.

```{code-cell} ipython3
:tags: [remove-cell]
x = 1
```

```{exercise} Try it
:label: ex-one

Compute it.
```

````{solution-start} ex-one
:class: dropdown
````

The answer, with code:

```{code-cell} ipython3
answer = 42
```

````{solution-end}
````

```{exercise} Another
:label: ex-two

Think.
```

````{solution} ex-two
:class: dropdown

Plain solution, with a nested fence:

```python
print("hidden")
```
````

## After the exercises

```{code-cell} ipython3
y = x + 1
```
"""


def _config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


# --- URLs and the install cell ---------------------------------------------------------


def test_github_repo_parses_and_rejects():
    assert notebooks.github_repo(REPO) == ("wbinterp", "wbinterp-book")
    assert notebooks.github_repo(REPO + ".git/") == ("wbinterp", "wbinterp-book")
    for bad in ["https://gitlab.com/a/b", "https://github.com/only-owner", "not a url"]:
        with pytest.raises(ValueError):
            notebooks.github_repo(bad)


def test_colab_url_points_at_the_notebooks_branch():
    assert (
        notebooks.colab_url(REPO, "notebooks", "book/04_low_rank")
        == "https://colab.research.google.com/github/wbinterp/wbinterp-book/blob/notebooks/"
        "book/04_low_rank.ipynb"
    )


def test_install_cell_installs_the_package_from_the_configured_repository():
    config = _config()
    source = notebooks.install_cell(
        config["repository"]["url"], config["repository"]["branch"]
    )
    compile(source, "install-cell", "exec")
    assert (
        '"wbinterp @ git+https://github.com/wbinterp/wbinterp-book.git@main#subdirectory=code"'
        in source
    )
    assert "WBINTERP_MODELS_URL" not in source
    with_models = notebooks.install_cell(
        REPO, "main", "https://example.org/book/models/"
    )
    compile(with_models, "install-cell", "exec")
    # outside a checkout the package finds the published models at the site's address
    assert (
        'os.environ.setdefault("WBINTERP_MODELS_URL", "https://example.org/book/models/")'
        in with_models
    )


def _run_cell(source, monkeypatch, missing=()):
    calls = []
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name in missing else real_find_spec(name, *a),
    )
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append(cmd))
    # the cell's own environment: what it sets stays out of the tests'
    env = {k: v for k, v in os.environ.items() if not k.startswith("WBINTERP_")}
    monkeypatch.setattr(os, "environ", env)
    exec(compile(source, "install-cell", "exec"), {})
    return calls


def test_install_cell_in_a_checkout_installs_nothing_and_uses_its_folders(monkeypatch):
    calls = _run_cell(
        notebooks.install_cell(REPO, "main", "https://example.org/m/"), monkeypatch
    )
    assert calls == []
    assert os.environ["WBINTERP_DATA"] == str(ROOT / "data")
    assert os.environ["WBINTERP_STORE"] == str(ROOT / "_store")
    assert os.environ["WBINTERP_MODELS_URL"] == "https://example.org/m/"


def test_install_cell_installs_only_what_is_missing(monkeypatch):
    calls = _run_cell(
        notebooks.install_cell(REPO, "main"), monkeypatch, missing=("myst_nb",)
    )
    assert (
        len(calls) == 1
        and calls[0][-1] == "myst-nb"
        and calls[0][1:4] == ["-m", "pip", "install"]
    )


# --- notebooks and the student edition ---------------------------------------------------


def test_strip_solutions_removes_gated_and_plain_solutions():
    stripped = edition.strip_solutions(CHAPTER)
    assert "answer = 42" not in stripped and "The answer" not in stripped
    assert "Plain solution" not in stripped and "hidden" not in stripped
    assert "solution-start" not in stripped and "solution-end" not in stripped
    assert stripped.count(edition.STUDENT_NOTE) == 2
    assert (
        "Compute it." in stripped and "Think." in stripped and "y = x + 1" in stripped
    )
    assert edition.strip_solutions("no solutions\n") == "no solutions\n"


def test_strip_solutions_rejects_unclosed_solutions():
    with pytest.raises(ValueError, match="solution-end"):
        edition.strip_solutions("````{solution-start} ex\n````\n\ntext\n")
    with pytest.raises(ValueError, match="never closed"):
        edition.strip_solutions("```{solution} ex\ntext\n")


def test_chapter_notebook_has_install_cell_after_title_and_stable_ids():
    nb = notebooks.chapter_notebook(CHAPTER, "print('install')")
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith(
        "# A chapter"
    )
    assert nb.cells[1].source == "print('install')"
    assert nb.cells[1].metadata["tags"] == ["install-wbinterp"]
    assert [c.id for c in nb.cells] == [f"cell-{i}" for i in range(len(nb.cells))]
    assert (
        "jupytext" not in nb.metadata and nb.metadata["kernelspec"]["name"] == "python3"
    )
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert code == ["print('install')", "x = 1", "answer = 42", "y = x + 1"]
    assert nb.cells[2].metadata["tags"] == ["remove-cell"]
    assert nbformat.writes(nb) == nbformat.writes(
        notebooks.chapter_notebook(CHAPTER, "print('install')")
    )


def test_student_notebook_has_no_solutions():
    nb = notebooks.chapter_notebook(CHAPTER, "pass", student=True)
    text = "\n".join(c.source for c in nb.cells)
    assert "answer = 42" not in text and "Plain solution" not in text
    assert [c.source for c in nb.cells if c.cell_type == "code"] == [
        "pass",
        "x = 1",
        "y = x + 1",
    ]


def test_every_chapter_converts(tmp_path):
    chapters = {
        f"book/{p.stem}": p
        for p in sorted((ROOT / "book").glob("[0-9][0-9]_*.md"))
        if p.read_text().startswith("---\njupytext:")
    }
    assert chapters
    written = notebooks.write_notebooks(chapters, tmp_path, "pass", student=True)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == sorted(
        f"{d}.ipynb" for d in chapters
    )
    for path in written:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert not any("solution-start" in c.source for c in nb.cells)


# --- a real Sphinx build with the theme's launch buttons ------------------------------------


#: The home page: the table of contents, and a bibliography (docutils citations).
INDEX = """\
# Home

```{toctree}
book/ch
```

See [Bis95]_.

```{eval-rst}
.. [Bis95] Christopher M. Bishop. Training with noise. 1995. https://doi.org/10.1162/neco.1995.7.1.108

.. [EY36] Carl Eckart and Gale Young. The approximation of one matrix by another. 1936.
```
"""


def _sphinx_build(tmp_path, edition, builder="html", chapter=CHAPTER, **overrides):
    from sphinx.application import Sphinx

    src = tmp_path / "src"
    (src / "book").mkdir(parents=True, exist_ok=True)
    (src / "book" / "ch.md").write_text(chapter)
    (src / "index.md").write_text(INDEX)
    out = tmp_path / edition
    app = Sphinx(
        str(src),
        None,
        str(out / "html"),
        str(out / "doctrees"),
        builder,
        status=None,
        warning=None,
        freshenv=True,
        confoverrides={
            "extensions": [
                "myst_nb",
                "sphinx_exercise",
                "sphinx_book_theme",
                "wbbook.site",
            ],
            "nb_execution_mode": "off",
            "html_theme": "sphinx_book_theme",
            "wbbook_edition": edition,
            "html_theme_options": {
                "repository_url": REPO,
                "repository_branch": "main",
                "path_to_docs": "",
                "launch_buttons": {
                    "binderhub_url": "https://mybinder.org",
                    "colab_url": "https://colab.research.google.com",
                },
            },
            **overrides,
        },
    )
    app.build()
    return out / "html"


def test_sphinx_build_writes_notebooks_and_points_colab_at_them(tmp_path):
    html = _sphinx_build(tmp_path, "full")
    page = (html / "book" / "ch.html").read_text()
    assert (
        'href="https://colab.research.google.com/github/wbinterp/wbinterp-book/blob/notebooks/'
        'book/ch.ipynb"' in page
    )
    assert (
        "https://mybinder.org/v2/gh/wbinterp/wbinterp-book/main?urlpath=tree/book/ch.md"
        in page
    )
    assert 'href="../_notebooks/book/ch.ipynb"' in page
    nb = nbformat.read(html / "_notebooks" / "book" / "ch.ipynb", as_version=4)
    assert (
        "git+https://github.com/wbinterp/wbinterp-book.git@main" in nb.cells[1].source
    )
    assert any("answer = 42" in c.source for c in nb.cells)
    assert not (html / "_notebooks" / "index.ipynb").exists()  # not a notebook page


def test_citations_are_list_items_and_exercise_links_keep_contrast(tmp_path):
    # axe-core (the browser check): a role="list" block must hold role="listitem" entries, not
    # the deprecated doc-biblioentry; links in the tinted exercise boxes need 4.5:1 contrast
    html = _sphinx_build(tmp_path, "full")
    page = (html / "index.html").read_text()
    bibliography = page[page.index('<div role="list" class="citation-list">') :]
    bibliography = bibliography[: bibliography.index("</div>\n</div>") + 13]
    assert bibliography.count('role="listitem"') == 2 and "doc-biblioentry" not in page
    assert re.search(
        r'<link rel="stylesheet" type="text/css" href="_static/wbbook\.css[?"]', page
    )
    style = (html / "_static" / "wbbook.css").read_text()
    assert (
        'html[data-theme="light"] div.exercise' in style and "--pst-color-link" in style
    )


def test_student_edition_leaves_solutions_out_of_the_site(tmp_path):
    html = _sphinx_build(tmp_path, "student")
    page = (html / "book" / "ch.html").read_text()
    assert (
        "Compute it." in page
        and "Plain solution" not in page
        and "answer = 42" not in page
    )
    assert "colab.research.google.com" not in page and "mybinder.org" not in page
    assert not (html / "_sources").exists()
    nb = nbformat.read(html / "_notebooks" / "book" / "ch.ipynb", as_version=4)
    assert not any("answer = 42" in c.source for c in nb.cells)


def test_the_student_check_finds_solutions_and_passes_the_student_edition(tmp_path):
    from wbbook import build

    assert build.solutions_left(_sphinx_build(tmp_path / "s", "student")) == []
    full = build.solutions_left(_sphinx_build(tmp_path / "f", "full"))
    assert "book/ch.html" in full and "(no page carries the student note)" in full


def test_hide_solutions_means_the_student_edition(tmp_path):
    # sphinx-exercise's own option: gated solutions must go too (its own hiding keeps them)
    page = (
        _sphinx_build(tmp_path, "full", hide_solutions=True) / "book" / "ch.html"
    ).read_text()
    assert (
        "Compute it." in page and "The answer" not in page and "answer = 42" not in page
    )
    assert page.count(edition.STUDENT_NOTE.strip("*")) == 2


#: Cells folded or hidden by tags, as the chapters use them (myst-nb's hidden-cell node).
HIDDEN_CELLS = """
```{code-cell} ipython3
:tags: [hide-cell]
z = 3
```

```{code-cell} ipython3
:tags: [hide-input]
w = 4
```

```{admonition} Note
An admonition.
```
"""


def test_the_one_page_book_for_the_pdf_renders_hidden_cells(tmp_path):
    # `make pdf` builds with singlehtml, for which myst-nb's hidden-cell node had no visitor
    html = _sphinx_build(
        tmp_path, "full", builder="singlehtml", chapter=CHAPTER + HIDDEN_CELLS
    )
    page = (html / "index.html").read_text()
    assert page.count('<details class="admonition hide') == 2
    text = re.sub(r"<[^>]+>", "", page)
    assert (
        "z = 3" in text
        and "w = 4" in text
        and "Compute it." in text
        and "An admonition." in text
    )


def test_unknown_edition_is_an_error(tmp_path):
    with pytest.raises(Exception, match="wbbook_edition"):
        _sphinx_build(tmp_path, "teacher")


def test_redirect_page_gets_the_favicon(tmp_path):
    index = tmp_path / "index.html"
    index.write_text(
        '<meta http-equiv="Refresh" content="0; url=book/00_preface.html" />\n'
    )
    assert not sphinx_site.redirect_with_icon(tmp_path, None)
    assert sphinx_site.redirect_with_icon(tmp_path, "book/_static/favicon.svg")
    page = index.read_text()
    assert '<link rel="icon" href="_static/favicon.svg">' in page
    assert 'content="0; url=book/00_preface.html"' in page
    assert not sphinx_site.redirect_with_icon(
        tmp_path, "book/_static/favicon.svg"
    )  # a real page: kept


# --- configuration: one repository, Binder, publishing --------------------------------------


def test_config_names_one_repository_and_its_pages_site():
    config = _config()
    owner, name = notebooks.github_repo(config["repository"]["url"])
    assert config["repository"]["branch"] == "main"
    assert config["html"]["baseurl"] == f"https://{owner}.github.io/{name}/"
    buttons = config["launch_buttons"]
    assert buttons["binderhub_url"] == "https://mybinder.org"
    assert buttons["colab_url"] == "https://colab.research.google.com"
    # nothing else spells the repository out
    for path in [
        "binder/postBuild",
        "binder/requirements.txt",
        ".github/workflows/pages.yml",
        "Makefile",
        "book/_ext/wbbook/site.py",
        "book/_ext/wbbook/notebooks.py",
        "book/_ext/wbbook/build.py",
    ]:
        assert f"{owner}/{name}" not in (ROOT / path).read_text(), path


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line.strip())
        if match:
            pins[match[1].lower()] = match[2]
    return pins


def test_binder_has_cpu_torch_at_the_pinned_versions_and_jupytext():
    root, binder = (
        _pins(ROOT / "requirements.txt"),
        _pins(ROOT / "binder" / "requirements.txt"),
    )
    for package in ["torch", "torchvision"]:
        assert binder[package] == root[package] + "+cpu"
    text = (ROOT / "binder" / "requirements.txt").read_text()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in text
    for package in ["jupytext", "myst-nb", "numpy", "matplotlib", "scikit-learn"]:
        assert re.search(rf"^{package}\b", text, re.M), package
    assert (
        "-e" not in text.split()
    )  # a path here would be relative to the repository root
    post = ROOT / "binder" / "postBuild"
    assert post.stat().st_mode & 0o111
    assert "pip install --no-cache-dir --no-deps -e ./code" in post.read_text()


def test_generated_notebooks_are_never_committed():
    assert not list((ROOT / "book").glob("*.ipynb"))
    assert "*.ipynb" in (ROOT / ".gitignore").read_text().split()


def test_exec_table_shows_chapter_titles_and_minutes():
    """myst-nb's execution table, as its post-transform builds it, made readable."""
    from types import SimpleNamespace

    from docutils import nodes
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser
    from docutils.utils import new_document
    from sphinx.addnodes import pending_xref

    from wbbook.site import ReadableExecTable

    def row(cells):
        return nodes.row("", *[nodes.entry("", cell) for cell in cells])

    link = pending_xref("", nodes.inline(text="book/04_low_rank"), reftype="doc")
    header = [
        nodes.paragraph(text=t)
        for t in ["Document", "Modified", "Method", "Run Time (s)", "Status"]
    ]
    body = [nodes.paragraph("", "", link)] + [
        nodes.paragraph(text=t) for t in ["2026", "cache", "90.0", "ok"]
    ]
    skipped = [nodes.paragraph(text=t) for t in ["book/x", "", "", "-", ""]]
    table = nodes.table(
        "",
        nodes.tgroup(
            "", nodes.thead("", row(header)), nodes.tbody("", row(body), row(skipped))
        ),
    )
    document = new_document("test", get_default_settings(Parser))
    document.settings.env = SimpleNamespace(
        titles={"book/04_low_rank": nodes.title(text="Low-rank structure")}
    )
    document += table
    ReadableExecTable(document).run()
    texts = [entry.astext() for entry in table.findall(nodes.entry)]
    assert texts[:5] == ["Chapter", "Modified", "Method", "Run time (min)", "Status"]
    assert texts[5] == "Low-rank structure" and texts[8] == "1.5" and texts[13] == "-"


def _binder_env(**preset: str) -> dict[str, str]:
    """The WBINTERP_ variables after ``. binder/env``, from an environment holding only
    PATH and ``preset``."""
    env = {"PATH": os.environ["PATH"], **preset}
    out = subprocess.run(
        ["bash", "-c", ". binder/env && env"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = out.stdout.splitlines()
    return dict(line.split("=", 1) for line in lines if line.startswith("WBINTERP_"))


def test_binder_env_points_the_package_at_the_repository_and_the_sites_models():
    from wbbook import build

    assert _binder_env() == {
        "WBINTERP_DATA": str(ROOT / "data"),
        "WBINTERP_STORE": str(ROOT / "_store"),
        "WBINTERP_MODELS_URL": build.site_models_url(ROOT / "_config.yml"),
    }
    # a variable already set stays: an empty address turns downloads off
    assert _binder_env(WBINTERP_MODELS_URL="")["WBINTERP_MODELS_URL"] == ""
