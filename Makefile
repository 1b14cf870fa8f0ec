# Gather: the two commands of the README, and the steps they share.
#
#   make run    the whole system on this machine, with demo data
#   make test   the test suite (lint: ruff and mypy, then pytest against the real local
#               Cassandra cluster)
#
# Both are idempotent: the virtualenv, the Cassandra jars (.cache/) and a running local
# cluster are reused, so the second call is fast.

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint cassandra system-deps venv

run: venv system-deps
	$(PY) -m devcluster up
	$(PY) -m storage.migrate
	$(PY) -m storage.demo
	$(PY) -m node.launcher

test: venv system-deps lint
	$(PY) -m devcluster up
	$(PY) -m pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; \
	exit $$status

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

venv: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Gather needs $(PYTHON) on PATH" >&2; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --editable '.[test]'
	touch $(STAMP)

# Java 17 and Maven run the local Cassandra cluster; Chromium runs the browser tests.
# Each is installed from Debian when missing.
system-deps:
	@missing=""; \
	{ test -x /usr/lib/jvm/java-17-openjdk-amd64/bin/java || java -version 2>&1 | grep -q 'version "17'; } \
	  || missing="$$missing openjdk-17-jdk-headless"; \
	command -v mvn >/dev/null || missing="$$missing maven"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v openssl >/dev/null || missing="$$missing openssl"; \
	if [ -n "$$missing" ]; then \
	  echo "installing from Debian:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
