"""The build driver: stale outputs dropped when the package changes, editions as
jupyter-book commands, glued values compared between builds."""

from __future__ import annotations

import json

import pytest
import yaml

from wbbook import build
from wbinterp import hashing


def test_fingerprint_follows_every_source_file(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "maths.py").write_text("x = 1\n")
    before = hashing.sha256_tree(pkg)
    assert hashing.sha256_tree(pkg) == before
    (pkg / "maths.py").write_text("x = 2\n")
    assert hashing.sha256_tree(pkg) != before
    (pkg / "maths.py").write_text("x = 1\n")
    (pkg / "new.py").write_text("")
    assert hashing.sha256_tree(pkg) != before


def test_execution_cache_dropped_only_when_package_changes(tmp_path):
    cache = tmp_path / "_build" / ".jupyter_cache"
    assert (
        build.refresh_execution_cache(cache, "aaa") is False
    )  # first build: nothing to drop
    cache.mkdir(parents=True)
    (cache / "entry").write_text("executed outputs")
    assert (
        build.refresh_execution_cache(cache, "aaa") is False
    )  # same package: keep outputs
    assert (cache / "entry").exists()
    assert (
        build.refresh_execution_cache(cache, "bbb") is True
    )  # package changed: re-execute
    assert not cache.exists()


def test_cache_without_stamp_is_not_trusted(tmp_path):
    cache = tmp_path / ".jupyter_cache"
    cache.mkdir()
    assert build.refresh_execution_cache(cache, "aaa") is True


def test_stamps(tmp_path):
    stamp = tmp_path / "out" / ".html.package"
    assert build.changed_since(stamp, "aaa")
    build.record(stamp, "aaa")
    assert not build.changed_since(stamp, "aaa") and build.changed_since(stamp, "bbb")


def _root(tmp_path):
    (tmp_path / "_config.yml").write_text(
        yaml.safe_dump(
            {
                "title": "t",
                "execute": {"execute_notebooks": "cache"},
                "sphinx": {"config": {"numfig": True}},
            }
        )
    )
    return tmp_path


def test_book_is_plain_jupyter_book(tmp_path):
    cmd = build.command(_root(tmp_path), "book", ["-W"], fresh=False)
    assert cmd[1:] == ["build", str(tmp_path), "--builder", "html", "-W"]
    assert cmd[0].endswith("jupyter-book")
    assert (
        build.command(tmp_path, "book", [], fresh=True)[-1] == "--all"
    )  # package changed


def test_student_edition_is_another_config_and_output(tmp_path):
    root = _root(tmp_path)
    cmd = build.command(root, "student", ["-n"], fresh=False)
    out = root / "_build" / "student"
    assert cmd[cmd.index("--path-output") + 1] == str(out)
    config = yaml.safe_load((out / "_build" / "_config.yml").read_text())
    assert config["sphinx"]["config"] == {"numfig": True, "hide_solutions": True}
    assert config["execute"]["cache"] == str(
        (root / "_build" / ".jupyter_cache").resolve()
    )
    assert cmd[cmd.index("--config") + 1] == str(out / "_build" / "_config.yml")
    pdf = build.command(root, "pdf", [], fresh=False)
    assert pdf[pdf.index("--builder") + 1] == "singlehtml"
    pdf_config = yaml.safe_load(
        (root / "_build" / "pdf" / "_build" / "_config.yml").read_text()
    )
    assert "hide_solutions" not in pdf_config["sphinx"]["config"]


def test_one_edition_at_a_time(capsys):
    assert build.main(["--student", "--pdf"]) == 2
    assert "choose one of" in capsys.readouterr().err


def test_single_page_is_copied_to_the_site_root(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "00_preface.html").write_text("<p>all chapters</p>")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/00_preface\n")
    page = build.single_page(tmp_path, tmp_path / "_toc.yml")
    assert page == tmp_path / "book.html" and page.read_text() == "<p>all chapters</p>"


