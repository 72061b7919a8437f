#!/usr/bin/env bash
# Start upstream Glance (installed by upstream-glance-setup.sh) under uWSGI on
# 127.0.0.1:PORT, without Keystone, with a SQLite database and the `file`
# store in a fresh data dir (or the database and store directory given by
# UPSTREAM_GLANCE_DB_URL / UPSTREAM_GLANCE_STORE_DIR).  Prints the URL on
# stdout when it answers.
#
# Usage: scripts/testbed/upstream-glance-start.sh PORT
# Env:   GLANCE_TESTBED_HOME   default "$HOME/.cache/glance-rs-testbed"
#        UPSTREAM_GLANCE_VENV  default "$GLANCE_TESTBED_HOME/glance-venv"
#        UPSTREAM_GLANCE_DATA  data dir (default "$GLANCE_TESTBED_HOME/upstream-data-$PORT");
#                              wiped and recreated unless KEEP_DATA=1.  The database
#                              file is $UPSTREAM_GLANCE_DATA/glance.sqlite.
#        UPSTREAM_GLANCE_WORKERS  uWSGI worker processes (default 2)
#        UPSTREAM_GLANCE_DEBUG    true/false (default false)
#        UPSTREAM_GLANCE_AUTH     noauth (default) | headers
#          noauth:  upstream's default paste pipeline (unauthenticated-context):
#                   every request is an admin context without roles or project.
#                   Upstream's default RBAC checks role:admin, so out of the box
#                   every write is 403; policy.yaml overrides context_is_admin
#                   and service_api to "@".  Images get owner null.
#          headers: glance's ContextMiddleware without keystonemiddleware:
#                   identity from X-Identity-Status/X-Project-Id/X-Roles headers,
#                   default policies.
#        UPSTREAM_GLANCE_METADEFS 1 (default) loads the metadata definitions
#        UPSTREAM_GLANCE_DB_URL   [database] connection (default
#                                 sqlite:///$UPSTREAM_GLANCE_DATA/glance.sqlite), e.g.
#                                 postgresql+psycopg2://postgres@127.0.0.1:5432/NAME or
#                                 mysql+pymysql://root@127.0.0.1:3306/NAME?charset=utf8mb4
#                                 (the drivers come with UPSTREAM_GLANCE_DB_DRIVERS=1 in
#                                 upstream-glance-setup.sh).  Never wiped by this script.
#        UPSTREAM_GLANCE_STORE_DIR  filesystem_store_datadir of the store "fs" (default
#                                 $UPSTREAM_GLANCE_DATA/images/); never wiped either
#        UPSTREAM_GLANCE_DB_SYNC  1 (default): `glance-manage db sync` (and load_metadefs)
#                                 before the start.  0: the database must already be at
#                                 upstream's head (its alembic_version is the contract
#                                 head db sync would reach, else exit 1); nothing is
#                                 written to it before the server starts (no metadefs)
#        UPSTREAM_GLANCE_CONF_EXTRA  text appended to glance-api.conf (oslo.config merges
#                                 a repeated section, later values win), e.g.
#                                 $'[DEFAULT]\nshow_multiple_locations = true'
#
# Processes: one uWSGI master (in its own session, so pid == process group)
# plus the workers; the master pid is written to $DATA/glance.pid, which is
# what upstream-glance-stop.sh signals.
set -euo pipefail

PORT="${1:?usage: $0 PORT}"
case "$PORT" in ''|*[!0-9]*) echo "[upstream-start] bad port '$PORT'" >&2; exit 2;; esac
TESTBED_HOME="${GLANCE_TESTBED_HOME:-$HOME/.cache/glance-rs-testbed}"
VENV="${UPSTREAM_GLANCE_VENV:-$TESTBED_HOME/glance-venv}"
DATA="${UPSTREAM_GLANCE_DATA:-$TESTBED_HOME/upstream-data-$PORT}"
WORKERS="${UPSTREAM_GLANCE_WORKERS:-2}"
DEBUG="${UPSTREAM_GLANCE_DEBUG:-false}"
AUTH="${UPSTREAM_GLANCE_AUTH:-noauth}"
DB_SYNC="${UPSTREAM_GLANCE_DB_SYNC:-1}"
case "$DB_SYNC" in 0|1) ;; *) echo "[upstream-start] UPSTREAM_GLANCE_DB_SYNC must be 0 or 1" >&2; exit 2;; esac
case "$AUTH" in noauth) FLAVOR="";; headers) FLAVOR="trusted-headers";; *)
    echo "[upstream-start] UPSTREAM_GLANCE_AUTH must be noauth or headers" >&2; exit 2;; esac
MARK=".glance-rs-upstream-data"
PIDFILE="$DATA/glance.pid"
log() { echo "[upstream-start] $*" >&2; }

