"""Faults a user meets: the command line, the store and the published store under bad
arguments, damaged files, read-only folders, a full disk, a slow or hostile server and two
processes at once. Each case checks the exit status, the one line said, and the files
before and after: nothing deleted that was not ours, nothing half-written.

Read-only folders are real: as root (who ignores permission bits) the command runs in a
subprocess with every capability dropped (``setpriv``). A full disk is a file-size limit
set for the subprocess (writes past it fail with EFBIG).
"""

from __future__ import annotations

import http.server
import json
import os
import resource
import shutil
import socket
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from safetensors.torch import save_file

from wbinterp import files, published, store
from wbinterp.__main__ import main
from wbinterp.models import ModelConfig
from wbinterp.train import TrainConfig

from .conftest import make_raw_files

REPO = Path(__file__).resolve().parents[1]
TINY = TrainConfig(
    model=ModelConfig(d_hidden=8),
    epochs=1,
    batch_size=64,
    lr=1e-2,
    weight_decay=0.0,
    input_noise=0.0,
)
#: What a subprocess runs first: the tiny preset and the synthetic data of the tests.
PRELUDE = f"""
import sys
sys.path.insert(0, {str(REPO)!r})
from tests.conftest import synthetic_dataset
from tests.test_faults import TINY
from wbinterp import presets, store
from wbinterp.__main__ import main
presets.PRESETS["tiny"] = TINY
store.data_mod.load = lambda name: synthetic_dataset()
"""


def _tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes: the state compared before and after."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def _run(
    code: str,
    *,
    unprivileged: bool = False,
    max_file_bytes: int | None = None,
    env=None,
):
    """Run ``code`` (after :data:`PRELUDE`) in a fresh Python; as root, ``unprivileged``
    drops every capability so that permission bits hold."""
    argv = [sys.executable, "-c", PRELUDE + textwrap.dedent(code)]
    if unprivileged and os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("setpriv (util-linux) is needed to drop root's capabilities")
        argv = [
            "setpriv",
            "--bounding-set=-all",
            "--inh-caps=-all",
            "--ambient-caps=-all",
            *argv,
        ]

    def limit():
        if max_file_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))

    full_env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        published.URL_ENV: "",
        **(env or {}),
    }
    return subprocess.run(
        argv,
        capture_output=True,
        text=True,
        preexec_fn=limit,
        env=full_env,
        timeout=120,
        check=False,
    )


@pytest.fixture
def trained_store(tmp_path, toy_data, monkeypatch):
    """A store holding the tiny model."""
    monkeypatch.setattr(store.data_mod, "load", lambda name: toy_data)
    root = tmp_path / "store"
    return store.load_or_train(TINY, root=root, dataset=toy_data), root


def _read_only(*folders: Path) -> None:
    for folder in folders:
        for path in [folder, *folder.rglob("*")]:
            path.chmod(
                path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
            )


# --- publish: never deletes what is not a publication --------------------------------------


def _publish_error(argv, capsys) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    return _one_line(captured.err)


def test_publish_refuses_the_working_folder_and_a_folder_of_the_users(
    trained_store, tmp_path, monkeypatch, capsys
):
    _, root = trained_store
    monkeypatch.setenv(store.STORE_ENV, str(root))
    work = tmp_path / "work"
    (work / "notes").mkdir(parents=True)
    (work / "notes" / "thesis.tex").write_text("months of work")
    monkeypatch.chdir(work)
    before = _tree(work)
    for out in (".", str(work), str(tmp_path), "/"):
        assert "working folder" in _publish_error(["publish", out], capsys)
    assert "not a published store" in _publish_error(["publish", "notes"], capsys)
    assert _tree(work) == before  # nothing deleted
    (work / "paper.pdf").write_text("pdf")
    assert "is a file" in _publish_error(["publish", "paper.pdf"], capsys)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    assert "home folder" in _publish_error(["publish", str(tmp_path / "home")], capsys)
    for out in (root, root / "inside", root.parent):
        message = _publish_error(["publish", str(out)], capsys)
        assert str(root) in message or "working folder" in message
    assert _tree(work) == {**before, "paper.pdf": b"pdf"}
    assert store.load(trained_store[0].path).from_store  # the store is intact


def test_publish_replaces_only_a_publication_and_leaves_it_readable(
    trained_store, tmp_path, monkeypatch, capsys
):
    first, root = trained_store
    monkeypatch.setenv(store.STORE_ENV, str(root))
    out = tmp_path / "site" / "models"
    out.mkdir(parents=True)  # empty: allowed
    assert main(["publish", str(out)]) == 0
    assert main(["publish", str(out)]) == 0  # a previous publication: replaced
    manifest = json.loads((out / published.MANIFEST).read_text())
    assert set(manifest["models"]) == {first.path.name}
    for path in [out, *out.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o755 if path.is_dir() else 0o644), (path, oct(mode))
    (out / "README.txt").write_text("mine")  # now it is not only a publication
    assert "not a published store" in _publish_error(["publish", str(out)], capsys)
    assert (out / "README.txt").read_text() == "mine"
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]


