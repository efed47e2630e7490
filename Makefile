# Dangjian: `make run` serves the demo on SQLite; `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1:8000
# make run serves with debug off (the product's error pages); 1 turns Django's debug pages on.
RUN_DEBUG ?= 0
# pytest-xdist workers for make test (the machines here have 2 cores).
TEST_WORKERS ?= 2

.PHONY: run serve test bench lint check security venv deps dev-deps assets migrate demo clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.deps: $(VENV)/bin/activate requirements/base.txt
	$(PIP) install --quiet -r requirements/base.txt
	touch $@

$(VENV)/.dev-deps: $(VENV)/.deps requirements/dev.txt
	$(PIP) install --quiet -r requirements/dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

venv: $(VENV)/bin/activate
deps: $(VENV)/.deps
dev-deps: $(VENV)/.dev-deps
assets: node_modules/.installed

migrate: deps
	mkdir -p var
	$(PY) manage.py migrate --noinput

## Serve the product on SQLite (var/dangjian.sqlite3) with the demo district loaded when the database is empty.
## Debug is off, so users see the product's own error pages (404/403/500), not Django's; --insecure still serves
## the static files. `make run RUN_DEBUG=1` for Django's debug pages.
run: deps assets migrate
	$(PY) manage.py seed_demo --scale small --if-empty
	$(PY) manage.py demo_logins --address $(HOST)
	DJANGO_DEBUG=$(RUN_DEBUG) $(PY) manage.py runserver --insecure $(HOST)

## Serve the production settings locally with gunicorn (deploy/gunicorn.conf.py) on DATABASE_URL's PostgreSQL or the
## embedded SQLite database, plain HTTP on 127.0.0.1:8000 for a trial (deploy/serve-local.sh says what it turns off).
serve: deps assets
	deploy/serve-local.sh

## Run the whole suite on SQLite, and on PostgreSQL too when DATABASE_URL names one.
test: dev-deps assets
	env -u DATABASE_URL $(PY) -m pytest -p no:cacheprovider -n $(TEST_WORKERS)
	@if [ -n "$$DATABASE_URL" ] && echo "$$DATABASE_URL" | grep -qE '^postgres'; then \
		echo "== The suite again on PostgreSQL ($$DATABASE_URL) =="; \
		$(PY) -m pytest -p no:cacheprovider -n $(TEST_WORKERS); \
	fi

## Benchmarks: the hot pages and each role's daily path on the county scale, the 100,000-row import, the hours
## reports on the city scale (DATABASE_URL selects PostgreSQL), and 50 users' load on gunicorn (always PostgreSQL:
## DATABASE_URL's server, or postgres@127.0.0.1; LOAD_USERS, LOAD_MINUTES shorten it).
bench: dev-deps assets
	$(PY) bench/run.py
	$(PY) bench/import_bench.py
	$(PY) bench/hours_bench.py
	$(PY) bench/checks_bench.py
	$(PY) bench/dues_bench.py
	$(PY) bench/load_bench.py

lint: dev-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

security: dev-deps
	bash .ci/security-checks

check: dev-deps
	$(PY) manage.py makemigrations --check --dry-run
	DANGJIAN_ENV=production DJANGO_SECRET_KEY=check-deploy-$$(date +%s)-a-long-random-enough-secret-key-value \
		DJANGO_ALLOWED_HOSTS=dangjian.example.org $(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) node_modules var/static
