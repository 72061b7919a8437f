#!/usr/bin/env bash
# A static HTTP server on 127.0.0.1:$HTTP_IMAGES_PORT (default 19380) serving
# the files of tempest-make-test-images.py: the stand-ins for the Internet
# image URLs in tempest.conf.  Tempest, web-download import and the http
# store fetch from it.  tempest-run.sh starts it (and stops it afterwards)
# when it is not running.
#
# Usage: scripts/testbed/tempest-http-images.sh start|stop|status
# Env:   see tempest-env.sh (HTTP_IMAGES_PORT, HTTP_IMAGES_DIR)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$HERE/tempest-env.sh"
log() { echo "[tempest-http-images] $*" >&2; }

PIDFILE="$HTTP_IMAGES_DIR.pid"
HTTP_LOG="$HTTP_IMAGES_DIR.log"
running() {
    local pid
    pid="$(cat "$PIDFILE" 2>/dev/null || true)"
    case "$pid" in ''|*[!0-9]*) return 1;; esac
    kill -0 "$pid" 2>/dev/null && ps -o args= -p "$pid" 2>/dev/null | grep -q http.server
}
answers() { curl -fsS -m 3 -o /dev/null "$HTTP_IMAGES_URL/cirros-0.6.2-x86_64-disk.img" 2>/dev/null; }

case "${1:-}" in
start)
    python3 "$HERE/tempest-make-test-images.py" "$HTTP_IMAGES_DIR"
    if running && answers; then log "already running at $HTTP_IMAGES_URL"; exit 0; fi
    if curl -s -m 3 -o /dev/null "$HTTP_IMAGES_URL/" 2>/dev/null; then
        log "port $HTTP_IMAGES_PORT is already in use by something else"; exit 1
    fi
    setsid python3 -m http.server "$HTTP_IMAGES_PORT" --bind 127.0.0.1 \
        --directory "$HTTP_IMAGES_DIR" </dev/null >"$HTTP_LOG" 2>&1 &
    echo $! >"$PIDFILE"
    for _ in $(seq 1 50); do
        if answers; then log "running at $HTTP_IMAGES_URL (pid $(cat "$PIDFILE"))"; exit 0; fi
        sleep 0.2
    done
    log "did not start; last lines of $HTTP_LOG:"; tail -n 20 "$HTTP_LOG" >&2 || true
    exit 1
    ;;
stop)
    if running; then
        pid="$(cat "$PIDFILE")"
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
        log "stopped (pid $pid)"
    fi
    rm -f "$PIDFILE"
    ;;
status)
    if running && answers; then echo "running at $HTTP_IMAGES_URL"; else echo "not running"; exit 1; fi
    ;;
*)
    echo "usage: $0 start|stop|status" >&2; exit 2
    ;;
esac
