# crm-workbench: `make report` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# The language of `make lab`: `make lab LANG=es` (a Spanish system locale, es_ES..., also works).
EDITION_LANG := $(if $(filter es%,$(LANG)),es,en)

.PHONY: report test lab lab-solutions data lint bench clean student

# The environment: created on first use, reinstalled when pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,spark]"
	touch $(STAMP)

## data: rebuild the sample datasets and the data dictionary
data: $(STAMP)
	$(BIN)/crmkit samples data/samples --extracts data/extracts/boutique \
		--shopify data/examples/shopify
	$(BIN)/crmkit dictionary --out data/README.md

## report: environment, data, then every notebook rendered to reports/<profile>/<lang>/
report: data
	$(BIN)/crmkit report --lang en --lang es

## test: lint, types (mypy), unit tests, doctests, notebook runs and (where Chromium is
## installed) the browser test; -rfEs lists every failed, erroring and skipped test (skips
## with their reason). Then nbval runs every cell of the four notebooks at their committed
## defaults, in order in one kernel (so in its own command, not spread over the xdist
## workers); about 40 s
test: $(STAMP)
	$(BIN)/ruff check crmkit tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest -n 2 --dist worksteal -q -rfEs
	$(BIN)/python -m pytest --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg -q notebooks/

## lab: the student edition in JupyterLab, in one language (make lab LANG=es; a Spanish
## system locale also picks Spanish). Written to student/<lang>/ the first time; notebooks you
## changed there are kept as they are.
lab: $(STAMP)
	$(BIN)/crmkit student --out student --lang $(EDITION_LANG) --keep
	$(BIN)/jupyter lab student/$(EDITION_LANG)/

## lab-solutions: for instructors, the notebooks with their solutions, in one language
lab-solutions: $(STAMP)
	$(BIN)/crmkit edition --lang $(EDITION_LANG) --out editions/$(EDITION_LANG)
	$(BIN)/jupyter lab editions/$(EDITION_LANG)/

## student: the student edition of every notebook (solutions removed) in student/en and
## student/es; refuses to replace a notebook changed there (crmkit student --force to replace it)
student: $(STAMP)
	$(BIN)/crmkit student --out student --lang en --lang es

lint: $(STAMP)
	$(BIN)/ruff check crmkit tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/python -m mypy

## bench: speed and memory of the generator, the warehouse, the importers and the customer
## models, each against its baseline (many minutes) -> benchmarks/README.md
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_synth.py
	$(BIN)/python benchmarks/bench_warehouse.py
	$(BIN)/python benchmarks/bench_import.py
	$(BIN)/python benchmarks/bench_analytics.py
	$(BIN)/python benchmarks/bench_mining.py

clean:
	rm -rf $(VENV) reports student editions .pytest_cache
