#!/usr/bin/env bash
# Stop the Keystone started by keystone-start.sh: signals only the uWSGI
# master recorded in $KEYSTONE_DATA/uwsgi.pid (its whole process group when it
# leads one), SIGTERM first, SIGKILL after 10 s.
#
# Usage: scripts/testbed/keystone-stop.sh
# Env:   see keystone-env.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$HERE/keystone-env.sh"
log() { echo "[keystone-stop] $*" >&2; }

if ! keystone_running; then
    log "not running"
    rm -f "$KEYSTONE_PIDFILE"
    exit 0
fi
PID="$(cat "$KEYSTONE_PIDFILE")"
PGID="$(ps -o pgid= -p "$PID" | tr -d ' ')"
if [ "$PGID" = "$PID" ]; then TARGET="-$PID"; else TARGET="$PID"; fi
kill -TERM -- "$TARGET" 2>/dev/null || true
for _ in $(seq 1 40); do
    kill -0 -- "$TARGET" 2>/dev/null || break
    sleep 0.25
done
if kill -0 -- "$TARGET" 2>/dev/null; then
    log "still alive after 10 s, SIGKILL"
    kill -KILL -- "$TARGET" 2>/dev/null || true
fi
rm -f "$KEYSTONE_PIDFILE"
log "stopped (pid $PID)"