def test_stored_models_are_readable_by_others(trained_store):
    first, root = trained_store
    old = os.umask(0o022)
    os.umask(old)
    if old & 0o044:
        pytest.skip("this umask hides files from others anyway")
    for path in [first.path, *first.path.iterdir()]:
        assert stat.S_IMODE(path.stat().st_mode) & 0o044 == 0o044, path


# --- the store: every malformed model is a StoreError, and retrained -----------------------


@pytest.mark.parametrize(
    "spoil",
    [
        lambda t: {**t, "seconds": "fast"},
        lambda t: {k: v for k, v in t.items() if k != "history"},
        lambda t: {**t, "history": [1, 2]},
        lambda t: [t],
    ],
    ids=["seconds not a number", "no history", "history a list", "not an object"],
)
def test_a_malformed_training_record_is_a_store_error_and_retrained(
    spoil, trained_store, toy_data
):
    first, root = trained_store
    record = first.path / store.TRAINING
    record.write_text(json.dumps(spoil(json.loads(record.read_text()))))
    with pytest.raises(store.StoreError, match=store.TRAINING):
        store.load(first.path)
    with pytest.warns(store.StoreWarning, match="retraining it"):
        again = store.load_or_train(TINY, root=root, dataset=toy_data)
    assert not again.from_store and store.load(first.path).from_store


def test_an_edited_config_is_not_trusted(
    trained_store, toy_data, tmp_path, monkeypatch, capsys
):
    first, root = trained_store
    config = json.loads((first.path / store.CONFIG).read_text())
    config["lr"] = 0.5
    (first.path / store.CONFIG).write_text(json.dumps(config))
    with pytest.warns(store.StoreWarning, match="edited"):
        again = store.load_or_train(TINY, root=root, dataset=toy_data)
    assert again.config == TINY and not again.from_store
    assert store.current(root) == [
        first.path
    ]  # retrained in place, and publishable again


def test_install_keeps_a_valid_copy_another_process_stored_first(
    trained_store, tmp_path, monkeypatch
):
    first, root = trained_store
    tmp = tmp_path / "mine"
    shutil.copytree(first.path, tmp)
    (tmp / "marker").write_text("")
    before = _tree(first.path)
    # Another process stores its copy between our removal of the old folder and our move.
    monkeypatch.setattr(store.shutil, "rmtree", lambda *args, **kwargs: None)
    store._install(tmp, first.path, first.key)
    assert _tree(first.path) == before  # theirs is kept, no error
    (first.path / store.WEIGHTS).write_bytes(b"damaged")
    with pytest.raises(
        OSError
    ):  # theirs is damaged and cannot be replaced: not trusted
        store._install(tmp, first.path, first.key)


# --- read-only folders and full disks (subprocesses) ---------------------------------------


def test_a_read_only_store_with_a_damaged_model_still_gives_the_model(
    trained_store, tmp_path
):
    first, root = trained_store
    weights = first.path / store.WEIGHTS
    weights.write_bytes(weights.read_bytes()[:100])  # damaged
    _read_only(root)
    before = _tree(root)
    done = _run(
        f"""
        import warnings
        warnings.simplefilter("ignore")
        got = store.load_or_train(TINY, root={str(root)!r}, dataset=synthetic_dataset())
        print(got.from_store, got.history["test_accuracy"][-1] > 0.5)
        """,
        unprivileged=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]
    assert "cannot be written" in done.stderr and "will not be kept" in done.stderr
    assert _tree(root) == before  # nothing written, nothing left half-written


def test_train_out_into_a_read_only_folder(trained_store, tmp_path):
    _, root = trained_store
    out = tmp_path / "out"
    out.mkdir()
    _read_only(out)
    done = _run(
        f"sys.exit(main(['train', 'tiny', '--out', {str(out)!r}, '--quiet']))",
        unprivileged=True,
        env={store.STORE_ENV: str(root)},
    )
    assert done.returncode == 2, done.stderr
    assert "cannot be written" in _one_line(done.stderr)
    assert list(out.iterdir()) == []


def test_train_out_onto_a_full_disk_leaves_nothing(trained_store, tmp_path):
    first, root = trained_store
    out = tmp_path / "out"
    size = (first.path / store.WEIGHTS).stat().st_size
    done = _run(
        f"sys.exit(main(['train', 'tiny', '--out', {str(out)!r}, '--quiet']))",
        max_file_bytes=size // 2,
        env={store.STORE_ENV: str(root)},
    )
    assert done.returncode == 2, done.stderr
    assert "cannot be written" in _one_line(done.stderr)
    assert list(out.iterdir()) == []


