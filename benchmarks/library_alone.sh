#!/usr/bin/env bash
# The library stands alone: `pip install ./code` into a fresh virtual environment outside
# the repository, then, from another folder, one chapter's analysis (chapter 4's
# truncation curve) on a model exported from the store, with no variable pointing into
# the repository but the data folder. Run from the repository's root after `make book`:
#   bash benchmarks/library_alone.sh
set -euo pipefail
repo=$(pwd)
work=$(mktemp -d /tmp/wbinterp-alone.XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "$repo/code"
# the model a chapter uses, as `python -m wbinterp train --out` exports it
WBINTERP_DATA="$repo/data" WBINTERP_STORE="$repo/_store" WBINTERP_MODELS_URL= \
  "$repo/.venv/bin/python" -m wbinterp train book --quiet --out "$work/book"
cd "$work"
env -u WBINTERP_STORE -u WBINTERP_MODELS_URL WBINTERP_DATA="$repo/data" "$work/venv/bin/python" - "$work/book" <<'PY'
import sys
from pathlib import Path

import wbinterp
from wbinterp import bilinear, data, store

assert "site-packages" in wbinterp.__file__, wbinterp.__file__  # installed, not the checkout
mnist = data.load("mnist")
model = store.load(Path(sys.argv[1])).model
spec = bilinear.spectrum(model.interaction_matrices())
h = model.embed(mnist.test.images)
accuracy = bilinear.truncation_accuracy(spec, h, mnist.test.labels, [1, 10, 512])
print(f"wbinterp from {Path(wbinterp.__file__).parent}")
print(f"store default {store.store_dir()}")
print("truncation accuracy:", {k: round(v, 4) for k, v in accuracy.items()})
PY
