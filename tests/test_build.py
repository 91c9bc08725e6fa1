"""The build notices package changes: the execution cache is dropped when the code changes."""

from __future__ import annotations

from wbinterp import build


def _package(tmp_path, source="x = 1\n"):
    pkg = tmp_path / "pkg"
    pkg.mkdir(exist_ok=True)
    (pkg / "maths.py").write_text(source)
    return pkg


def test_fingerprint_follows_every_source_file(tmp_path):
    pkg = _package(tmp_path)
    before = build.package_fingerprint(pkg)
    assert build.package_fingerprint(pkg) == before
    (pkg / "maths.py").write_text("x = 2\n")
    assert build.package_fingerprint(pkg) != before
    (pkg / "maths.py").write_text("x = 1\n")
    (pkg / "new.py").write_text("")
    assert build.package_fingerprint(pkg) != before


def test_execution_cache_dropped_only_when_package_changes(tmp_path):
    build_dir = tmp_path / "_build"
    cache = build_dir / ".jupyter_cache"
    assert build.refresh_execution_cache(build_dir, "aaa") is False   # first build: nothing to drop
    cache.mkdir(parents=True)
    (cache / "entry").write_text("executed outputs")
    doctrees = build_dir / ".doctrees"
    doctrees.mkdir()
    (doctrees / "environment.pickle").write_text("which sources were read")
    assert build.refresh_execution_cache(build_dir, "aaa") is False   # same package: keep outputs
    assert (cache / "entry").exists() and doctrees.exists()
    assert build.refresh_execution_cache(build_dir, "bbb") is True    # package changed: re-execute
    assert not cache.exists()
    assert not doctrees.exists()          # else Sphinx would not even re-read unchanged chapters
    assert (build_dir / ".package-fingerprint").read_text().strip() == "bbb"


def test_cache_without_stamp_is_not_trusted(tmp_path):
    build_dir = tmp_path / "_build"
    (build_dir / ".jupyter_cache").mkdir(parents=True)
    assert build.refresh_execution_cache(build_dir, "aaa") is True


def test_glued_values_compare_two_builds(tmp_path):
    import json

    def write(folder, number):
        (folder / "book").mkdir(parents=True)
        glue = {
            "acc": {"output_type": "display_data", "data": {"text/plain": number}},
            "table": {"output_type": "display_data",
                      "data": {"text/markdown": ["| a |\n", "| 1 |"], "text/plain": "<Markdown>"}},
            "fig": {"output_type": "display_data", "data": {"image/png": "AAAA", "text/plain": "<Figure>"}},
        }
        (folder / "book" / "01_x.glue.json").write_text(json.dumps(glue))
        return build.glued_values(folder)

    first, same, other = write(tmp_path / "a", "0.98"), write(tmp_path / "b", "0.98"), write(tmp_path / "c", "0.97")
    assert first == {"book/01_x/acc": "0.98", "book/01_x/table": "| a |\n| 1 |"}   # figures left out
    assert build.glue_differences(first, same) == []
    assert build.glue_differences(first, other) == ["book/01_x/acc"]
    assert build.glue_differences(first, {}) == ["book/01_x/acc", "book/01_x/table"]