def test_data_from_onto_a_full_disk_says_so(tmp_path):
    source = tmp_path / "source"
    hashes = make_raw_files(source, compress=True)
    done = _run(
        f"""
        from wbinterp import data
        data.DATASET_FILES["mnist"] = data.DatasetFiles("mnist", "MNIST", {hashes!r}, data.MNIST.classes)
        sys.exit(main(["data", "mnist", "--from", {str(source)!r}]))
        """,
        max_file_bytes=10_000,  # the training images are 47 kB
        env={"WBINTERP_DATA": str(tmp_path / "data")},
    )
    assert done.returncode == 2, done.stderr
    line = _one_line(done.stderr)
    assert "cannot be written" in line and "gzip" not in line
    assert not list((tmp_path / "data").rglob(".*.part"))


# --- a slow, silent or hostile server --------------------------------------------------------


class _Trickle(http.server.BaseHTTPRequestHandler):
    """Announces a large body, then sends one byte every 0.2 s."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        try:
            for _ in range(1000):
                self.wfile.write(b"{")
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def trickle():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/models/"
    server.shutdown()
    server.server_close()


def test_a_trickling_server_meets_a_total_deadline(trickle):
    start = time.monotonic()
    with pytest.raises(published.FetchError, match="longer than 1 s in all"):
        published.manifest(trickle, timeout=5, deadline=1)
    assert (
        time.monotonic() - start < 3
    )  # each byte came within the per-read timeout of 5 s


def test_a_silent_server_meets_the_timeout():
    listener = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/models/"
        start = time.monotonic()
        with pytest.raises(published.FetchError):
            published.manifest(url, timeout=0.5, deadline=5)
        assert time.monotonic() - start < 3
    finally:
        listener.close()


class _Site(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def site(tmp_path, monkeypatch):
    import functools

    folder = tmp_path / "site"
    folder.mkdir()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Site, directory=str(folder))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/models/"
    monkeypatch.setenv(published.URL_ENV, url)
    yield folder, url
    server.shutdown()
    server.server_close()


def test_a_malformed_manifest_entry_is_refused_and_the_rest_fetched(
    site, trained_store, tmp_path, monkeypatch, capsys
):
    (folder, _url), (first, root) = site, trained_store
    store.publish(folder / "models", root)
    manifest_file = folder / "models" / published.MANIFEST
    manifest = json.loads(manifest_file.read_text())
    good = manifest["models"][first.path.name]
    name = first.path.name
    manifest["models"] = {
        "a-files-list": {"files": ["model.safetensors"]},
        "b-no-bytes": {"files": {"model.safetensors": {"sha256": "0" * 64}}},
        "c" * 300: good,
        name: good,
    }
    manifest_file.write_text(json.dumps(manifest))
    reader = tmp_path / "reader"
    monkeypatch.setenv(store.STORE_ENV, str(reader))
    assert main(["fetch"]) == 0
    captured = capsys.readouterr()
    assert "fetched 1 models" in captured.out
    refused = captured.err.splitlines()
    assert len(refused) == 3 and all(line.startswith("refused ") for line in refused), (
        refused
    )
    assert (
        "lists no files" in refused[0]
        and "size in bytes" in refused[1]
        and "longer than" in refused[2]
    )
    assert store.load(reader / name).config == TINY
    assert not [p for p in reader.iterdir() if p.name.startswith(".")]


def test_two_fetches_into_one_store_at_once(site, trained_store, tmp_path):
    (folder, url), (first, root) = site, trained_store
    store.publish(folder / "models", root)
    reader = tmp_path / "reader"
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        published.URL_ENV: url,
        store.STORE_ENV: str(reader),
    }
    code = PRELUDE + "sys.exit(main(['fetch']))"
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outcomes = [(run.wait(timeout=120), run.stderr.read().decode()) for run in runs]
    assert all(rc == 0 for rc, _ in outcomes), outcomes
    assert store.load(reader / first.path.name).config == TINY
    assert not [p for p in reader.iterdir() if p.name.startswith(".")]


def test_fetch_into_a_read_only_store_says_so_once(site, trained_store, tmp_path):
    (folder, url), (_first, root) = site, trained_store
    store.publish(folder / "models", root)
    reader = tmp_path / "reader"
    reader.mkdir()
    _read_only(reader)
    done = _run(
        "sys.exit(main(['fetch']))",
        unprivileged=True,
        env={published.URL_ENV: url, store.STORE_ENV: str(reader)},
    )
    assert done.returncode == 1
    assert "cannot be written" in _one_line(done.stderr)


def test_files_cannot_write_tells_a_read_only_folder(tmp_path):
    assert files.cannot_write(tmp_path) is None
    done = _run(
        f"from wbinterp import files; print(files.cannot_write(__import__('pathlib').Path({str(tmp_path)!r})))",
        unprivileged=True,
    )
    assert done.stdout.strip() == "None"
    _read_only(tmp_path)
    done = _run(
        f"from wbinterp import files; print(files.cannot_write(__import__('pathlib').Path({str(tmp_path)!r})))",
        unprivileged=True,
    )
    assert done.stdout.strip() == "Permission denied", done.stderr


def test_a_damaged_download_target_is_never_trusted(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    save_file({}, str(bad / store.WEIGHTS))
    with pytest.raises(store.StoreError):
        store.load(bad)
