"""The published store: publish a local store, fetch from a loopback server, refuse what
does not check out (offline, not published, corrupted, another config), and train then."""

from __future__ import annotations

import functools
import http.server
import json
import threading

import pytest
import torch

from wbinterp import published, store
from wbinterp.__main__ import main
from wbinterp.models import ModelConfig
from wbinterp.train import TrainConfig

TINY = TrainConfig(
    model=ModelConfig(d_hidden=8),
    epochs=1,
    batch_size=64,
    lr=1e-2,
    weight_decay=0.0,
    input_noise=0.0,
)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A loopback HTTP server over ``tmp_path/site``; the published store is its ``models/``."""
    folder = tmp_path / "site"
    folder.mkdir()
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv(
        published.URL_ENV, f"http://127.0.0.1:{server.server_address[1]}/models/"
    )
    yield folder
    server.shutdown()
    server.server_close()


@pytest.fixture
def trained(tmp_path, toy_data, monkeypatch):
    """A local store holding one trained model (made with the published store off)."""
    monkeypatch.setattr(store.data_mod, "load", lambda name: toy_data)
    root = tmp_path / "trained"
    return store.load_or_train(TINY, root=root, dataset=toy_data), root


def _never_train(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("trained although a published copy should have been used")

    monkeypatch.setattr(store.train_mod, "train", fail)


def test_publish_then_fetch_gives_the_same_model(
    site, trained, tmp_path, toy_data, monkeypatch, capsys
):
    first, root = trained
    assert store.publish(site / "models", root) == [first.path]
    manifest = json.loads((site / "models" / published.MANIFEST).read_text())
    assert set(manifest["models"]) == {first.path.name}
    _never_train(monkeypatch)
    fetched = store.load_or_train(TINY, root=tmp_path / "reader", dataset=toy_data)
    assert fetched.from_store and fetched.path == tmp_path / "reader" / first.path.name
    x = toy_data.test.images
    torch.testing.assert_close(fetched.model(x), first.model(x), rtol=0, atol=0)
    assert "fetched" in capsys.readouterr().err
    assert not [
        p for p in (tmp_path / "reader").iterdir() if p.name.startswith(".")
    ]  # nothing half-written
    # the next call loads the local copy: no download
    monkeypatch.setenv(published.URL_ENV, "http://127.0.0.1:9/unused/")
    assert store.load_or_train(
        TINY, root=tmp_path / "reader", dataset=toy_data
    ).from_store


def test_a_stale_model_is_not_published(site, trained, monkeypatch):
    first, root = trained
    stale = root / "mnist-bilinear8-0000000000000000"
    stale.mkdir()
    for f in first.path.iterdir():
        (stale / f.name).write_bytes(f.read_bytes())
    assert store.current(root) == [first.path]


def _refused(tmp_path, toy_data, capsys, reason):
    again = store.load_or_train(TINY, root=tmp_path / "reader", dataset=toy_data)
    err = capsys.readouterr().err
    assert not again.from_store and reason in err and "wbinterp: training" in err
    assert not [p for p in (tmp_path / "reader").iterdir() if p.name.startswith(".")]
    return err


def test_a_model_not_yet_published_is_trained(
    site, trained, tmp_path, toy_data, capsys
):
    published.publish([], site / "models")
    _refused(tmp_path, toy_data, capsys, "is not published at")


def test_a_corrupted_download_is_refused(site, trained, tmp_path, toy_data, capsys):
    first, root = trained
    store.publish(site / "models", root)
    weights = site / "models" / first.path.name / store.WEIGHTS
    raw = bytearray(weights.read_bytes())
    raw[-1] ^= 0xFF
    weights.write_bytes(bytes(raw))
    _refused(tmp_path, toy_data, capsys, "corrupted download")


def test_a_published_copy_of_another_config_is_refused(
    site, trained, tmp_path, toy_data, capsys
):
    first, root = trained
    store.publish(site / "models", root)
    folder = site / "models" / first.path.name
    config = json.loads((folder / store.CONFIG).read_text())
    config["lr"] = (
        0.5  # a different recipe under the same name, with a manifest to match
    )
    (folder / store.CONFIG).write_text(json.dumps(config))
    manifest = site / "models" / published.MANIFEST
    entry = json.loads(manifest.read_text())
    entry["models"][first.path.name]["files"][store.CONFIG] = {
        "sha256": published.sha256_file(folder / store.CONFIG),
        "bytes": (folder / store.CONFIG).stat().st_size,
    }
    manifest.write_text(json.dumps(entry))
    _refused(tmp_path, toy_data, capsys, "made by another config")


def test_offline_the_model_is_trained(tmp_path, toy_data, capsys, monkeypatch):
    monkeypatch.setenv(
        published.URL_ENV, "http://127.0.0.1:9/models/"
    )  # nothing listens on port 9
    (tmp_path / "reader").mkdir()
    _refused(tmp_path, toy_data, capsys, "cannot reach")


def test_turned_off_nothing_is_downloaded(tmp_path, toy_data, capsys):
    assert (
        published.models_url() is None
    )  # the tests' default: WBINTERP_MODELS_URL is empty
    store.load_or_train(TINY, root=tmp_path / "reader", dataset=toy_data)
    assert "published" not in capsys.readouterr().err


def test_the_package_knows_no_site_the_address_is_passed_in(monkeypatch):
    monkeypatch.delenv(published.URL_ENV)
    assert published.models_url() is None
    monkeypatch.setenv(published.URL_ENV, " https://example.org/book/models/ ")
    assert published.models_url() == "https://example.org/book/models/"


def test_unsafe_names_in_a_manifest_are_refused(site, tmp_path):
    (site / "models").mkdir()
    (site / "models" / published.MANIFEST).write_text(
        json.dumps(
            {"format": published.MANIFEST_FORMAT, "models": {"../evil": {"files": {}}}}
        )
    )
    with pytest.raises(published.FetchError, match="unsafe path"):
        with published.download("../evil", published.models_url(), tmp_path / "into"):
            pass
    (site / "models" / published.MANIFEST).write_text("not json")
    with pytest.raises(published.FetchError, match="not a manifest"):
        published.manifest(published.models_url())


def test_cli_publish_then_fetch_all(site, trained, tmp_path, monkeypatch, capsys):
    first, root = trained
    monkeypatch.setenv(store.STORE_ENV, str(root))
    assert main(["publish", str(site / "models")]) == 0
    assert "published 1 models" in capsys.readouterr().out
    reader = tmp_path / "binder-store"
    monkeypatch.setenv(store.STORE_ENV, str(reader))
    assert main(["fetch"]) == 0
    assert "fetched 1 models" in capsys.readouterr().out
    assert store.load(reader / first.path.name).config == TINY
    assert main(["fetch"]) == 0  # already there: nothing to do
    assert "fetched 0 models" in capsys.readouterr().out
    monkeypatch.setenv(published.URL_ENV, "")
    assert main(["fetch"]) == 1
    assert "no published store is set" in capsys.readouterr().err


def test_the_book_passes_its_sites_address_in(tmp_path):
    from wbbook import build

    config = tmp_path / "_config.yml"
    config.write_text("html:\n  baseurl: https://example.org/book/\n")
    assert build.site_models_url(config) == "https://example.org/book/models/"
    assert build.site_models_url(tmp_path / "missing.yml") is None


def test_a_build_from_published_fetches_every_model_first(
    site, trained, tmp_path, monkeypatch, capsys
):
    from wbbook import build

    first, root = trained
    store.publish(site / "models", root)
    monkeypatch.setenv(store.STORE_ENV, str(tmp_path / "first-build"))
    url = published.models_url()
    monkeypatch.setenv(
        published.URL_ENV, ""
    )  # the address is passed in, as from _config.yml
    assert build.fetch_published_models(url) == 1
    assert "fetched 1 published models" in capsys.readouterr().out
    assert store.load(tmp_path / "first-build" / first.path.name).config == TINY
    assert build.fetch_published_models("http://127.0.0.1:9/offline/") == 0
    assert "no published models fetched (cannot reach" in capsys.readouterr().err


def test_a_machine_without_the_published_precision_still_uses_it(
    site, tmp_path, toy_data, monkeypatch
):
    from wbinterp import precision

    monkeypatch.setattr(store.data_mod, "load", lambda name: toy_data)
    made = store.load_or_train(
        TINY, root=tmp_path / "site-store", dataset=toy_data, precision="bfloat16"
    )
    store.publish(site / "models", tmp_path / "site-store")
    monkeypatch.setattr(precision, "_machine_default", lambda device_type: "float32")
    _never_train(monkeypatch)
    fetched = store.load_or_train(TINY, root=tmp_path / "reader", dataset=toy_data)
    assert (
        fetched.from_store
        and fetched.precision == "bfloat16"
        and fetched.path.name == made.path.name
    )
