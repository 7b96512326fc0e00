# The two commands of the README: `make demo` (the main job) and `make test` (the suite).
# Each sets up what it needs: the virtual environment, the Python packages and Graphviz's `dot`.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
OUT ?= demo_out

.PHONY: demo test setup dot clean

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

test: setup
	$(BIN)/python -m pytest -n 2 -q

clean:
	rm -rf $(VENV) $(OUT)
