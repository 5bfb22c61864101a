# The two commands of the README. Everything runs in ./.venv, made here on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SOURCES ?= $(or $(TASKSHIFT_SOURCES),../shared/sources)
DB := dist/taskshift.db
HOST ?= 127.0.0.1
PORT ?= 8001
# pip's output is kept in .venv/install.log; the terminal gets one line per package (no warnings noise).
PIP_SHOWN := ^(Collecting|Processing|Building|Installing|Successfully|ERROR)

.PHONY: serve test build rebuild install bench clean

$(BIN)/taskshift: pyproject.toml
	@echo "make: installing taskshift and its dependencies into $(VENV) (first run: 1-3 min; full log in $(VENV)/install.log)"
	$(PYTHON) -m venv $(VENV)
	@{ $(BIN)/pip install --upgrade pip && $(BIN)/pip install -e '.[test]'; echo $$? > $(VENV)/install.rc; } 2>&1 \
		| tee $(VENV)/install.log | grep --line-buffered -E '$(PIP_SHOWN)' | cut -c1-120; \
	rc=$$(cat $(VENV)/install.rc); \
	if [ "$$rc" != 0 ]; then tail -n 40 $(VENV)/install.log; echo "make: pip install failed (exit $$rc); see $(VENV)/install.log"; exit $$rc; fi
	touch $@

install: $(BIN)/taskshift

# Builds only when an input changed (manifest, raw files, code, schema, curated data, --release, the
# Python environment): `taskshift build --if-changed` compares them with dist/taskshift.db.inputs.json.
build: install
	$(BIN)/taskshift build --if-changed --sources $(SOURCES) --out $(DB)

rebuild: install
	$(BIN)/taskshift build --sources $(SOURCES) --out $(DB)

serve: build
	$(BIN)/taskshift serve $(DB) --host $(HOST) --port $(PORT)

test: install
	TASKSHIFT_SOURCES=$(SOURCES) $(BIN)/pytest -q

bench: build
	$(BIN)/python bench/build.py --sources $(SOURCES)
	$(BIN)/python bench/queries.py --db $(DB)

clean:
	rm -rf dist $(VENV)
