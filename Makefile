# segchain: the whole set-up is `make demo` and `make test` (see README).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SEG    := $(BIN)/segchain
STAMP  := $(VENV)/.installed-stamp
DATA   := sample_data
OUT    := out

.PHONY: install demo test lint typecheck bench clean sample

install: $(STAMP)

# Re-install only when the package definition changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,dask]'
	touch $(STAMP)

# ---- the demo: every stage on sample_data/, with real file targets -------------------------
demo: $(OUT)/orders.parquet
	@echo "demo outputs are in $(OUT)/"

$(OUT):
	mkdir -p $(OUT)

$(OUT)/orders.parquet: $(DATA)/orders.csv $(STAMP) | $(OUT)
	$(SEG) validate $(DATA)/orders.csv --rejects $(OUT)/rejects.csv -o $@

# Regenerate the committed sample (deterministic: the same bytes every time).
sample: $(STAMP)
	$(SEG) sample -o $(DATA)

# ---- checks -------------------------------------------------------------------------------
lint: $(STAMP)
	$(BIN)/ruff check segchain tests
	$(BIN)/ruff format --check segchain tests

typecheck: $(STAMP)
	$(BIN)/mypy segchain

# pytest exits 5 when it collected no test: that is a failure here, not silence.
test: lint
	$(BIN)/python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests" >&2; exit 1; fi; exit $$rc

bench: $(STAMP)
	$(BIN)/python -m pytest tests/benchmarks -m bench -s -p no:cacheprovider -o addopts="" \
		-o python_files="bench_*.py test_*.py"

clean:
	rm -rf $(OUT) .pytest_cache .ruff_cache .mypy_cache
