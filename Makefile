# Two entry points (see README): `make demo` and `make test`. Both build .venv from nothing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
OUT    ?= out

.PHONY: setup demo test lint graphviz browser clean

# CPU build of torch first: an unpinned torch would pull a multi-GB CUDA build.
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[train,test]'
	touch $@

# The system `dot` binary renders SVG/PNG; install it when missing and we may (root or sudo).
graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then apt-get update -qq && apt-get install -y -qq graphviz >/dev/null; \
	  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null && command -v apt-get >/dev/null; then sudo apt-get update -qq && sudo apt-get install -y -qq graphviz >/dev/null; \
	  else echo "note: Graphviz 'dot' not found and cannot be installed here; .dot output still works (apt-get install graphviz)"; fi; }

# Headless Chromium and its driver for the browser tests of `archspec serve` (they skip, saying why, without them).
browser:
	@{ command -v chromium >/dev/null 2>&1 && [ -x /usr/bin/chromedriver ]; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null && command -v apt-get >/dev/null; then sudo apt-get update -qq && sudo apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "note: chromium/chromium-driver not found and cannot be installed here; the browser tests will skip"; fi; }

setup: $(BIN)/.installed graphviz

demo: setup
	bash scripts/demo.sh $(OUT)

# Lint first (rules in pyproject.toml), so CI fails fast on a slip.
lint: setup
	$(BIN)/ruff check archspec tests benchmarks

test: setup browser lint
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider

clean:
	rm -rf $(VENV) $(OUT) runs .pytest_cache .hypothesis
