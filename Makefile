# The two commands of the README: `make demo` (the main job) and `make test` (the suite).
# Each sets up what it needs: the virtual environment, the Python packages and Graphviz's `dot`.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
OUT ?= demo_out

# Static checks `make test` runs before pytest (each one command; any finding fails the build):
# ruff (lint, import order), mypy (types), lint-imports (the core's layering), docs (the API
# reference: `mkdocs build --strict`). Their configuration is in pyproject.toml and mkdocs.yml.
CHECKS ?= ruff mypy imports docs
RUFF_PATHS ?= graphgrad tests benchmarks examples scripts
RUFF_PENDING ?=

.PHONY: demo test setup dot clean check $(addprefix check-,ruff mypy imports docs)

$(BIN)/activate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,distributed]'
	touch $(BIN)/activate

setup: $(BIN)/activate dot

dot:
	@command -v dot >/dev/null 2>&1 || bash scripts/install_graphviz.sh

demo: setup
	$(BIN)/graphgrad demo --out $(OUT)

test: setup check
	$(BIN)/python -m pytest -n 2 -q

check: $(addprefix check-,$(CHECKS))

check-ruff: setup
	$(BIN)/ruff check --quiet $(RUFF_PATHS) $(foreach f,$(RUFF_PENDING),--extend-exclude $(f))

check-mypy: setup  # configured in pyproject.toml ([tool.mypy]: graphgrad/)
	$(BIN)/mypy

check-imports: setup  # the layering contract in pyproject.toml ([tool.importlinter])
	$(BIN)/lint-imports

check-docs: setup  # the API reference (mkdocs.yml), built to a temporary folder and removed
	site=$$(mktemp -d) && $(BIN)/mkdocs build --strict --quiet --site-dir "$$site"; \
	status=$$?; rm -rf "$$site"; exit $$status

clean:
	rm -rf $(VENV) $(OUT)
