#!/usr/bin/env bash
# Benchmark: our glance-api (release build) against upstream Glance 33.0.0
# (uWSGI, 2 workers; scripts/testbed/upstream-glance-*.sh), one after the other,
# each on a free loopback port with its own fresh data dir (SQLite + file store).
#
# Usage: scripts/bench/run.sh [options]
#   --only ours|upstream   run one server only (no ratio column)
#   --measure LIST         comma list of upload,download,rss,inspect,create,list,get (default all)
#   --quick                small sizes (64 MiB image, 2000 listed images, N=200, 5 s GETs): < 3 min
#   --no-build             don't run cargo build (use the existing release binary)
#   --json DIR             also keep the raw results (ours.json, upstream.json) in DIR
#   -h, --help
# Env (defaults in brackets):
#   BENCH_IMAGE_MB [1024]     size of the uploaded/downloaded image
#   BENCH_DL_CONC [8]         concurrent downloads while sampling peak RSS
#   BENCH_DL_REPS [1]         single-download repetitions (median)
#   BENCH_CREATE_N [400]      images created by BENCH_CREATE_CONC [8] concurrent clients
#   BENCH_LIST_IMAGES [10000] rows seeded into the database for GET /v2/images?limit=1000
#   BENCH_LIST_PROPS [10]     properties per seeded image; BENCH_LIST_TAGS [0] tags per image
#   BENCH_LIST_REPS [5]       timed list requests (median reported)
#   BENCH_GET_CONNS [16]      connections for GET /v2/images/{id}; BENCH_GET_SECONDS [10]
#   BENCH_CLIENT [auto]       auto|wrk|python: HTTP load generator for the GET test
#                             (wrk is installed from Debian when missing and we may)
#   GLANCE_API_BIN            our binary [$CARGO_TARGET_DIR or ./target]/release/glance-api
#   GLANCE_TESTBED_HOME       [~/.cache/glance-rs-testbed]: venvs and the bench work dir
#   UPSTREAM_GLANCE_VENV      reuse an existing upstream venv (see upstream-glance-setup.sh)
#   UPSTREAM_GLANCE_WORKERS   [2] uWSGI workers of upstream
#   BENCH_KEEP=1              keep the work dir (data dirs, logs, results)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
TESTBED_HOME="${GLANCE_TESTBED_HOME:-$HOME/.cache/glance-rs-testbed}"
export GLANCE_TESTBED_HOME="$TESTBED_HOME"
PY="${PYTHON:-python3}"
BENCH_PY="$ROOT/scripts/bench/bench.py"

ONLY="" MEASURE="upload,download,rss,inspect,create,list,get" BUILD=1 JSON_DIR=""
while [ $# -gt 0 ]; do
    case "$1" in
        --only) ONLY="${2:?}"; shift 2;;
        --measure) MEASURE="${2:?}"; shift 2;;
        --quick)
            : "${BENCH_IMAGE_MB:=64}" "${BENCH_LIST_IMAGES:=2000}" "${BENCH_CREATE_N:=200}"
            : "${BENCH_GET_SECONDS:=5}" "${BENCH_LIST_REPS:=3}"
            shift;;
        --no-build) BUILD=0; shift;;
        --json) JSON_DIR="${2:?}"; shift 2;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2;;
    esac
done
case "$ONLY" in ""|ours|upstream) ;; *) echo "--only ours|upstream" >&2; exit 2;; esac
SERVERS=(ours upstream); [ -n "$ONLY" ] && SERVERS=("$ONLY")

IMAGE_MB="${BENCH_IMAGE_MB:-1024}"
DL_CONC="${BENCH_DL_CONC:-8}"
DL_REPS="${BENCH_DL_REPS:-1}"
CREATE_N="${BENCH_CREATE_N:-400}"
CREATE_CONC="${BENCH_CREATE_CONC:-8}"
LIST_IMAGES="${BENCH_LIST_IMAGES:-10000}"
LIST_PROPS="${BENCH_LIST_PROPS:-10}"
LIST_TAGS="${BENCH_LIST_TAGS:-0}"
LIST_REPS="${BENCH_LIST_REPS:-5}"
GET_CONNS="${BENCH_GET_CONNS:-16}"
GET_SECONDS="${BENCH_GET_SECONDS:-10}"
CLIENT="${BENCH_CLIENT:-auto}"; [ "$CLIENT" = auto ] || [ "$CLIENT" = wrk ] || [ "$CLIENT" = python ] \
    || { echo "BENCH_CLIENT must be auto, wrk or python" >&2; exit 2; }
