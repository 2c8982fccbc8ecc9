# posbackoffice — the two Quick start commands are `make run` and `make test`.
SHELL := /bin/bash
# pyenv selects Python 3.13 through .python-version; override with PYTHON=/path/to/python3.13.
PYTHON ?= python3
VENV := .venv
UV := $(VENV)/bin/uv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.9

# Embedded defaults for `make run`: SQLite, filesystem broker, e-mails in var/mail, sandbox processor.
RUN_ENV := DEBUG=true HTTPS=false
# Where `make run` serves, and the address in the links it hands out (QR codes, e-mails). On the local
# network, so that a phone can open them: make run HOST=0.0.0.0 SITE_URL=http://192.168.1.20:8000
HOST ?= 127.0.0.1
PORT ?= 8000
SITE_URL ?= http://$(HOST):$(PORT)

# `make test` uses PostgreSQL and Redis at their local default addresses (pyproject.toml's pytest env),
# unless DATABASE_URL, REDIS_URL or CELERY_BROKER_URL are set.

.PHONY: run serve test system-check install install-dev messages makemessages migrate demo check clean

$(UV):
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 12), f"Python 3.12+ needed, found {sys.version.split()[0]} (pyenv reads .python-version)"'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet uv==$(UV_VERSION)

install: $(UV)
	$(UV) sync --frozen --no-dev --inexact

install-dev: $(UV)
	$(UV) sync --frozen

messages:
	@command -v msgfmt >/dev/null || { echo "The translations need GNU gettext's msgfmt: apt-get install -y gettext"; exit 1; }
	cd $(CURDIR) && $(RUN_ENV) $(PY) manage.py compilemessages --ignore=.venv -v 0

makemessages:
	$(RUN_ENV) $(PY) manage.py makemessages -l fr --ignore=.venv --ignore=var --no-obsolete --add-location file
	$(RUN_ENV) $(PY) manage.py makemessages -d djangojs -l fr --ignore=.venv --ignore=var --ignore=static/vendor --no-obsolete

migrate:
	$(RUN_ENV) $(PY) manage.py migrate --noinput -v 0

demo:
	$(RUN_ENV) $(PY) manage.py demo_data

run: install messages migrate demo serve

# Web, worker and beat (Procfile) under honcho, in the foreground: Ctrl-C or SIGTERM stops all three.
# Unbuffered, so each line shows when it is written (their output is a pipe to honcho).
serve:
	@echo
	@echo "  posbackoffice: $(SITE_URL)"
	@echo "  Log in as owner@demo.test, admin@demo.test, manager@demo.test or cashier@demo.test"
	@echo "  (another shop: other@demo.test) — password: demo. Sent e-mails: $(SITE_URL)/dev/mail/"
	@echo
	@$(RUN_ENV) RUN_ADDRESS=$(HOST):$(PORT) SITE_URL=$(SITE_URL) PYTHONUNBUFFERED=1 $(VENV)/bin/honcho start --procfile Procfile

# What the suite needs from the machine (tests/system_check.py): everything missing, named at once.
system-check: install-dev
	@$(PY) -m tests.system_check

# The suite in parallel processes, one per CPU (pytest-xdist; tests/conftest.py says what stays together).
# TEST_PROCESSES=0 runs it in this one process.
TEST_PROCESSES ?= auto
test: install-dev system-check messages
	$(VENV)/bin/pytest -n $(TEST_PROCESSES) --dist loadgroup

# The application code bandit reads (`make check`); its configuration is in pyproject.toml.
APP_PACKAGES := posbackoffice accounts retail payments saved_cards subscriptions paylinks terminal billing
check: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/bandit -q -c pyproject.toml -r $(APP_PACKAGES) manage.py
	$(RUN_ENV) $(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf var/celery var/db.sqlite3* var/mail var/staticfiles var/celerybeat-schedule*