def test_glued_values_compare_two_builds(tmp_path):
    def write(folder, number):
        (folder / "book").mkdir(parents=True)
        glue = {
            "acc": {"output_type": "display_data", "data": {"text/plain": number}},
            "table": {
                "output_type": "display_data",
                "data": {
                    "text/markdown": ["| a |\n", "| 1 |"],
                    "text/plain": "<Markdown>",
                },
            },
            "fig": {
                "output_type": "display_data",
                "data": {"image/png": "AAAA", "text/plain": "<Figure>"},
            },
        }
        (folder / "book" / "01_x.glue.json").write_text(json.dumps(glue))
        return build.glued_values(folder)

    first, same, other = (
        write(tmp_path / "a", "0.98"),
        write(tmp_path / "b", "0.98"),
        write(tmp_path / "c", "0.97"),
    )
    assert first == {
        "book/01_x/acc": "0.98",
        "book/01_x/table": "| a |\n| 1 |",
    }  # figures left out
    assert build.glue_differences(first, same) == []
    assert build.glue_differences(first, other) == ["book/01_x/acc"]
    assert build.glue_differences(first, {}) == ["book/01_x/acc", "book/01_x/table"]


def test_a_figure_glued_without_its_picture_is_found(tmp_path):
    (tmp_path / "book").mkdir()
    glue = {
        "drawn": {
            "data": {
                "image/png": "AAAA",
                "text/plain": "<Figure size 720x400 with 2 Axes>",
            }
        },
        "blank": {"data": {"text/plain": ["<Figure size 720x400 ", "with 2 Axes>"]}},
        "number": {"data": {"text/plain": "0.98"}},
    }
    (tmp_path / "book" / "01_x.glue.json").write_text(json.dumps(glue))
    assert build.figures_without_image(tmp_path) == ["book/01_x/blank"]


@pytest.mark.skipif(
    not __import__("wbbook.browser").browser.chromium(),
    reason="needs Debian's chromium",
)
def test_print_pdf(tmp_path):
    (tmp_path / "index.html").write_text(
        "<html><body><h1>Book</h1><p>Text.</p></body></html>"
    )
    pdf = build.print_pdf(tmp_path, tmp_path / "out" / "book.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")


def test_figure_text_sizes_read_from_each_pages_pngs(tmp_path):
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    from wbinterp.notebook import TEXT_SIZE_KEY

    site = tmp_path / "html"
    (site / "_images").mkdir(parents=True)
    (site / "book").mkdir()
    for name, size in [
        ("small.png", "7.25"),
        ("fine.png", "10.00"),
        ("plain.png", None),
    ]:
        info = PngInfo()
        if size is not None:
            info.add_text(TEXT_SIZE_KEY, size)
        Image.new("RGB", (4, 4)).save(site / "_images" / name, pnginfo=info)
    (site / "book" / "ch.html").write_text(
        '<img alt="a" src="../_images/small.png"/><img src="../_images/fine.png" alt="b"/>'
        '<img src="../_images/plain.png"/><img src="../_images/missing.png"/>'
    )
    sizes = build.figure_text_sizes(site)
    assert sizes == {
        ("book/ch.html", "small.png"): 7.25,
        ("book/ch.html", "fine.png"): 10.0,
    }


def test_long_output_lines_only_count_what_a_page_shows(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    long_line = "x" * 81
    shown = nbformat.v4.new_code_cell("print(...)")
    shown.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=f"short\n{long_line}\n"),
        nbformat.v4.new_output("stream", name="stderr", text=long_line),
        nbformat.v4.new_output(
            "execute_result", data={"text/plain": "y" * 90}, execution_count=1
        ),
    ]
    hidden = nbformat.v4.new_code_cell("print(...)", metadata={"tags": ["remove-cell"]})
    hidden.outputs = [nbformat.v4.new_output("stream", name="stdout", text=long_line)]
    nb.cells = [shown, hidden]
    (tmp_path / "book").mkdir()
    nbformat.write(nb, tmp_path / "book" / "ch.ipynb")
    found = build.long_output_lines(tmp_path)
    assert found == [("ch", 81, long_line), ("ch", 90, "y" * 90)]
    assert build.long_output_lines(tmp_path, limit=100) == []


def test_pdf_page_count_counts_page_objects_not_the_page_tree(tmp_path):
    pdf = tmp_path / "book.pdf"
    pdf.write_bytes(
        b"%PDF-1.4\n1 0 obj << /Type /Pages /Count 2 >>\n2 0 obj << /Type /Page >>\n"
        b"3 0 obj <</Type/Page/Parent 1 0 R>>\n%%EOF"
    )
    assert build.pdf_page_count(pdf) == 2
