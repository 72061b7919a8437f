#!/usr/bin/env bash
# Start the Keystone set up by keystone-setup.sh under uWSGI on
# 127.0.0.1:$KEYSTONE_PORT (default 15000) and wait until GET /v3 answers.
# Does nothing if our Keystone already runs; refuses a port someone else
# answers on.
#
# One uWSGI process with $KEYSTONE_THREADS threads (default 8): keystone.conf
# uses an in-process cache, which is only coherent within one process.
# pyhooks/sqlite_immediate.py is imported first (SQLite BEGIN IMMEDIATE + busy
# timeout, so concurrent requests queue instead of failing "database is
# locked").  The server runs in its own session (setsid), so it outlives the
# calling shell; its master pid (== process group) is in
# $KEYSTONE_DATA/uwsgi.pid, which keystone-stop.sh signals.
#
# Usage: scripts/testbed/keystone-start.sh
# Env:   see keystone-env.sh (GLANCE_TESTBED_HOME, KEYSTONE_PORT, KEYSTONE_THREADS, ...)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$HERE/keystone-env.sh"
log() { echo "[keystone-start] $*" >&2; }

if keystone_running && keystone_answers; then
    log "already running (pid $(cat "$KEYSTONE_PIDFILE")) at $KEYSTONE_URL"
    exit 0
fi
[ -f "$KEYSTONE_CONF" ] && [ -x "$KEYSTONE_VENV/bin/uwsgi" ] \
    || { log "keystone not set up: run $HERE/keystone-setup.sh first"; exit 1; }
if keystone_running; then
    log "pid $(cat "$KEYSTONE_PIDFILE") is alive but does not answer on $KEYSTONE_URL; run keystone-stop.sh"
    exit 1
fi
if curl -s -m 3 -o /dev/null "$KEYSTONE_ROOT_URL/" 2>/dev/null; then
    log "port $KEYSTONE_PORT is already in use by something else"
    exit 1
fi
rm -f "$KEYSTONE_PIDFILE"

# "Connection: close": uWSGI's http-socket does not keep connections alive;
# clients that reuse a connection would otherwise see resets.
# PYTHONDONTWRITEBYTECODE: no __pycache__ next to the hook in the source tree
PYTHONDONTWRITEBYTECODE=1 OS_KEYSTONE_CONFIG_FILES="$KEYSTONE_CONF" setsid "$KEYSTONE_VENV/bin/uwsgi" \
    --http-socket "$KEYSTONE_HOST:$KEYSTONE_PORT" \
    --pythonpath "$HERE/pyhooks" --import sqlite_immediate \
    --module keystone.wsgi.api:application \
    --master --processes 1 --threads "$KEYSTONE_THREADS" \
    --enable-threads --die-on-term --need-app \
    --buffer-size 65535 --add-header "Connection: close" \
    --procname-prefix-spaced "keystone-$KEYSTONE_PORT" \
    --pidfile "$KEYSTONE_PIDFILE" \
    --disable-logging \
    </dev/null >>"$KEYSTONE_UWSGI_LOG" 2>&1 &
launcher=$!

for _ in $(seq 1 240); do
    if keystone_answers && keystone_running; then
        log "running (pid $(cat "$KEYSTONE_PIDFILE")) at $KEYSTONE_URL (logs $KEYSTONE_UWSGI_LOG, $KEYSTONE_LOG)"
        exit 0
    fi
    if ! kill -0 "$launcher" 2>/dev/null && ! keystone_running; then
        log "uwsgi exited; last lines of $KEYSTONE_UWSGI_LOG:"; tail -n 30 "$KEYSTONE_UWSGI_LOG" >&2
        exit 1
    fi
    sleep 0.5
done
log "no answer on $KEYSTONE_URL after 120 s; last lines of $KEYSTONE_UWSGI_LOG:"
tail -n 30 "$KEYSTONE_UWSGI_LOG" >&2 || true
"$HERE/keystone-stop.sh" >/dev/null 2>&1 || true
exit 1
