# Two commands do everything on a fresh machine (see README.md):
#   make book   # create .venv if needed, install requirements.txt, build _build/html
#   make test   # same set-up, then pytest
PYTHON  ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
# Warnings are errors: a failing cell or a broken reference fails the build.
JB_FLAGS ?= -n -W --keep-going

.PHONY: book book-student test data pdf clean-book clean benchmark browser-check

$(STAMP): requirements.txt code/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

# The execution cache keys only on a chapter's code cells; drop it when the package changes
# so that every chapter re-runs against the new code (trained models stay in _cache/).
book: $(STAMP)
	$(BIN)/python -m wbinterp.build $(JB_FLAGS)

# The student edition: the same book with the solutions left out, in _build/student/html.
# It shares the book's execution cache, so after `make book` it only re-renders.
book-student: $(STAMP)
	$(BIN)/python -m wbinterp.build --student $(JB_FLAGS)

test: $(STAMP)
	$(BIN)/python -m pytest

# Load every page of the built site in headless Chromium (Debian's chromium package).
browser-check: $(STAMP)
	$(BIN)/python tests/browser_check.py _build/html --screenshots _build/screenshots

benchmark: $(STAMP)
	$(BIN)/python benchmarks/run.py

# The whole book as one PDF, _build/pdf/book.pdf: one HTML page printed by Chromium
# (Debian's chromium if installed, else run `.venv/bin/playwright install chromium` once).
pdf: $(STAMP)
	$(BIN)/python -m wbinterp.build --pdf $(JB_FLAGS)

clean-book:
	rm -rf _build

clean: clean-book
	rm -rf _cache
