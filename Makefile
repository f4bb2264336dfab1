# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
STAMP  := $(VENV)/.installed

.PHONY: run test bench lint stop clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

## run: start the embedded Redis, seed the demo catalog, serve the web app and a worker
run: $(STAMP)
	$(BIN)/queue-service seed-demo
	@trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/queue-service worker & worker=$$!; \
	$(BIN)/queue-service serve --port $(PORT)

## test: the whole suite against a redis-server the suite starts itself
test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/reservations.py
	$(BIN)/python bench/captcha_rendering.py

lint: $(STAMP)
	$(BIN)/ruff check .

## stop: shut down the embedded Redis that `make run` left running
stop: $(STAMP)
	$(BIN)/queue-service stop-embedded

clean:
	rm -rf $(VENV) var .pytest_cache
