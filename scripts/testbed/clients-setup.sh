#!/usr/bin/env bash
# OpenStack client tools for the end-to-end tests: python-glanceclient
# (`glance`), python-openstackclient (`openstack`), openstacksdk, plus pytest
# and requests, in one venv installed from PyPI.  Idempotent: a complete venv
# is left alone (set CLIENTS_UPGRADE=1 to re-run pip anyway).
#
# Usage: scripts/testbed/clients-setup.sh      -> prints the venv's bin dir on stdout
# Env:   GLANCE_TESTBED_HOME  default "$HOME/.cache/glance-rs-testbed"
#        CLIENTS_VENV         venv location (default "$GLANCE_TESTBED_HOME/clients-venv")
#        PYTHON               interpreter used to create the venv (default python3)
set -euo pipefail

TESTBED_HOME="${GLANCE_TESTBED_HOME:-$HOME/.cache/glance-rs-testbed}"
VENV="${CLIENTS_VENV:-$TESTBED_HOME/clients-venv}"
PY="${PYTHON:-python3}"
LOG="$TESTBED_HOME/clients-install.log"
PKGS=(python-glanceclient python-openstackclient openstacksdk pytest requests)

log() { echo "[clients-setup] $*" >&2; }
mkdir -p "$TESTBED_HOME"

complete() {
    [ -x "$VENV/bin/glance" ] && [ -x "$VENV/bin/openstack" ] && [ -x "$VENV/bin/pytest" ] \
        && "$VENV/bin/python" -c 'import openstack, glanceclient, requests, pytest' 2>/dev/null
}

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
    command -v "$PY" >/dev/null || { log "no $PY found (set PYTHON=...)"; exit 1; }
    log "creating venv $VENV with $("$PY" --version 2>&1)"
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >"$LOG" 2>&1 || {
        log "pip upgrade failed, see $LOG"; tail -20 "$LOG" >&2; exit 1; }
fi

if ! complete || [ "${CLIENTS_UPGRADE:-0}" = 1 ]; then
    log "installing ${PKGS[*]} (1-2 min the first time; log $LOG)"
    if ! "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${PKGS[@]}" >>"$LOG" 2>&1; then
        log "pip install failed, last lines of $LOG:"; tail -30 "$LOG" >&2; exit 1
    fi
    complete || { log "venv still incomplete after install, see $LOG"; exit 1; }
fi

log "$("$VENV/bin/python" -m pip freeze --disable-pip-version-check 2>/dev/null \
    | grep -i -E '^(python-glanceclient|python-openstackclient|openstacksdk|keystoneauth1|pytest|requests)==' \
    | tr '\n' ' ')"
echo "$VENV/bin"
