# Two commands on a fresh clone:  `make run`  and  `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test install assets db demo serve clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed assets

assets: platform_core/static/dsfr/dsfr.min.css

platform_core/static/dsfr/dsfr.min.css: package.json package-lock.json scripts/install_assets.sh
	./scripts/install_assets.sh

db: install
	$(FLASK) db upgrade

demo: db
	$(FLASK) demo

## Installs everything, migrates the SQLite database, loads the demo and serves it.
run: demo
	@echo "Plateforme CEP sur http://$(HOST):$(PORT)/  (Ctrl+C pour arrêter)"
	$(FLASK) run --host $(HOST) --port $(PORT)

## Installs everything and runs the whole test suite (see docs/testing.md).
test: install
	./scripts/run_tests.sh

clean:
	rm -rf $(VENV) node_modules platform_core/static/dsfr instance .pytest_cache
