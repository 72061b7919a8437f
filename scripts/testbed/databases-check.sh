#!/usr/bin/env bash
# The PostgreSQL and MariaDB servers the glance-db engine tests use: the machine's
# own, on 127.0.0.1:5432 (trust auth, user postgres) and 127.0.0.1:3306 (root,
# empty password). Each test creates and drops its own glance_test_* database.
#
# Checks that both answer; if one does not, tries to start it with the system's
# service command (root only), then checks again. Prints the two admin URLs the
# tests read (GLANCE_TEST_POSTGRES_URL, GLANCE_TEST_MYSQL_URL) as shell exports.
#
# Env: GLANCE_TEST_POSTGRES_URL / GLANCE_TEST_MYSQL_URL  use other servers (then
#      nothing is checked or started here).
set -euo pipefail

log() { echo "[databases] $*" >&2; }

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
my_up() { mariadb-admin --host=127.0.0.1 --port=3306 -uroot ping >/dev/null 2>&1; }

ensure() { # NAME CHECK SERVICE
    local name="$1" check="$2" service="$3"
    if "$check"; then return 0; fi
    if command -v service >/dev/null && [ "$(id -u)" = 0 ]; then
        log "$name does not answer; starting it (service $service start)"
        service "$service" start >&2 || true
        for _ in $(seq 1 30); do "$check" && return 0; sleep 1; done
    fi
    log "$name does not answer on 127.0.0.1 and could not be started"
    return 1
}

if [ -z "${GLANCE_TEST_POSTGRES_URL:-}" ]; then
    command -v pg_isready >/dev/null || { log "pg_isready not found (install postgresql-client)"; exit 1; }
    ensure PostgreSQL pg_up postgresql
    echo "export GLANCE_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres"
fi
if [ -z "${GLANCE_TEST_MYSQL_URL:-}" ]; then
    command -v mariadb-admin >/dev/null || { log "mariadb-admin not found (install mariadb-client)"; exit 1; }
    ensure MariaDB my_up mariadb
    echo "export GLANCE_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/mysql"
fi
