#!/usr/bin/env bash
# Install Tempest and everything a run needs:
#   * venv tempest-venv/ with tempest==$TEMPEST_VERSION (47.0.0) from PyPI
#   * Tempest workspace tempest-ws/ (registered in tempest-workspace.yaml of
#     the test-bed dir, not in ~/.tempest)
#   * the files of the local image HTTP server (tempest-http/)
#   * Keystone: keystone-setup.sh (skip with SKIP_KEYSTONE=1)
# Idempotent; first run ~1-2 min for Tempest plus Keystone's first setup.
#
# Usage: scripts/testbed/tempest-setup.sh
# Env:   see tempest-env.sh and keystone-env.sh; PYTHON (for a new venv)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$HERE/tempest-env.sh"
PY="${PYTHON:-python3}"
LOG="$TESTBED_HOME/tempest-setup.log"
log() { echo "[tempest-setup] $*" >&2; }
mkdir -p "$TESTBED_HOME"
: >"$LOG"
run() {
    local what="$1"; shift
    echo "### $what: $*" >>"$LOG"
    if ! "$@" >>"$LOG" 2>&1; then
        log "$what failed; last lines of $LOG:"; tail -n 30 "$LOG" >&2; exit 1
    fi
}
installed() {
    "$TEMPEST_VENV/bin/python" -c 'import importlib.metadata as m,sys; print(m.version(sys.argv[1]))' "$1" 2>/dev/null || true
}

if [ ! -x "$TEMPEST_VENV/bin/python" ] || ! "$TEMPEST_VENV/bin/python" -c 'import sys' 2>/dev/null; then
    command -v "$PY" >/dev/null || { log "no $PY found (set PYTHON=...)"; exit 1; }
    log "creating venv $TEMPEST_VENV with $("$PY" --version 2>&1)"
    rm -rf "$TEMPEST_VENV"
    run "venv" "$PY" -m venv "$TEMPEST_VENV"
    run "pip upgrade" "$TEMPEST_VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip setuptools wheel
fi
if [ "$(installed tempest)" != "$TEMPEST_VERSION" ] || [ ! -x "$TEMPEST_VENV/bin/stestr" ]; then
    log "installing tempest==$TEMPEST_VERSION (1-2 min the first time; log $LOG)"
    run "pip install" "$TEMPEST_VENV/bin/python" -m pip install -q --disable-pip-version-check "tempest==$TEMPEST_VERSION"
fi

if [ ! -f "$TEMPEST_WS/.stestr.conf" ]; then
    log "creating workspace $TEMPEST_WS"
    rm -rf "$TEMPEST_WS"
    run "tempest init" "$TEMPEST_VENV/bin/tempest" init \
        --workspace-path "$TESTBED_HOME/tempest-workspace.yaml" --name glance-rs "$TEMPEST_WS"
fi
mkdir -p "$TEMPEST_RESULTS"
run "test images" python3 "$HERE/tempest-make-test-images.py" "$HTTP_IMAGES_DIR"

if [ "${SKIP_KEYSTONE:-0}" != 1 ]; then
    "$HERE/keystone-setup.sh"
fi
log "tempest $(installed tempest) ready: venv $TEMPEST_VENV, workspace $TEMPEST_WS, results $TEMPEST_RESULTS"
