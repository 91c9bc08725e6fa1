"""The code fingerprint: what the code does, not how it is written or documented."""

from __future__ import annotations

from wbinterp.hashing import sha256_code

BASE = '''"""Module."""


def step(x, lr=1e-3):
    """Docstring."""
    return x - lr * x
'''


def _fingerprint(tmp_path, text: str) -> str:
    path = tmp_path / "train.py"
    path.write_text(text)
    return sha256_code([path])


def test_layout_comments_docstrings_and_annotations_do_not_count(tmp_path):
    base = _fingerprint(tmp_path, BASE)
    reworded = BASE.replace(
        "Docstring.", "Another docstring,\n    on two lines."
    ).replace("Module.", "")
    commented = reworded.replace("    return", "    # why this step\n\n    return")
    assert _fingerprint(tmp_path, commented) == base
    no_docstrings = "def step(x, lr=1e-3):\n    return (x - lr * x)  # same tree\n"
    assert _fingerprint(tmp_path, no_docstrings) == base
    typed = "def step(x: Tensor, lr: float = 1e-3) -> Tensor:\n    scale: float = lr\n    return x - scale * x\n"
    retyped = "def step(x: ndarray, lr: int = 1e-3):\n    scale: object = lr\n    return x - scale * x\n"
    assert _fingerprint(tmp_path, typed) == _fingerprint(tmp_path, retyped)


def test_statements_values_names_and_later_strings_count(tmp_path):
    base = _fingerprint(tmp_path, BASE)
    for edited in (
        BASE.replace("1e-3", "2e-3"),
        BASE.replace("x - lr", "x + lr"),
        BASE.replace("step", "update"),
        BASE.replace(
            "    return", '    "a string after the docstring is code"\n    return'
        ),
    ):
        assert _fingerprint(tmp_path, edited) != base


def test_the_file_name_counts(tmp_path):
    (tmp_path / "a.py").write_text(BASE)
    (tmp_path / "b.py").write_text(BASE)
    assert sha256_code([tmp_path / "a.py"]) != sha256_code([tmp_path / "b.py"])