[ -x "$VENV/bin/uwsgi" ] || { log "$VENV/bin/uwsgi missing: run scripts/testbed/upstream-glance-setup.sh"; exit 1; }
[ -f "$VENV/etc/glance/glance-api-paste.ini" ] || { log "$VENV/etc/glance/glance-api-paste.ini missing"; exit 1; }

if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    log "already running (pid $(cat "$PIDFILE")); run upstream-glance-stop.sh $PORT first"; exit 1
fi
# Refuse a port someone already answers on: the readiness probe below would
# otherwise be answered by that other server.
if curl -s -o /dev/null --max-time 3 "http://127.0.0.1:$PORT/"; then
    log "port $PORT is already in use; pick another port"; exit 1
fi
if [ "${KEEP_DATA:-0}" != 1 ] && [ -d "$DATA" ]; then
    # Only wipe directories this script created (or empty ones).
    if [ -f "$DATA/$MARK" ] || [ -z "$(ls -A "$DATA")" ]; then
        rm -rf "$DATA"
    else
        log "$DATA exists and was not made by this script; refusing to wipe it"; exit 1
    fi
fi
mkdir -p "$DATA"/{images,staging,tasks_work_dir,cache,locks,conf}
touch "$DATA/$MARK"
DATA="$(cd "$DATA" && pwd)"
PIDFILE="$DATA/glance.pid"
CONF_DIR="$DATA/conf"
DB_URL="${UPSTREAM_GLANCE_DB_URL:-sqlite:///$DATA/glance.sqlite}"
STORE_DIR="${UPSTREAM_GLANCE_STORE_DIR:-$DATA/images}"
mkdir -p "$STORE_DIR"
STORE_DIR="$(cd "$STORE_DIR" && pwd)"

# --- glance-api.conf ---------------------------------------------------------
cat >"$CONF_DIR/glance-api.conf" <<CONF
[DEFAULT]
debug = $DEBUG
log_file = $DATA/glance-api.log
# Multi-store configuration with one filesystem store.
enabled_backends = fs:file
enabled_import_methods = [glance-direct,web-download,copy-image]
worker_self_reference_url = http://127.0.0.1:$PORT
image_cache_dir = $DATA/cache
hashing_algorithm = sha512
image_size_cap = 1099511627776
user_storage_quota = 0

[database]
connection = $DB_URL

[glance_store]
default_backend = fs

[fs]
filesystem_store_datadir = $STORE_DIR/

[os_glance_staging_store]
filesystem_store_datadir = $DATA/staging/

[os_glance_tasks_store]
filesystem_store_datadir = $DATA/tasks_work_dir/

[import_filtering_opts]
# Any port; loopback allowed only for 127.0.0.1 (a local test http server).
allowed_ports = []
allowed_hosts = [127.0.0.1]

[paste_deploy]
# Empty flavor: upstream's default pipeline with unauthenticated-context.
flavor = $FLAVOR
config_file = $CONF_DIR/glance-api-paste.ini

[oslo_policy]
policy_file = $CONF_DIR/policy.yaml

[oslo_concurrency]
lock_path = $DATA/locks

[wsgi]
task_pool_threads = 16
CONF
if [ -n "${UPSTREAM_GLANCE_CONF_EXTRA:-}" ]; then
    printf '\n# UPSTREAM_GLANCE_CONF_EXTRA\n%s\n' "$UPSTREAM_GLANCE_CONF_EXTRA" >>"$CONF_DIR/glance-api.conf"
fi

# --- glance-api-paste.ini: the one shipped in the wheel, with the healthcheck
# disable-file path moved into the data dir and a "trusted-headers" flavor
# (keystone pipeline minus authtoken) added for UPSTREAM_GLANCE_AUTH=headers.
sed -e "s#^disable_by_file_path = .*#disable_by_file_path = $DATA/healthcheck_disable#" \
    -e '/^keystone+cachemanagement = /a trusted-headers = cors http_proxy_to_wsgi versionnegotiation osprofiler context rootapp' \
    "$VENV/etc/glance/glance-api-paste.ini" >"$CONF_DIR/glance-api-paste.ini"
cat >>"$CONF_DIR/glance-api-paste.ini" <<'PASTE'

[composite:glance-api-trusted-headers]
paste.composite_factory = glance.api:root_app_factory
/: api
/healthcheck: healthcheck
PASTE
grep -q '^trusted-headers = ' "$CONF_DIR/glance-api-paste.ini" || { log "paste ini edit failed"; exit 1; }

# --- policy.yaml -------------------------------------------------------------
if [ "$AUTH" = noauth ]; then
    cat >"$CONF_DIR/policy.yaml" <<'POLICY'
# noauth: the unauthenticated context (is_admin, no roles) must pass the
# role:admin checks of the default rules.
"context_is_admin": "@"
"service_api": "@"
POLICY
else
    echo '# default policies' >"$CONF_DIR/policy.yaml"
fi
if [ -f "$VENV/etc/glance/schema-image.json" ]; then
    cp "$VENV/etc/glance/schema-image.json" "$CONF_DIR/schema-image.json"
