#!/usr/bin/env bash
# Install and configure a real Keystone for the end-to-end and Tempest tests.
#
#   * venv keystone-venv/: keystone==$KEYSTONE_VERSION (30.0.0), uWSGI (built
#     from source: needs gcc and the Python headers), python-openstackclient
#   * data dir keystone-data/: keystone.conf (SQLite in WAL mode, fernet
#     tokens, in-process dogpile cache, bcrypt with 4 rounds), keystone.db,
#     fernet-keys/, credential-keys/, logs, <user>-openrc.sh, clouds.yaml
#   * db_sync, fernet_setup, credential_setup, bootstrap: admin/password on
#     project admin, region RegionOne, identity endpoints
#     http://127.0.0.1:$KEYSTONE_PORT/v3 (public/internal/admin)
#   * through the API: roles admin/member/reader/service, project service
#     with user glance (admin + service), projects demo and alt_demo with
#     users demo, alt_demo (member) and demo_reader (reader on demo only);
#     every password is "password" (see keystone-env.sh for overrides)
#
# Idempotent and cheap to re-run: the database steps are skipped when the
# settings did not change since the last complete run (then a running
# Keystone is not restarted); accounts are created only if missing and
# passwords reset only if they no longer work.  Keystone is left in the state
# it was found (running or not; KEEP_RUNNING=1 leaves it running).
# First run ~2-3 min (uWSGI compiles), afterwards a few seconds.
#
# Usage: scripts/testbed/keystone-setup.sh
# Env:   see keystone-env.sh; PYTHON (interpreter for a new venv, default python3)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$HERE/keystone-env.sh"
PY="${PYTHON:-python3}"
LOG="$TESTBED_HOME/keystone-setup.log"
log() { echo "[keystone-setup] $*" >&2; }
mkdir -p "$TESTBED_HOME" "$KEYSTONE_DATA"
: >"$LOG"
# run DESCRIPTION CMD...: command output goes to the log; on failure print its tail
run() {
    local what="$1"; shift
    echo "### $what: $*" >>"$LOG"
    if ! "$@" >>"$LOG" 2>&1; then
        log "$what failed; last lines of $LOG:"; tail -n 30 "$LOG" >&2; exit 1
    fi
}
installed() { # distribution -> version or empty
    "$KEYSTONE_VENV/bin/python" -c 'import importlib.metadata as m,sys; print(m.version(sys.argv[1]))' "$1" 2>/dev/null || true
}

# --- 1. venv -------------------------------------------------------------------
if [ ! -x "$KEYSTONE_VENV/bin/python" ] || ! "$KEYSTONE_VENV/bin/python" -c 'import sys' 2>/dev/null; then
    command -v "$PY" >/dev/null || { log "no $PY found (set PYTHON=...)"; exit 1; }
    log "creating venv $KEYSTONE_VENV with $("$PY" --version 2>&1)"
    rm -rf "$KEYSTONE_VENV"
    run "venv" "$PY" -m venv "$KEYSTONE_VENV"
    run "pip upgrade" "$KEYSTONE_VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip setuptools wheel
fi
if [ "$(installed keystone)" != "$KEYSTONE_VERSION" ] || [ ! -x "$KEYSTONE_VENV/bin/uwsgi" ] \
   || [ ! -x "$KEYSTONE_VENV/bin/openstack" ]; then
    log "installing keystone==$KEYSTONE_VERSION, uwsgi, python-openstackclient (2-3 min the first time; log $LOG)"
    run "pip install" "$KEYSTONE_VENV/bin/python" -m pip install -q --disable-pip-version-check \
        "keystone==$KEYSTONE_VERSION" uwsgi python-openstackclient
fi

# --- 2. configuration + database (skipped when nothing changed) ------------------
CONF_NEW="$(cat <<CONF
# written by keystone-setup.sh
[DEFAULT]
log_file = $KEYSTONE_LOG
use_stderr = false
debug = false

[database]
connection = sqlite:///$KEYSTONE_DATA/keystone.db
sqlite_synchronous = false

[token]
provider = fernet
expiration = 14400

[fernet_tokens]
key_repository = $KEYSTONE_DATA/fernet-keys
max_active_keys = 3

[credential]
key_repository = $KEYSTONE_DATA/credential-keys

[identity]
# test bed: cheap password hashing keeps token requests fast
password_hash_algorithm = bcrypt
password_hash_rounds = 4

[cache]
# In-process cache: without it a token validation costs ~100 SQL queries
# (0.6-2 s).  Coherent only because keystone-start.sh runs one process.
enabled = true
backend = dogpile.cache.memory

