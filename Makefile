# segchain: the whole set-up is `make demo` and `make test` (see README).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SEG    := $(BIN)/segchain
STAMP  := $(VENV)/.installed-stamp
DATA   := sample_data
OUT    := out

.PHONY: install demo test lint typecheck bench fuzz clean sample

install: $(STAMP)

# Re-install only when the package definition changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,dask]'
	touch $(STAMP)

# ---- the demo: every stage on sample_data/, with real file targets -------------------------
# `make -j2 demo` runs independent stages in parallel; a second `make demo` rebuilds nothing.
CONFIG := $(DATA)/segchain.toml
# Every output is remade when segchain's code or this Makefile (a recipe) changes, as after
# pulling a new release: out/ must not keep the outputs of the last release's stages or recipes.
# The Makefile's own folder as it was named: ./ for `make demo` in the checkout (make splits
# an absolute path at a space: a checkout in "~/My Projects/segchain" failed at once, "No rule
# to make target"), the folder given for `make -f DIR/Makefile` run from elsewhere.
HERE := $(dir $(lastword $(MAKEFILE_LIST)))
CODE := $(HERE)Makefile $(shell find $(HERE)segchain -name '*.py' 2>/dev/null)
REPORT_INPUTS := $(OUT)/orders.parquet $(OUT)/segments.parquet $(OUT)/segment_profile.csv $(OUT)/forecast.parquet \
	$(OUT)/backtest.csv $(OUT)/policy.parquet $(OUT)/assignments.parquet $(OUT)/sites.csv \
	$(OUT)/costs.parquet $(OUT)/customer_costs.parquet $(OUT)/stock_segments.parquet

demo: $(OUT)/report.html
	@echo "demo done: open $(OUT)/report.html"

# segchain writes each output whole or not at all, so make's own clean-up on Ctrl-C or SIGTERM
# is never needed, and for a grouped target it deleted the previous run's other outputs
# (out/backtest.csv, out/segment_profile.csv) though segchain left them untouched. The
# interrupted group is still remade on the next run (its first target is older than its inputs).
.PRECIOUS: $(OUT)/segment_profile.csv $(OUT)/sites.csv $(OUT)/backtest.csv \
	$(OUT)/stock_segments.parquet

$(OUT)/.dir:
	mkdir -p $(OUT) && touch $@

$(OUT)/orders.parquet: $(DATA)/orders.csv $(STAMP) $(CODE) | $(OUT)/.dir
	$(SEG) validate $(DATA)/orders.csv --rejects $(OUT)/rejects.csv -o $@

$(OUT)/segments.parquet $(OUT)/segment_profile.csv &: $(OUT)/orders.parquet $(STAMP) $(CODE)
	$(SEG) segment $(OUT)/orders.parquet --clv --profile $(OUT)/segment_profile.csv \
		-o $(OUT)/segments.parquet

# The closed chain: network decides which site serves which customer; forecast routes each
# customer's demand to its site(s) (site x segment x sku); stock plans per site with the items'
# per-site lead times, each site's on-hand (stock where no demand is routed stays in the
# policy, flagged no_demand: to move or clear) and the order history routed the same way (the
# bootstrap of each point's own demand, not of the warehouse that shipped it in the past).
$(OUT)/assignments.parquet $(OUT)/sites.csv &: $(OUT)/segments.parquet $(DATA)/sites.csv $(CONFIG) \
		$(CODE)
	$(SEG) network $(OUT)/segments.parquet --sites $(DATA)/sites.csv --config $(CONFIG) \
		--sites-out $(OUT)/sites.csv -o $(OUT)/assignments.parquet

$(OUT)/forecast.parquet $(OUT)/backtest.csv &: $(OUT)/segments.parquet $(OUT)/orders.parquet \
		$(OUT)/assignments.parquet $(CODE)
	$(SEG) forecast $(OUT)/segments.parquet --orders $(OUT)/orders.parquet \
		--assignments $(OUT)/assignments.parquet --backtest $(OUT)/backtest.csv \
		-o $(OUT)/forecast.parquet

$(OUT)/policy.parquet $(OUT)/stock_segments.parquet &: $(OUT)/forecast.parquet $(DATA)/items.csv \
		$(DATA)/on_hand.csv $(OUT)/orders.parquet $(OUT)/assignments.parquet $(CONFIG) $(CODE)
	$(SEG) stock $(OUT)/forecast.parquet --items $(DATA)/items.csv --on-hand $(DATA)/on_hand.csv \
		--orders $(OUT)/orders.parquet --assignments $(OUT)/assignments.parquet \
		--config $(CONFIG) --policy RS --review-days 7 --compare-uniform equal \
		--segments-out $(OUT)/stock_segments.parquet -o $(OUT)/policy.parquet

COSTS_INPUTS := $(OUT)/segments.parquet $(OUT)/orders.parquet $(OUT)/policy.parquet \
	$(OUT)/stock_segments.parquet $(OUT)/assignments.parquet $(OUT)/sites.csv $(DATA)/items.csv $(CONFIG) \
	$(CODE)
COSTS_ARGS = $(OUT)/segments.parquet --orders $(OUT)/orders.parquet --policy $(OUT)/policy.parquet \
	--stock-segments $(OUT)/stock_segments.parquet --assignments $(OUT)/assignments.parquet \
	--sites $(OUT)/sites.csv --items $(DATA)/items.csv --config $(CONFIG)

$(OUT)/costs.parquet: $(COSTS_INPUTS)
	$(SEG) costs $(COSTS_ARGS) -o $@

$(OUT)/customer_costs.parquet: $(COSTS_INPUTS)
	$(SEG) costs $(COSTS_ARGS) --by customer --quiet -o $@

$(OUT)/report.html: $(REPORT_INPUTS) $(CODE)
	$(SEG) report $(REPORT_INPUTS) --title "segchain demo: sample_data" -o $@

# Regenerate the committed sample (deterministic: the same bytes every time).
sample: $(STAMP)
	$(SEG) sample -o $(DATA)

# ---- checks -------------------------------------------------------------------------------
lint: $(STAMP)
	$(BIN)/ruff check segchain tests
	$(BIN)/ruff format --check segchain tests
	$(BIN)/mypy segchain

typecheck: $(STAMP)
	$(BIN)/mypy segchain

# pytest exits 5 when it collected no test: that is a failure here, not silence.
test: lint
	$(BIN)/python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests" >&2; exit 1; fi; exit $$rc

bench: $(STAMP)
	$(BIN)/python -m pytest tests/benchmarks -m bench -s -p no:cacheprovider -o addopts="" \
		-o python_files="bench_*.py test_*.py"

# A longer run of the seeded fuzz tests (stage inputs, lane tables, workbooks damaged as files
# are): FUZZ_SEEDS cases per command instead of 10 to 30. Not part of `make test`.
FUZZ_SEEDS ?= 200
fuzz: $(STAMP)
	FUZZ_SEEDS=$(FUZZ_SEEDS) $(BIN)/python -m pytest tests/test_fuzz_stage_inputs.py \
		tests/test_fuzz_workbooks.py -q -p no:cacheprovider

clean:
	rm -rf $(OUT) .pytest_cache .ruff_cache .mypy_cache
