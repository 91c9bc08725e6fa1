# Two commands do everything on a fresh machine (see README.md):
#   make book   # create .venv if needed, install requirements.txt, build _build/html
#   make test   # same set-up, then pytest
PYTHON  ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
# The book keeps its data and trained models in the repository (the library alone uses
# the user's folders, see wbinterp.data.data_dir): every command below runs with these.
export WBINTERP_DATA ?= $(CURDIR)/data
export WBINTERP_STORE ?= $(CURDIR)/_store
# Warnings are errors: a failing cell or a broken reference fails the build.
JB_FLAGS ?= -n -W --keep-going

.PHONY: book book-published book-student test lint format data pdf clean-book clean benchmark browser-check assignments assignments-check grade publish

$(STAMP): requirements.txt code/pyproject.toml book/_ext/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

# jupyter-book, after dropping executed outputs that a change to the package made stale
# (trained models stay in _store/): see book/_ext/wbbook/build.py.
book: $(STAMP)
	$(BIN)/python -m wbbook.build $(JB_FLAGS)

# A local builder's first build: every model the site publishes is downloaded (and
# checked) into _store/ first, so the chapters only train what the site lacks.
book-published: $(STAMP)
	$(BIN)/python -m wbbook.build --from-published $(JB_FLAGS)

# The student edition: the same book with the solutions left out, in _build/student/_build/html.
# It shares the book's execution cache, so after `make book` it only re-renders.
book-student: $(STAMP)
	$(BIN)/python -m wbbook.build --student $(JB_FLAGS)

# Static checks: ruff (lint and layout), mypy (types), import-linter (the layers in
# code/pyproject.toml). All configured in code/pyproject.toml.
LINTED := code tests benchmarks book/_ext
lint: $(STAMP)
	$(BIN)/ruff check --config code/pyproject.toml $(LINTED)
	$(BIN)/ruff format --check --config code/pyproject.toml $(LINTED)
	$(BIN)/mypy --config-file code/pyproject.toml code/wbinterp book/_ext/wbbook
	$(BIN)/lint-imports --config code/pyproject.toml

# Fix what ruff can fix, and lay the code out as ruff formats it.
format: $(STAMP)
	$(BIN)/ruff check --fix --config code/pyproject.toml $(LINTED)
	$(BIN)/ruff format --config code/pyproject.toml $(LINTED)

test: lint
	$(BIN)/python -m pytest

# Load every page of the built site in headless Chromium (Debian's chromium package),
# auditing each with axe-core (from npm, as package-lock.json pins it).
AXE := node_modules/axe-core/axe.min.js
$(AXE): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

browser-check: $(STAMP) $(AXE)
	$(BIN)/python -m wbbook.browser_check _build/html --screenshots _build/screenshots

# The course in a box: each chapter's student notebook and otter-grader's material in
# _build/assignments/<chapter>/{student,autograder}; then grade a folder of submissions.
assignments: $(STAMP)
	$(BIN)/python -m wbbook.assignments write --out _build/assignments

# The book's own solutions, graded: every question must get full marks.
assignments-check: assignments
	$(BIN)/python -m wbbook.assignments references --assignments _build/assignments

grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=DIR (a folder of student notebooks)" >&2; exit 2; }
	$(BIN)/python -m wbbook.assignments grade "$(SUBMISSIONS)" --assignments _build/assignments

# Every model of the store that today's code uses, beside the built site (what a reader's
# chapter fetches), with a manifest of the files' SHA-256.
publish: $(STAMP)
	$(BIN)/python -m wbinterp publish _build/html/models

benchmark: $(STAMP)
	$(BIN)/python benchmarks/run.py

# The whole book as one PDF, _build/pdf/book.pdf: one HTML page printed by Chromium
# (Debian's chromium if installed, else run `.venv/bin/playwright install chromium` once).
pdf: $(STAMP)
	$(BIN)/python -m wbbook.build --pdf $(JB_FLAGS)

clean-book:
	rm -rf _build

clean: clean-book
	rm -rf _store