[oslo_policy]
enforce_scope = false
enforce_new_defaults = false
CONF
)"
STAMP_NEW="$(printf '%s\n' "$KEYSTONE_VERSION" "$KEYSTONE_ADMIN_USER" "$KEYSTONE_ADMIN_PASSWORD" \
    "$KEYSTONE_ADMIN_PROJECT" "$KEYSTONE_REGION" "$KEYSTONE_URL" "$CONF_NEW" | sha256sum | cut -d' ' -f1)"
STAMP="$KEYSTONE_DATA/.setup-stamp"
was_running=0
keystone_running && was_running=1
if [ -f "$KEYSTONE_DATA/keystone.db" ] && [ "$(cat "$STAMP" 2>/dev/null || true)" = "$STAMP_NEW" ]; then
    log "database already bootstrapped for these settings"
else
    rm -f "$STAMP"
    # keystone-manage writes the DB directly: a running server's cache would go stale
    if [ "$was_running" = 1 ]; then "$HERE/keystone-stop.sh"; fi
    printf '%s\n' "$CONF_NEW" >"$KEYSTONE_CONF"
    mkdir -p "$KEYSTONE_DATA/fernet-keys" "$KEYSTONE_DATA/credential-keys"
    chmod 700 "$KEYSTONE_DATA/fernet-keys" "$KEYSTONE_DATA/credential-keys"
    KM=("$KEYSTONE_VENV/bin/keystone-manage" --config-file "$KEYSTONE_CONF")
    log "db_sync, fernet/credential keys, bootstrap"
    run "db_sync" "${KM[@]}" db_sync
    # WAL: readers do not block the writer (a persistent property of the file)
    run "WAL" "$KEYSTONE_VENV/bin/python" -c \
        'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("PRAGMA journal_mode=WAL")' \
        "$KEYSTONE_DATA/keystone.db"
    if [ ! -f "$KEYSTONE_DATA/fernet-keys/0" ]; then
        run "fernet_setup" "${KM[@]}" fernet_setup --keystone-user "$(id -u)" --keystone-group "$(id -g)"
    fi
    if [ ! -f "$KEYSTONE_DATA/credential-keys/0" ]; then
        run "credential_setup" "${KM[@]}" credential_setup --keystone-user "$(id -u)" --keystone-group "$(id -g)"
    fi
    run "bootstrap" "${KM[@]}" bootstrap \
        --bootstrap-username "$KEYSTONE_ADMIN_USER" \
        --bootstrap-password "$KEYSTONE_ADMIN_PASSWORD" \
        --bootstrap-project-name "$KEYSTONE_ADMIN_PROJECT" \
        --bootstrap-role-name admin \
        --bootstrap-service-name keystone \
        --bootstrap-region-id "$KEYSTONE_REGION" \
        --bootstrap-public-url "$KEYSTONE_URL" \
        --bootstrap-internal-url "$KEYSTONE_URL" \
        --bootstrap-admin-url "$KEYSTONE_URL"
    echo "$STAMP_NEW" >"$STAMP"
fi

# --- 3. accounts through the API ---------------------------------------------------
started_here=0
if ! keystone_running || ! keystone_answers; then
    "$HERE/keystone-start.sh"
    [ "$was_running" = 1 ] || started_here=1
fi
log "roles, projects and users"
echo "### accounts" >>"$LOG"
if ! KS_URL="$KEYSTONE_URL" KS_ADMIN_USER="$KEYSTONE_ADMIN_USER" \
     KS_ADMIN_PASSWORD="$KEYSTONE_ADMIN_PASSWORD" KS_ADMIN_PROJECT="$KEYSTONE_ADMIN_PROJECT" \
     KS_SERVICE_PROJECT="$KEYSTONE_SERVICE_PROJECT" KS_GLANCE_USER="$GLANCE_SERVICE_USER" \
     KS_GLANCE_PASSWORD="$GLANCE_SERVICE_PASSWORD" KS_TEST_PASSWORD="$KEYSTONE_TEST_PASSWORD" \
     "$KEYSTONE_VENV/bin/python" - >>"$LOG" 2>&1 <<'PY'
import os
from keystoneauth1 import exceptions as ka_exc, session
from keystoneauth1.identity import v3
from keystoneclient.v3 import client

E = os.environ
URL = E["KS_URL"]
def sess(user, password, project):
    return session.Session(auth=v3.Password(
        auth_url=URL, username=user, password=password, project_name=project,
        user_domain_id="default", project_domain_id="default"))

ks = client.Client(session=sess(E["KS_ADMIN_USER"], E["KS_ADMIN_PASSWORD"],
                                E["KS_ADMIN_PROJECT"]), interface="public")

def one(items):
    return items[0] if items else None

roles = {}
for name in ("admin", "member", "reader", "service"):
    roles[name] = one(ks.roles.list(name=name)) or ks.roles.create(name)

def project(name, description):
    return one(ks.projects.list(name=name, domain="default")) or \
        ks.projects.create(name, "default", description=description)

