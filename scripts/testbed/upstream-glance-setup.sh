#!/usr/bin/env bash
# Install upstream OpenStack Glance (from PyPI) plus uWSGI into a private venv.
# Used by the benchmark (scripts/bench/run.sh) as the reference server and by
# the interoperability test (tests/e2e/test_upstream_interop.py, with
# UPSTREAM_GLANCE_DB_DRIVERS=1; scripts/test runs it so).  Idempotent; the
# first run takes ~3-4 minutes (uWSGI compiles from source: needs gcc and the
# Python headers).
#
# Since Glance 32 there is no standalone server (`glance-api` only prints
# "Standalone glance-api is no longer supported"); upstream documents and
# tests uWSGI, so that is what upstream-glance-start.sh runs.
#
# Usage: scripts/testbed/upstream-glance-setup.sh    -> prints the venv dir on stdout
# Env:   GLANCE_TESTBED_HOME   default "$HOME/.cache/glance-rs-testbed"
#        UPSTREAM_GLANCE_VENV  venv location (default "$GLANCE_TESTBED_HOME/glance-venv");
#                              point it at an existing venv that already has glance +
#                              uwsgi to reuse it (nothing is installed into it then)
#        UPSTREAM_GLANCE_VERSION  default 33.0.0
#        PYTHON                interpreter for a new venv (default python3)
#        UPSTREAM_GLANCE_DB_DRIVERS  1: also install the PostgreSQL and MySQL/MariaDB
#                              drivers (psycopg2-binary, PyMySQL) so upstream can use a
#                              `postgresql://` or `mysql+pymysql://` [database] connection
#                              (default 0: SQLite only, as the benchmark needs)
set -euo pipefail

TESTBED_HOME="${GLANCE_TESTBED_HOME:-$HOME/.cache/glance-rs-testbed}"
VENV="${UPSTREAM_GLANCE_VENV:-$TESTBED_HOME/glance-venv}"
VERSION="${UPSTREAM_GLANCE_VERSION:-33.0.0}"
PY="${PYTHON:-python3}"
mkdir -p "$TESTBED_HOME"
log() { echo "[upstream-setup] $*" >&2; }

installed() { # distribution -> version or empty
    "$VENV/bin/python" -c 'import importlib.metadata as m,sys; print(m.version(sys.argv[1]))' "$1" 2>/dev/null || true
}

if [ ! -x "$VENV/bin/python" ]; then
    command -v "$PY" >/dev/null || { log "no $PY found (set PYTHON=...)"; exit 1; }
    log "creating venv $VENV with $("$PY" --version 2>&1)"
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
fi
PIP=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)

have="$(installed glance)"
if [ "$have" = "$VERSION" ]; then
    log "glance $have already installed in $VENV"
else
    log "installing glance==$VERSION (log $TESTBED_HOME/glance-install.log)"
    "${PIP[@]}" "glance==$VERSION" >"$TESTBED_HOME/glance-install.log" 2>&1 || {
        log "pip install glance==$VERSION failed:"; tail -30 "$TESTBED_HOME/glance-install.log" >&2; exit 1; }
    "$VENV/bin/python" -W ignore -c 'import glance.common.wsgi_app' || { log "glance does not import"; exit 1; }
fi

if [ -z "$(installed uWSGI)" ] || [ ! -x "$VENV/bin/uwsgi" ]; then
    log "installing uwsgi (compiles from source, ~1.5 min; log $TESTBED_HOME/uwsgi-install.log)"
    "${PIP[@]}" uwsgi >"$TESTBED_HOME/uwsgi-install.log" 2>&1 || {
        log "uwsgi failed to build:"; tail -30 "$TESTBED_HOME/uwsgi-install.log" >&2; exit 1; }
fi

if [ "${UPSTREAM_GLANCE_DB_DRIVERS:-0}" = 1 ]; then
    if [ -z "$(installed psycopg2-binary)" ] || [ -z "$(installed PyMySQL)" ]; then
        log "installing the database drivers psycopg2-binary, PyMySQL (log $TESTBED_HOME/glance-db-drivers.log)"
        "${PIP[@]}" psycopg2-binary PyMySQL >"$TESTBED_HOME/glance-db-drivers.log" 2>&1 || {
            log "pip install psycopg2-binary PyMySQL failed:"; tail -30 "$TESTBED_HOME/glance-db-drivers.log" >&2; exit 1; }
    fi
    "$VENV/bin/python" -c 'import psycopg2, pymysql' || { log "psycopg2/pymysql do not import"; exit 1; }
fi

# The wheel ships etc/glance-api-paste.ini and etc/metadefs/ (under
# $VENV/etc/glance) but not etc/schema-image.json (the extra image-schema
# properties a devstack deployment has).  Take it from the sdist.
if [ ! -f "$VENV/etc/glance/schema-image.json" ]; then
    SD="$TESTBED_HOME/glance-sdist"
    mkdir -p "$SD"
    if [ ! -f "$SD/glance-$VERSION.tar.gz" ]; then
        "$VENV/bin/python" -m pip download -q --disable-pip-version-check --no-deps \
            --no-binary :all: "glance==$VERSION" -d "$SD" >"$TESTBED_HOME/glance-sdist.log" 2>&1 \
            || log "sdist download failed (non-fatal: image schema lacks the extra properties)"
    fi
    if [ -f "$SD/glance-$VERSION.tar.gz" ]; then
        tar -xzf "$SD/glance-$VERSION.tar.gz" -C "$SD" "glance-$VERSION/etc/schema-image.json"
        mkdir -p "$VENV/etc/glance"
        cp "$SD/glance-$VERSION/etc/schema-image.json" "$VENV/etc/glance/schema-image.json"
    fi
fi
[ -f "$VENV/etc/glance/glance-api-paste.ini" ] || { log "$VENV/etc/glance/glance-api-paste.ini missing"; exit 1; }

DRIVERS=""
if [ -n "$(installed psycopg2-binary)" ]; then DRIVERS="$DRIVERS, psycopg2-binary $(installed psycopg2-binary)"; fi
if [ -n "$(installed PyMySQL)" ]; then DRIVERS="$DRIVERS, PyMySQL $(installed PyMySQL)"; fi
log "glance $(installed glance), glance_store $(installed glance_store), uWSGI $(installed uWSGI)$DRIVERS, $("$VENV/bin/python" --version)"
echo "$VENV"
