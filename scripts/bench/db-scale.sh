#!/usr/bin/env bash
# Database-scale benchmark: list and show latency of our glance-api and of upstream
# Glance 33.0.0 on the same PostgreSQL / MariaDB database holding 100,000 images
# (10 properties, 2 tags, 2 members each), and the EXPLAIN plans of the SQL our
# server issues. See docs/BENCHMARKS.md ("Database scale") for what it measures.
#
# For each engine: a fresh database glance_dbscale_<engine>_<time> on the machine's
# server (scripts/testbed/databases-check.sh), the schema made by our glance-api on
# its first start, a bulk fill in SQL (scripts/bench/dbscale.py fill) and ANALYZE,
# one request per case against our server with glance_db::sql=trace (the SQL it
# issues), then ours and upstream (uWSGI, 2 workers; scripts/testbed/upstream-glance-start.sh)
# side by side, requests interleaved, as a project member and as an admin
# ([paste_deploy] flavor trusted-auth / upstream's context middleware: identity from
# the X-Project-Id / X-Roles headers, default policies); last, EXPLAIN ANALYZE of
# every statement (PostgreSQL also on the 6th execution of the prepared statement).
#
# Usage: scripts/bench/db-scale.sh [options]
#   --engine postgresql|mariadb|both   [both]
#   --images N            images to fill [100000]
#   --reps N              timed requests per server and case [30]
#   --budget S            stop timing a server on a case after S seconds (at least 5
#                         requests) [60]
#   --only ours           no upstream (no ratio)
#   --candidate BIN       also time another glance-api build ("candidate", e.g. with a
#                         query change) side by side on the same database
#   --proposed            also EXPLAIN the proposed form of each page query (dbscale.py)
#   --no-build            use the existing release binary
#   --no-explain          skip the plans
#   --keep-db             keep the databases (their names are printed)
#   --reuse-db NAME       use this already filled glance_dbscale_* database (one engine)
#   --out DIR             results directory [$GLANCE_TESTBED_HOME/dbscale-results/<time>]
#   -h, --help
# Env: GLANCE_API_BIN (our binary; default ${CARGO_TARGET_DIR:-target}/release/glance-api),
#      GLANCE_TESTBED_HOME [~/.cache/glance-rs-testbed], UPSTREAM_GLANCE_VENV,
#      GLANCE_TEST_POSTGRES_URL / GLANCE_TEST_MYSQL_URL (admin URLs of other servers).
# Output: the Markdown tables on stdout; in the results directory results-*.json,
# plans-*.txt (every plan in full), plans-*.json (full scans found), table.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
TESTBED_HOME="${GLANCE_TESTBED_HOME:-$HOME/.cache/glance-rs-testbed}"
export GLANCE_TESTBED_HOME="$TESTBED_HOME"
PY="${PYTHON:-python3}"
HELPER="$ROOT/scripts/bench/dbscale.py"

ENGINES="both" IMAGES=100000 REPS=30 BUDGET=60 ONLY="" BUILD=1 EXPLAIN=1 KEEP_DB=0 REUSE="" OUT=""
CANDIDATE="" PROPOSED=()
while [ $# -gt 0 ]; do
    case "$1" in
        --engine) ENGINES="${2:?}"; shift 2;;
        --images) IMAGES="${2:?}"; shift 2;;
        --reps) REPS="${2:?}"; shift 2;;
        --budget) BUDGET="${2:?}"; shift 2;;
        --only) ONLY="${2:?}"; [ "$ONLY" = ours ] || { echo "--only ours" >&2; exit 2; }; shift 2;;
        --no-build) BUILD=0; shift;;
        --candidate) CANDIDATE="${2:?}"; shift 2;;
        --proposed) PROPOSED=(--proposed); shift;;
        --no-explain) EXPLAIN=0; shift;;
        --keep-db) KEEP_DB=1; shift;;
        --reuse-db) REUSE="${2:?}"; shift 2;;
        --out) OUT="${2:?}"; shift 2;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2;;
    esac
done
case "$ENGINES" in postgresql) ENGINES=(postgresql);; mariadb) ENGINES=(mysql);;
    both) ENGINES=(postgresql mysql);; *) echo "--engine postgresql|mariadb|both" >&2; exit 2;; esac