else
    log "WARNING: no schema-image.json in the venv; the image schema lacks the extra properties"
fi

# --- uwsgi.ini ---------------------------------------------------------------
# Upstream's uWSGI deployment settings, with `processes` from the env, no
# plugins/unix socket, and chunked-input-limit raised to 64 MiB: the clients
# upload with 1 MiB chunks (Transfer-Encoding: chunked), which uWSGI's 1 MiB
# default refuses with 500 "unable to receive chunked part".
cat >"$CONF_DIR/uwsgi.ini" <<UWSGI
[uwsgi]
socket-timeout = 10
http-auto-chunked = true
http-chunked-input = true
http-raw-body = true
lazy-apps = true
add-header = Connection: close
buffer-size = 65535
chunked-input-limit = 67108864
thunder-lock = true
enable-threads = true
exit-on-reload = true
die-on-term = true
master = true
processes = $WORKERS
http-socket = 127.0.0.1:$PORT
module = glance.wsgi.api:application
home = $VENV
env = OS_GLANCE_CONFIG_DIR=$CONF_DIR
procname-prefix-spaced = glance-api-$PORT
UWSGI

# --- database ----------------------------------------------------------------
manage() { OS_GLANCE_CONFIG_DIR="$CONF_DIR" "$VENV/bin/glance-manage" --config-file "$CONF_DIR/glance-api.conf" "$@"; }
if [ "$DB_SYNC" = 0 ]; then
    # Someone else made the schema: upstream must take it as it is, i.e. its
    # alembic_version must be upstream's contract head (what `db sync` would
    # reach; `glance-manage db check` does not support PostgreSQL).
    log "checking the database's alembic version"
    rc=0
    OS_GLANCE_CONFIG_DIR="$CONF_DIR" "$VENV/bin/python" -W ignore - "$CONF_DIR/glance-api.conf" \
        >"$DATA/db-check.log" 2>&1 <<'PY' || rc=$?
import sys
from oslo_config import cfg
from glance.db import migration
from glance.db.sqlalchemy import alembic_migrations
cfg.CONF(['--config-file', sys.argv[1]], project='glance')
head = alembic_migrations.get_alembic_branch_head(migration.CONTRACT_BRANCH)
current = list(alembic_migrations.get_current_alembic_heads())
print('database at %s, upstream head %s' % (','.join(current) or 'none', head))
sys.exit(0 if current == [head] else 3)
PY
    if [ "$rc" != 0 ]; then
        log "the database is not at upstream's head (exit $rc):"; tail -20 "$DATA/db-check.log" >&2; exit 1
    fi
    log "$(tail -1 "$DATA/db-check.log")"
else
    log "glance-manage db sync"
    manage db sync >"$DATA/db-sync.log" 2>&1 || {
        log "db sync failed:"; tail -20 "$DATA/db-sync.log" >&2; exit 1; }
    if [ "${UPSTREAM_GLANCE_METADEFS:-1}" = 1 ]; then
        manage db load_metadefs --path "$VENV/etc/glance/metadefs/" >>"$DATA/db-sync.log" 2>&1 \
            || log "db load_metadefs failed (non-fatal), see $DATA/db-sync.log"
    fi
fi

# --- start -------------------------------------------------------------------
log "starting uwsgi on 127.0.0.1:$PORT with $WORKERS workers (data $DATA)"
OS_GLANCE_CONFIG_DIR="$CONF_DIR" setsid "$VENV/bin/uwsgi" --ini "$CONF_DIR/uwsgi.ini" \
    >"$DATA/uwsgi.log" 2>&1 </dev/null &
PID=$!
echo "$PID" >"$PIDFILE"

# Ready = GET / answers 300 and every worker has loaded the app (lazy-apps:
# each worker imports Glance itself, which takes seconds and CPU).
for _ in $(seq 1 180); do
    if ! kill -0 "$PID" 2>/dev/null; then
        log "uwsgi died:"; tail -30 "$DATA/uwsgi.log" >&2; rm -f "$PIDFILE"; exit 1
    fi
    if [ "$(curl -s -o /dev/null --max-time 5 -w '%{http_code}' "http://127.0.0.1:$PORT/")" = 300 ] \
       && grep -q "bound to TCP address 127.0.0.1:$PORT" "$DATA/uwsgi.log" \
       && [ "$(grep -c "WSGI app 0 (mountpoint='') ready" "$DATA/uwsgi.log")" -ge "$WORKERS" ]; then
        log "up: http://127.0.0.1:$PORT (uwsgi master pid/pgid $PID; logs $DATA/uwsgi.log, $DATA/glance-api.log)"
        echo "http://127.0.0.1:$PORT"
        exit 0
    fi
    sleep 0.5
done
log "timed out waiting for GET / on port $PORT"; tail -30 "$DATA/uwsgi.log" >&2
kill -KILL -- "-$PID" 2>/dev/null || true
rm -f "$PIDFILE"
exit 1
