# Two commands do everything (see README.md):
#   make book   -- creates .venv on first use, installs, executes every notebook, builds the site
#   make test   -- lints, builds the book (which executes every notebook once), then runs every
#                  test: unit tests, checks of the executed notebooks, the built site in Chromium
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := book

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MATHJAX_VERSION := 3.2.2
MATHJAX := book/_static/mathjax/tex-chtml.js
# reveal.js (the slides) and axe-core (the accessibility checks), fetched once from npm
REVEAL_VERSION := 5.2.1
AXE_VERSION := 4.10.3
REVEAL := .cache/vendor/reveal.js@$(REVEAL_VERSION)/dist/reveal.js
AXE := .cache/vendor/axe-core@$(AXE_VERSION)/axe.min.js
# the Korean edition's web font (Pretendard, SIL OFL 1.1): the variable font cut into unicode-range
# subsets, so a page downloads only the syllables it shows
PRETENDARD_VERSION := 1.3.9
PRETENDARD := book/_static/fonts/pretendard/pretendardvariable-dynamic-subset.css

# The offline data mirror (byte-identical copies of the datasets). Used when it exists and the
# variable is not already set; readers without it download from the pinned URLs.
MIRROR := $(abspath ../shared/data)
ifneq ($(wildcard $(MIRROR)/MANIFEST.tsv),)
export ATTNBOOK_DATA_MIRROR ?= $(MIRROR)
endif
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: book test venv unit notebooks site lint policy bench robustness clean help preflight system-deps

help:
	@echo "make book   build the book into _build/html (creates $(VENV) on first use)"
	@echo "make test   build the book and run every test (what CI runs)"
	@echo "make unit | notebooks | site | lint | policy | bench | robustness | clean"
	@echo "sudo make system-deps   install Chromium and a Korean font with apt-get (Debian)"

venv: $(STAMP)

$(STAMP): pyproject.toml requirements.txt constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.10+ or run 'make PYTHON=/path/to/python3'" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { echo "error: Python 3.10+ is needed, $(PYTHON) is $$($(PYTHON) --version)" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { echo "error: could not create $(VENV); on Debian/Ubuntu install python3-venv" >&2; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -r requirements.txt \
	  || { echo "error: installing the requirements failed (see above): which package is named there" >&2; exit 1; }
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $@

$(MATHJAX):
	@command -v npm >/dev/null || { echo "error: npm not found: it is needed once to fetch MathJax $(MATHJAX_VERSION) (install Node.js/npm)" >&2; exit 1; }
	@rm -rf .cache/npm && mkdir -p .cache/npm
	npm install --silent --no-audit --no-fund --prefix .cache/npm mathjax@$(MATHJAX_VERSION)
	@rm -rf book/_static/mathjax.tmp && mkdir -p book/_static/mathjax.tmp
	cp -r .cache/npm/node_modules/mathjax/es5/. book/_static/mathjax.tmp/
	@rm -rf book/_static/mathjax && mv book/_static/mathjax.tmp book/_static/mathjax

$(REVEAL) $(AXE):
	@command -v npm >/dev/null || { echo "error: npm not found: it is needed once to fetch reveal.js $(REVEAL_VERSION) and axe-core $(AXE_VERSION) (install Node.js/npm)" >&2; exit 1; }
	@rm -rf .cache/npm-vendor && mkdir -p .cache/npm-vendor .cache/vendor
	npm install --silent --no-audit --no-fund --prefix .cache/npm-vendor reveal.js@$(REVEAL_VERSION) axe-core@$(AXE_VERSION)
	@rm -rf .cache/vendor/reveal.js@$(REVEAL_VERSION) .cache/vendor/axe-core@$(AXE_VERSION)
	cp -r .cache/npm-vendor/node_modules/reveal.js .cache/vendor/reveal.js@$(REVEAL_VERSION)
	cp -r .cache/npm-vendor/node_modules/axe-core .cache/vendor/axe-core@$(AXE_VERSION)

$(PRETENDARD):
	@command -v npm >/dev/null || { echo "error: npm not found: it is needed once to fetch the Korean web font Pretendard $(PRETENDARD_VERSION) (install Node.js/npm)" >&2; exit 1; }
	@rm -rf .cache/npm-font && mkdir -p .cache/npm-font
	cd .cache/npm-font && npm pack --silent pretendard@$(PRETENDARD_VERSION) >/dev/null
	tar -xzf .cache/npm-font/pretendard-$(PRETENDARD_VERSION).tgz -C .cache/npm-font package/dist/web/variable/pretendardvariable-dynamic-subset.css package/dist/web/variable/woff2-dynamic-subset
	@rm -rf book/_static/fonts/pretendard.tmp && mkdir -p book/_static/fonts/pretendard.tmp
	cp -r .cache/npm-font/package/dist/web/variable/. book/_static/fonts/pretendard.tmp/
	@rm -rf book/_static/fonts/pretendard && mv book/_static/fonts/pretendard.tmp book/_static/fonts/pretendard

# before the long pip install: what pip cannot install (npm for the front-end assets, Chromium)
preflight:
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.10+ or run 'make PYTHON=/path/to/python3'" >&2; exit 1; }
	@test -f $(MATHJAX) -a -f $(REVEAL) -a -f $(AXE) -a -f $(PRETENDARD) || command -v npm >/dev/null || { echo "error: npm not found: it is needed once, to fetch MathJax, reveal.js, axe-core and the Korean font (install Node.js and npm, e.g. sudo apt-get install npm)" >&2; exit 1; }
	@$(PYTHON) tools/ensure_chromium.py

# Chromium and a Korean font with apt-get, only when asked (run as root: sudo make system-deps)
system-deps:
	$(PYTHON) tools/ensure_chromium.py --install

# the site, the slides (tools/slides.py), the Colab editions and the PDF (tools/print_book.py)
book: preflight $(STAMP) $(MATHJAX) $(REVEAL) $(PRETENDARD)
	$(BIN)/python tools/build_book.py

unit: $(STAMP)
	$(BIN)/python -m pytest tests -m "not site and not browser"

# checks of the notebooks as the last book build executed them (make book first)
notebooks: $(STAMP)
	$(BIN)/python -m pytest tests/test_executed_notebooks.py

site: preflight $(STAMP) $(AXE)
	$(BIN)/python -m pytest tests -m "site or browser"

test: preflight $(STAMP) $(MATHJAX) $(REVEAL) $(AXE) $(PRETENDARD)
	$(BIN)/ruff check src tests tools book/_ext benchmarks
	$(BIN)/python tools/nbpolicy.py --check notebooks
	$(BIN)/python tools/build_book.py
	$(BIN)/python -m pytest tests

lint: $(STAMP)
	$(BIN)/ruff check src tests tools book/_ext benchmarks
	$(BIN)/python tools/nbpolicy.py --check notebooks

policy: $(STAMP)
	$(BIN)/python tools/nbpolicy.py --apply notebooks

# the robustness sweep: every notebook under nbval at seed offsets 1 and 2 (not part of `make test`:
# it costs two book builds); writes _build/robustness/report.md. OFFSETS="1 2 3" or NOTEBOOKS=... to narrow.
OFFSETS ?= 1 2
NOTEBOOKS ?=
robustness: $(STAMP)
	$(BIN)/python tools/robustness.py $(NOTEBOOKS) --offsets $(OFFSETS)

bench: $(STAMP)
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf _build .pytest_cache
