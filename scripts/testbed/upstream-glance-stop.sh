#!/usr/bin/env bash
# Stop the upstream Glance started by upstream-glance-start.sh PORT: signals
# exactly the process group recorded in its pid file (uWSGI master + workers),
# SIGINT first (uWSGI's immediate shutdown; a graceful SIGTERM stop can hang
# ~60 s in a worker), SIGKILL after 10 s.
#
# Usage: scripts/testbed/upstream-glance-stop.sh PORT
# Env:   GLANCE_TESTBED_HOME, UPSTREAM_GLANCE_DATA  as for upstream-glance-start.sh
set -euo pipefail
PORT="${1:?usage: $0 PORT}"
TESTBED_HOME="${GLANCE_TESTBED_HOME:-$HOME/.cache/glance-rs-testbed}"
DATA="${UPSTREAM_GLANCE_DATA:-$TESTBED_HOME/upstream-data-$PORT}"
PIDFILE="$DATA/glance.pid"
log() { echo "[upstream-stop] $*" >&2; }

[ -f "$PIDFILE" ] || { log "no pid file $PIDFILE (not running)"; exit 0; }
PID="$(cat "$PIDFILE")"
case "$PID" in ''|*[!0-9]*) log "bad pid file $PIDFILE"; exit 1;; esac
if ! kill -0 "$PID" 2>/dev/null; then
    log "pid $PID not running"; rm -f "$PIDFILE"; exit 0
fi
# Signal the group only if PID leads its own group (setsid in the start script).
PGID="$(ps -o pgid= -p "$PID" | tr -d ' ')"
if [ "$PGID" = "$PID" ]; then TARGET="-$PID"; else TARGET="$PID"; fi
kill -INT -- "$TARGET" 2>/dev/null || true
for _ in $(seq 1 40); do
    kill -0 -- "$TARGET" 2>/dev/null || break
    sleep 0.25
done
if kill -0 -- "$TARGET" 2>/dev/null; then
    log "still alive after 10 s, SIGKILL"
    kill -KILL -- "$TARGET" 2>/dev/null || true
fi
rm -f "$PIDFILE"
log "stopped $PID"