for v in IMAGE_MB DL_CONC DL_REPS CREATE_N CREATE_CONC LIST_IMAGES LIST_PROPS LIST_TAGS LIST_REPS GET_CONNS GET_SECONDS; do
    case "${!v}" in ''|*[!0-9]*) echo "BENCH_$v must be a non-negative integer" >&2; exit 2;; esac
done

T0=$(date +%s)
log() { printf '[bench %3ss] %s\n' "$(( $(date +%s) - T0 ))" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
for t in curl "$PY" setsid; do command -v "$t" >/dev/null || die "$t is required"; done

# --- cleanup of everything we start -------------------------------------------
WORK=""
OURS_PID=""
UP_PORT=""
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$OURS_PID" ] && kill -0 "$OURS_PID" 2>/dev/null; then stop_ours; fi
    if [ -n "$UP_PORT" ]; then
        UPSTREAM_GLANCE_DATA="$WORK/upstream-data" "$ROOT/scripts/testbed/upstream-glance-stop.sh" "$UP_PORT" || true
    fi
    if [ -n "$WORK" ] && [ -d "$WORK" ]; then
        if [ "${BENCH_KEEP:-0}" = 1 ] || [ "$rc" != 0 ]; then
            log "work dir kept: $WORK"
            find "$WORK" -name 'image.bin' -delete 2>/dev/null || true
        else
            rm -rf "$WORK"
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- our server ---------------------------------------------------------------
TARGET="${CARGO_TARGET_DIR:-target}"
case "$TARGET" in /*) ;; *) TARGET="$ROOT/$TARGET";; esac
OURS_BIN="${GLANCE_API_BIN:-$TARGET/release/glance-api}"

start_ours() { # PORT DATA -> sets OURS_PID
    local port="$1" data="$2"
    mkdir -p "$data"
    cat >"$WORK/ours.conf" <<CONF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $port
enabled_backends = fs:file
enabled_import_methods = [glance-direct,web-download,copy-image]

[glance_store]
default_backend = fs

[fs]
filesystem_store_datadir = $data/images/
CONF
    setsid "$OURS_BIN" --config-file "$WORK/ours.conf" --data-dir "$data" \
        >"$WORK/ours.log" 2>&1 </dev/null &
    OURS_PID=$!
    local _i
    for _i in $(seq 1 300); do
        kill -0 "$OURS_PID" 2>/dev/null || { tail -20 "$WORK/ours.log" >&2; OURS_PID=""; die "glance-api exited during start-up"; }
        if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/versions"; then return 0; fi
        sleep 0.2
    done
    tail -20 "$WORK/ours.log" >&2
    die "glance-api did not answer GET /versions within 60 s"
}

stop_ours() {
    [ -n "$OURS_PID" ] || return 0
    kill -TERM -- "-$OURS_PID" 2>/dev/null || true
    local _i
    for _i in $(seq 1 40); do kill -0 -- "-$OURS_PID" 2>/dev/null || break; sleep 0.25; done
    kill -KILL -- "-$OURS_PID" 2>/dev/null || true
    wait "$OURS_PID" 2>/dev/null || true
    OURS_PID=""
}

# --- preparation ----------------------------------------------------------------
for s in "${SERVERS[@]}"; do
    if [ "$s" = ours ]; then
        if [ "$BUILD" = 1 ] && [ -z "${GLANCE_API_BIN:-}" ]; then
            log "cargo build --release -p glance-server --bin glance-api"
            cargo build --release -j"${CARGO_JOBS:-2}" -p glance-server --bin glance-api || die "cargo build failed"
        fi
        [ -x "$OURS_BIN" ] || die "our binary $OURS_BIN does not exist (build it, or use --only upstream)"
    else
        log "upstream venv (scripts/testbed/upstream-glance-setup.sh; minutes the first time)"
        "$ROOT/scripts/testbed/upstream-glance-setup.sh" >/dev/null || die "upstream setup failed"
    fi
done

if [[ ",$MEASURE," == *,get,* ]] && [ "$CLIENT" != python ] && ! command -v wrk >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        log "installing wrk from Debian"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -q --no-install-recommends wrk >/dev/null 2>&1 \
            || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends wrk >/dev/null 2>&1; } \
            || log "could not install wrk; using the Python asyncio client"
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        log "installing wrk from Debian (sudo)"
        sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk >/dev/null 2>&1 \
            || log "could not install wrk; using the Python asyncio client"
    else
        log "wrk not installed; using the Python asyncio client"
    fi
fi
[ "$CLIENT" = wrk ] && ! command -v wrk >/dev/null && die "BENCH_CLIENT=wrk but wrk is not installed"

mkdir -p "$TESTBED_HOME"
WORK="$(mktemp -d "$TESTBED_HOME/bench.XXXXXX")"
log "work dir $WORK"
NEED_IMAGE=0
for m in upload download rss; do [[ ",$MEASURE," == *,$m,* ]] && NEED_IMAGE=1; done
IMG_ARGS=()
if [ "$NEED_IMAGE" = 1 ]; then
    avail_mb=$(df -Pm "$WORK" | awk 'NR==2{print $4}')
    need_mb=$(( IMAGE_MB * (1 + ${#SERVERS[@]}) + 512 ))
    [ "$avail_mb" -ge "$need_mb" ] || die "need ~${need_mb} MiB free in $WORK, have ${avail_mb} MiB"
    log "writing a ${IMAGE_MB} MiB random image file"
    head -c "$(( IMAGE_MB * 1048576 ))" /dev/urandom >"$WORK/image.bin"
    IMG_MD5="$(md5sum "$WORK/image.bin" | cut -d' ' -f1)"
    IMG_ARGS=(--image-file "$WORK/image.bin" --image-md5 "$IMG_MD5")
fi

measure() { # LABEL URL PGID DB
    "$PY" "$BENCH_PY" measure --label "$1" --url "$2" --pgid "$3" --db "$4" \
        ${IMG_ARGS[@]+"${IMG_ARGS[@]}"} --measure "$MEASURE" \
        --dl-conc "$DL_CONC" --dl-reps "$DL_REPS" --create-n "$CREATE_N" --create-conc "$CREATE_CONC" \
        --list-images "$LIST_IMAGES" --list-props "$LIST_PROPS" --list-tags "$LIST_TAGS" \
        --list-reps "$LIST_REPS" --get-conns "$GET_CONNS" --get-seconds "$GET_SECONDS" \
        --client "$CLIENT" \
        --out "$WORK/$1.json"
}

RESULTS=()
STATUS=0
for s in "${SERVERS[@]}"; do
    port="$("$PY" "$BENCH_PY" freeport)"
    if [ "$s" = ours ]; then
        log "starting ours ($OURS_BIN) on 127.0.0.1:$port"
        start_ours "$port" "$WORK/ours-data"
        measure ours "http://127.0.0.1:$port" "$OURS_PID" "$WORK/ours-data/glance.sqlite" || STATUS=1
        stop_ours
    else
        log "starting upstream Glance on 127.0.0.1:$port"
        UP_PORT="$port"
        UPSTREAM_GLANCE_DATA="$WORK/upstream-data" UPSTREAM_GLANCE_METADEFS=0 \
            "$ROOT/scripts/testbed/upstream-glance-start.sh" "$port" >/dev/null || die "upstream did not start"
        pgid="$(cat "$WORK/upstream-data/glance.pid")"
        measure upstream "http://127.0.0.1:$port" "$pgid" "$WORK/upstream-data/glance.sqlite" || STATUS=1
        UPSTREAM_GLANCE_DATA="$WORK/upstream-data" "$ROOT/scripts/testbed/upstream-glance-stop.sh" "$port" || true
        UP_PORT=""
    fi
    [ -f "$WORK/$s.json" ] && RESULTS+=("$WORK/$s.json")
done

[ "${#RESULTS[@]}" -gt 0 ] || die "no results"
echo
echo "glance-rs benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(nproc) CPUs  $(uname -r)  measurements: $MEASURE"
"$PY" "$BENCH_PY" table "${RESULTS[@]}"
if [ -n "$JSON_DIR" ]; then
    mkdir -p "$JSON_DIR"; cp "${RESULTS[@]}" "$JSON_DIR/"; log "raw results copied to $JSON_DIR"
fi
log "done"
exit "$STATUS"
