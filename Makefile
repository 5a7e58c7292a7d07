# crm-workbench: `make report` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: report test lab data lint bench clean student

# The environment: created on first use, reinstalled when pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

## data: rebuild the sample datasets and the data dictionary
data: $(STAMP)
	$(BIN)/crmkit samples data/samples --extracts data/extracts/boutique \
		--shopify data/examples/shopify
	$(BIN)/crmkit dictionary --out data/README.md

## report: environment, data, then every notebook rendered to reports/<profile>/<lang>/
report: data
	$(BIN)/crmkit report --lang en --lang es

## test: lint, unit tests, doctests and notebook runs
test: $(STAMP)
	$(BIN)/ruff check crmkit tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n 2 -q

## lab: open the notebooks in JupyterLab
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

## student: the student edition of every notebook (solutions removed) in student/
student: $(STAMP)
	$(BIN)/crmkit student --out student

lint: $(STAMP)
	$(BIN)/ruff check crmkit tests benchmarks
	$(BIN)/lint-imports

## bench: speed and memory of the generator and the warehouse (several minutes)
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_synth.py
	$(BIN)/python benchmarks/bench_warehouse.py

clean:
	rm -rf $(VENV) reports student .pytest_cache
