# One command to run the product, one to test it. See README.md.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export FLASK_APP := wsgi.py

TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/coord_test
TEST_REDIS_URL    ?= redis://127.0.0.1:6379/15
PORT              ?= 5000

.PHONY: bench-reminders install run test lint format translations translations-update clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d coordination/translations -D messages -f >/dev/null

translations-update: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o coordination/translations/messages.pot . >/dev/null
	$(BIN)/pybabel update -i coordination/translations/messages.pot -d coordination/translations -l en --no-fuzzy-matching --ignore-obsolete

run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --if-empty
	@bash deploy/run-local.sh $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Four parallel workers on 2 cores (the real-worker tests mostly wait), each with its own database
# (coord_test_gw0, ...) and Redis db: see tests/conftest.py. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 4

# The sign-in tests start a real OpenID Connect provider (tests/oidc/provider.mjs) from npm.
OIDC_PROVIDER := tests/oidc/node_modules/.installed

$(OIDC_PROVIDER): tests/oidc/package.json tests/oidc/package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: the OpenID Connect tests need Node.js and npm (apt-get install nodejs npm)"; exit 1; }
	cd tests/oidc && npm ci --no-audit --no-fund
	touch $@

test: install lint $(OIDC_PROVIDER)
	COORD_TEST_DATABASE_URL=$(TEST_DATABASE_URL) COORD_TEST_REDIS_URL=$(TEST_REDIS_URL) \
		$(BIN)/pytest -q -n $(TEST_WORKERS)

clean:
	rm -rf $(VENV) instance .pytest_cache

bench-reminders: $(STAMP)
	$(BIN)/python -m notifications.bench

# 200,000 participants on PostgreSQL, the time of each statistics report (needs a local server).
STATISTICS_BENCH_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/coord_bench_statistics

.PHONY: bench-statistics
bench-statistics: $(STAMP)
	BENCH_DATABASE_URL=$(STATISTICS_BENCH_URL) $(BIN)/python -m coordination.statistics_bench

# The pages at 20,000 and 200,000 participants (data sets built with SQL, kept between runs), served
# by gunicorn as deploy/ runs it: each page's p50/p95 beside its raw-SQL floor and its SQL
# statements, then a 20-user mix (locust) against the app and against a floor app. Needs local
# PostgreSQL and Redis. BENCH_SIZES=20000 runs the smaller one only.
BENCH_SIZES ?= 20000 200000
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	touch $(BENCH_STAMP)

.PHONY: bench-web
bench-web: install $(BENCH_STAMP)
	BENCH_SIZES="$(BENCH_SIZES)" $(BIN)/python -m coordination.web_bench.run

# The cost of one logged read (log_access + commit), sequential and from 8 threads with the sweeper
# running, beside a plain INSERT of the same row (its floor), on PostgreSQL (needs a local server).
ACCESS_LOG_BENCH_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/coord_bench_access_log

.PHONY: bench-access-log
bench-access-log: $(STAMP)
	BENCH_DATABASE_URL=$(ACCESS_LOG_BENCH_URL) $(BIN)/python -m coordination.access_log_bench

# The minutes PDF of a 40-referral conference (request p50/p95 and pages) beside plain WeasyPrint on
# the same text, its floor (needs a local PostgreSQL server).
DOCUMENTS_BENCH_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/coord_bench_documents

.PHONY: bench-documents
bench-documents: $(STAMP)
	BENCH_DATABASE_URL=$(DOCUMENTS_BENCH_URL) $(BIN)/python -m coordination.documents_bench

# The cost of PostgreSQL's row-level security: the web bench's data set (BENCH_PARTICIPANTS, 20000,
# and as many in a second förbund), two in-process apps on it, one as the owner (policies bypassed)
# and one as the application's role (policies applied), timed interleaved on the same pages.
TENANCY_BENCH_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/coord_bench_tenancy

.PHONY: bench-tenancy
bench-tenancy: $(STAMP)
	TENANCY_BENCH_URL=$(TENANCY_BENCH_URL) $(BIN)/python -m coordination.tenancy_bench

# The production topology on this machine (gunicorn, 2 workers, beat, PostgreSQL, Redis, an SMTP
# sink) from deploy/'s own files, and a scenario over HTTP against it. See deploy/OPERATIONS.md.
SMOKE_DATABASE ?= coord_smoke
SMOKE_REDIS_DB ?= 13

.PHONY: prod-smoke
prod-smoke: install
	SMOKE_DATABASE=$(SMOKE_DATABASE) SMOKE_REDIS_DB=$(SMOKE_REDIS_DB) bash deploy/prod-smoke

# End to end: Debian's Chromium (Playwright) drives the real stack (gunicorn, a Celery worker,
# PostgreSQL, Redis) through the journey, with axe-core from npm on every page. Screenshots go to
# test-output/e2e/. Needs /usr/bin/chromium (`apt-get install chromium`); see tests/e2e/conftest.py.
E2E_AXE := tests/e2e/node_modules/axe-core/axe.min.js

$(E2E_AXE): tests/e2e/package.json tests/e2e/package-lock.json
	cd tests/e2e && npm ci --no-audit --no-fund
	touch $@

.PHONY: e2e
e2e: install $(E2E_AXE) $(OIDC_PROVIDER)
	COORD_TEST_DATABASE_URL=$(TEST_DATABASE_URL) COORD_TEST_REDIS_URL=$(TEST_REDIS_URL) \
		$(BIN)/pytest -q -m e2e tests/e2e
