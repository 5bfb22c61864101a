# The two commands of the README. Everything runs in ./.venv, made here on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SOURCES ?= $(or $(TASKSHIFT_SOURCES),../shared/sources)
DB := dist/taskshift.db

.PHONY: serve test build install bench clean

$(BIN)/taskshift: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/taskshift

build: install
	$(BIN)/taskshift build --sources $(SOURCES) --out $(DB)

serve: build
	$(BIN)/taskshift serve $(DB)

test: install
	TASKSHIFT_SOURCES=$(SOURCES) $(BIN)/pytest -q

bench: build
	$(BIN)/python bench/build.py --sources $(SOURCES)

clean:
	rm -rf dist $(VENV)