for v in IMAGES REPS BUDGET; do
    case "${!v}" in ''|*[!0-9]*) echo "--${v,,} must be a positive integer" >&2; exit 2;; esac
done
if [ -n "$REUSE" ] && [ "${#ENGINES[@]}" != 1 ]; then
    echo "--reuse-db needs --engine postgresql or --engine mariadb" >&2; exit 2
fi

T0=$(date +%s)
log() { printf '[db-scale %4ss] %s\n' "$(( $(date +%s) - T0 ))" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
for t in curl "$PY" setsid; do command -v "$t" >/dev/null || die "$t is required"; done

TARGET="${CARGO_TARGET_DIR:-target}"
case "$TARGET" in /*) ;; *) TARGET="$ROOT/$TARGET";; esac
OURS_BIN="${GLANCE_API_BIN:-$TARGET/release/glance-api}"
if [ "$BUILD" = 1 ] && [ -z "${GLANCE_API_BIN:-}" ]; then
    log "cargo build --release -p glance-server --bin glance-api"
    cargo build --release -j"${CARGO_JOBS:-2}" -p glance-server --bin glance-api || die "cargo build failed"
fi
[ -x "$OURS_BIN" ] || die "our binary $OURS_BIN does not exist (build it or set GLANCE_API_BIN)"
[ -z "$CANDIDATE" ] || [ -x "$CANDIDATE" ] || die "--candidate $CANDIDATE is not an executable"
if [ -z "$ONLY" ]; then
    UPSTREAM_GLANCE_DB_DRIVERS=1 "$ROOT/scripts/testbed/upstream-glance-setup.sh" >/dev/null \
        || die "upstream setup failed"
fi
DB_ENV="$("$ROOT/scripts/testbed/databases-check.sh")" || die "the databases do not answer"
eval "$DB_ENV"
export GLANCE_TEST_POSTGRES_URL GLANCE_TEST_MYSQL_URL

STAMP="$(date -u +%Y%m%d%H%M%S)"
OUT="${OUT:-$TESTBED_HOME/dbscale-results/$STAMP}"
mkdir -p "$OUT"
WORK="$(mktemp -d "$TESTBED_HOME/dbscale-work.XXXXXX")"
log "results in $OUT"

# --- cleanup ----------------------------------------------------------------------
PIDS=() UP_PORT="" CREATED=()
stop_ours() { # every glance-api this script started
    local pid
    for pid in ${PIDS[@]+"${PIDS[@]}"}; do
        kill -TERM -- "-$pid" 2>/dev/null || true
        for _ in $(seq 1 40); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.25; done
        kill -KILL -- "-$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
}
stop_upstream() {
    [ -n "$UP_PORT" ] || return 0
    UPSTREAM_GLANCE_DATA="$WORK/upstream-data" "$ROOT/scripts/testbed/upstream-glance-stop.sh" "$UP_PORT" || true
    UP_PORT=""
}
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_ours
    stop_upstream
    local e_db
    for e_db in ${CREATED[@]+"${CREATED[@]}"}; do
        if [ "$KEEP_DB" = 1 ]; then
            log "kept database ${e_db#*:} (${e_db%%:*}); drop it with: $PY $HELPER drop --engine ${e_db%%:*} --db ${e_db#*:}"
        else
            "$PY" "$HELPER" drop --engine "${e_db%%:*}" --db "${e_db#*:}" || true
        fi
    done
    if [ "$rc" = 0 ]; then rm -rf "$WORK"; else log "work dir kept: $WORK"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_ours() { # PORT DB_URL [RUST_LOG [BINARY NAME]]
    local port="$1" url="$2" rust_log="${3:-}" bin="${4:-$OURS_BIN}" name="${5:-ours}"
    local data="$WORK/$name-data" pid
    mkdir -p "$data/images"
    cat >"$WORK/$name.conf" <<CONF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $port
log_file = $WORK/$name.log
enabled_backends = fs:file

[database]
connection = $url

[glance_store]
default_backend = fs

[fs]
filesystem_store_datadir = $data/images/

[paste_deploy]
flavor = trusted-auth
CONF
    RUST_LOG="${rust_log:-info}" setsid "$bin" --config-file "$WORK/$name.conf" --data-dir "$data" \
        >>"$WORK/$name.out" 2>&1 </dev/null &
    pid=$!
    PIDS+=("$pid")
    for _ in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || { tail -20 "$WORK/$name.out" "$WORK/$name.log" >&2 || true; die "$name glance-api exited during start-up"; }
        curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/versions" && return 0
        sleep 0.2
    done
    die "$name glance-api did not answer within 60 s"
}

TABLES=()
for engine in "${ENGINES[@]}"; do
    label=$([ "$engine" = mysql ] && echo mariadb || echo postgresql)
    if [ -n "$REUSE" ]; then
        db="$REUSE"
    else
        db="glance_dbscale_${label}_$STAMP"
        "$PY" "$HELPER" create --engine "$engine" --db "$db"
        CREATED+=("$engine:$db")
    fi
    url="$("$PY" "$HELPER" url --engine "$engine" --db "$db")"
    port="$("$PY" "$ROOT/scripts/bench/bench.py" freeport)"

    if [ -z "$REUSE" ]; then
        log "$label: our glance-api creates the schema"
        start_ours "$port" "$url"
        stop_ours
        log "$label: filling $IMAGES images"
        "$PY" "$HELPER" fill --engine "$engine" --db "$db" --images "$IMAGES" --stats "$OUT/fill-$label.json"
    fi
    "$PY" "$HELPER" fixture --engine "$engine" --db "$db" --out "$OUT/fixture-$label.json"

    captured=()
    if [ "$EXPLAIN" = 1 ]; then
        log "$label: the SQL our server issues (glance_db::sql=trace)"
        start_ours "$port" "$url" "info,glance_db::sql=trace"
        "$PY" "$HELPER" capture --fixture "$OUT/fixture-$label.json" --url "http://127.0.0.1:$port" \
            --log "$WORK/ours.log" --out "$OUT/captured-$label.json"
        captured=(--captured "$OUT/captured-$label.json")
        stop_ours
    fi

    log "$label: timing"
    start_ours "$port" "$url"
    urls=(--url "ours=http://127.0.0.1:$port")
    if [ -n "$CANDIDATE" ]; then
        cport="$("$PY" "$ROOT/scripts/bench/bench.py" freeport)"
        start_ours "$cport" "$url" "" "$CANDIDATE" candidate
        urls+=(--url "candidate=http://127.0.0.1:$cport")
    fi
    if [ -z "$ONLY" ]; then
        UP_PORT="$("$PY" "$ROOT/scripts/bench/bench.py" freeport)"
        # On the database as it is (no db sync, no metadefs), identity from headers.
        UPSTREAM_GLANCE_DATA="$WORK/upstream-data" UPSTREAM_GLANCE_DB_URL="$url" \
            UPSTREAM_GLANCE_DB_SYNC=0 UPSTREAM_GLANCE_AUTH=headers UPSTREAM_GLANCE_METADEFS=0 \
            "$ROOT/scripts/testbed/upstream-glance-start.sh" "$UP_PORT" >/dev/null \
            || die "upstream did not start"
        urls+=(--url "upstream=http://127.0.0.1:$UP_PORT")
    fi
    "$PY" "$HELPER" measure --fixture "$OUT/fixture-$label.json" "${urls[@]}" --reps "$REPS" \
        --budget "$BUDGET" --out "$OUT/results-$label.json"
    stop_ours
    stop_upstream
    TABLES+=("$OUT/results-$label.json")

    if [ "$EXPLAIN" = 1 ]; then
        log "$label: EXPLAIN"
        "$PY" "$HELPER" explain --engine "$engine" --db "$db" --fixture "$OUT/fixture-$label.json" \
            "${captured[@]}" ${PROPOSED[@]+"${PROPOSED[@]}"} --out "$OUT/plans-$label.txt" \
            --summary "$OUT/plans-$label.json"
    fi
done

{
    echo "glance-rs database-scale benchmark $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, $IMAGES images"
    "$PY" "$HELPER" table "${TABLES[@]}"
} | tee "$OUT/table.md"
log "done; results in $OUT"