def user(name, password, proj):
    u = one(ks.users.list(name=name, domain="default"))
    if u is None:
        u = ks.users.create(name, domain="default", password=password,
                            default_project=proj)
        print("created user", name)
    else:
        try:  # reset the password only if it no longer works (resets revoke tokens)
            sess(name, password, proj.name).get_token()
        except ka_exc.Unauthorized:
            ks.users.update(u, password=password)
            print("reset password of", name)
    return u

def grant(u, proj, *names):
    for n in names:
        ks.roles.grant(roles[n], user=u, project=proj)

service = project(E["KS_SERVICE_PROJECT"], "Service project")
grant(user(E["KS_GLANCE_USER"], E["KS_GLANCE_PASSWORD"], service), service, "admin", "service")
demo = project("demo", "Test project demo")
alt = project("alt_demo", "Test project alt_demo")
grant(user("demo", E["KS_TEST_PASSWORD"], demo), demo, "member")
grant(user("alt_demo", E["KS_TEST_PASSWORD"], alt), alt, "member")
grant(user("demo_reader", E["KS_TEST_PASSWORD"], demo), demo, "reader")
# demo_reader must have reader only
reader_user = one(ks.users.list(name="demo_reader", domain="default"))
for a in ks.role_assignments.list(user=reader_user, project=demo):
    if a.role["id"] != roles["reader"].id:
        ks.roles.revoke(a.role["id"], user=reader_user, project=demo)
        print("revoked", a.role["id"], "from demo_reader")
print("accounts ok")
PY
then
    log "account setup failed; last lines of $LOG:"; tail -n 30 "$LOG" >&2
    [ "$started_here" = 1 ] && "$HERE/keystone-stop.sh" || true
    exit 1
fi

# --- 4. openrc files + clouds.yaml for humans and tests ----------------------------
ACCOUNTS=("admin:$KEYSTONE_ADMIN_USER:$KEYSTONE_ADMIN_PROJECT:$KEYSTONE_ADMIN_PASSWORD"
          "glance:$GLANCE_SERVICE_USER:$KEYSTONE_SERVICE_PROJECT:$GLANCE_SERVICE_PASSWORD"
          "demo:demo:demo:$KEYSTONE_TEST_PASSWORD"
          "alt_demo:alt_demo:alt_demo:$KEYSTONE_TEST_PASSWORD"
          "demo_reader:demo_reader:demo:$KEYSTONE_TEST_PASSWORD")
{
    echo "# written by keystone-setup.sh: OS_CLIENT_CONFIG_FILE=$KEYSTONE_DATA/clouds.yaml openstack --os-cloud keystone-demo ..."
    echo "clouds:"
} >"$KEYSTONE_DATA/clouds.yaml"
for a in "${ACCOUNTS[@]}"; do
    IFS=: read -r label user project password <<<"$a"
    cat >"$KEYSTONE_DATA/$label-openrc.sh" <<RC
export OS_AUTH_URL=$KEYSTONE_URL
export OS_IDENTITY_API_VERSION=3
export OS_AUTH_TYPE=password
export OS_USERNAME=$user
export OS_PASSWORD=$password
export OS_PROJECT_NAME=$project
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
export OS_REGION_NAME=$KEYSTONE_REGION
export OS_INTERFACE=public
RC
    cat >>"$KEYSTONE_DATA/clouds.yaml" <<YAML
  keystone-$label:
    auth:
      auth_url: $KEYSTONE_URL
      username: $user
      password: $password
      project_name: $project
      user_domain_name: Default
      project_domain_name: Default
    region_name: $KEYSTONE_REGION
    interface: public
    identity_api_version: 3
YAML
done

if [ "$started_here" = 1 ] && [ "${KEEP_RUNNING:-0}" != 1 ]; then
    "$HERE/keystone-stop.sh"
fi
cat >&2 <<SUMMARY
[keystone-setup] keystone $KEYSTONE_VERSION ready: $KEYSTONE_URL (region $KEYSTONE_REGION), data $KEYSTONE_DATA
  admin/$KEYSTONE_ADMIN_PASSWORD (project $KEYSTONE_ADMIN_PROJECT, admin)   $GLANCE_SERVICE_USER/$GLANCE_SERVICE_PASSWORD (project $KEYSTONE_SERVICE_PROJECT, admin+service)
  demo, alt_demo (member on demo / alt_demo), demo_reader (reader on demo): password $KEYSTONE_TEST_PASSWORD
  openrc: $KEYSTONE_DATA/<admin|glance|demo|alt_demo|demo_reader>-openrc.sh; clouds.yaml: $KEYSTONE_DATA/clouds.yaml
  start/stop: $HERE/keystone-start.sh, $HERE/keystone-stop.sh
SUMMARY
