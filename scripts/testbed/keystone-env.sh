# Settings shared by the Keystone / Tempest test-bed scripts.  Source it, do
# not run it.  Every setting can be overridden from the environment.
#
#   . scripts/testbed/keystone-env.sh
#   keystone_admin_env              # OS_* for admin/password on project admin
#   keystone_user_env demo demo     # OS_* for user demo on project demo
#   openstack token issue
#
# Accounts made by keystone-setup.sh (all in domain Default, password
# $KEYSTONE_TEST_PASSWORD, default "password"):
#   admin       project admin     role admin        (bootstrap)
#   glance      project service   roles admin, service   (the service user)
#   demo        project demo      role member (implies reader)
#   alt_demo    project alt_demo  role member
#   demo_reader project demo      role reader only
# The data dir also gets <user>-openrc.sh files and a clouds.yaml with the
# clouds keystone-admin, keystone-glance, keystone-demo, keystone-alt_demo and
# keystone-demo_reader (OS_CLIENT_CONFIG_FILE=$KEYSTONE_DATA/clouds.yaml).

TESTBED_HOME="${GLANCE_TESTBED_HOME:-$HOME/.cache/glance-rs-testbed}"
KEYSTONE_VERSION="${KEYSTONE_VERSION:-30.0.0}"
KEYSTONE_VENV="${KEYSTONE_VENV:-$TESTBED_HOME/keystone-venv}"
KEYSTONE_DATA="${KEYSTONE_DATA:-$TESTBED_HOME/keystone-data}"
KEYSTONE_HOST="${KEYSTONE_HOST:-127.0.0.1}"
KEYSTONE_PORT="${KEYSTONE_PORT:-15000}"
KEYSTONE_THREADS="${KEYSTONE_THREADS:-8}"
KEYSTONE_ROOT_URL="http://$KEYSTONE_HOST:$KEYSTONE_PORT"
KEYSTONE_URL="$KEYSTONE_ROOT_URL/v3"
KEYSTONE_REGION="${KEYSTONE_REGION:-RegionOne}"
KEYSTONE_ADMIN_USER="${KEYSTONE_ADMIN_USER:-admin}"
KEYSTONE_ADMIN_PASSWORD="${KEYSTONE_ADMIN_PASSWORD:-password}"
KEYSTONE_ADMIN_PROJECT="${KEYSTONE_ADMIN_PROJECT:-admin}"
KEYSTONE_SERVICE_PROJECT="${KEYSTONE_SERVICE_PROJECT:-service}"
GLANCE_SERVICE_USER="${GLANCE_SERVICE_USER:-glance}"
GLANCE_SERVICE_PASSWORD="${GLANCE_SERVICE_PASSWORD:-password}"
KEYSTONE_TEST_PASSWORD="${KEYSTONE_TEST_PASSWORD:-password}"
KEYSTONE_CONF="$KEYSTONE_DATA/keystone.conf"
KEYSTONE_PIDFILE="$KEYSTONE_DATA/uwsgi.pid"
KEYSTONE_LOG="$KEYSTONE_DATA/keystone.log"
KEYSTONE_UWSGI_LOG="$KEYSTONE_DATA/uwsgi.log"
# keystone-manage / openstack print pages of deprecation warnings otherwise
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore}"

# keystone_user_env USER PROJECT [PASSWORD]: OS_* for a project-scoped token.
keystone_user_env() {
    export OS_AUTH_URL="$KEYSTONE_URL"
    export OS_IDENTITY_API_VERSION=3
    export OS_AUTH_TYPE=password
    export OS_USERNAME="$1"
    export OS_PROJECT_NAME="$2"
    export OS_PASSWORD="${3:-$KEYSTONE_TEST_PASSWORD}"
    export OS_USER_DOMAIN_NAME=Default
    export OS_PROJECT_DOMAIN_NAME=Default
    export OS_REGION_NAME="$KEYSTONE_REGION"
    export OS_INTERFACE=public
    unset OS_CLOUD OS_TOKEN OS_ENDPOINT OS_URL OS_IMAGE_URL OS_PROJECT_ID \
        OS_USER_DOMAIN_ID OS_PROJECT_DOMAIN_ID OS_SYSTEM_SCOPE 2>/dev/null || true
}

# keystone_admin_env: OS_* for the bootstrap admin on the admin project.
keystone_admin_env() {
    keystone_user_env "$KEYSTONE_ADMIN_USER" "$KEYSTONE_ADMIN_PROJECT" "$KEYSTONE_ADMIN_PASSWORD"
}

# true if the uWSGI master recorded in the pid file is alive (and is a uWSGI:
# a stale pid file must not make the stop script signal a reused pid)
keystone_running() {
    local pid
    pid="$(cat "$KEYSTONE_PIDFILE" 2>/dev/null || true)"
    case "$pid" in ''|*[!0-9]*) return 1;; esac
    kill -0 "$pid" 2>/dev/null && ps -o args= -p "$pid" 2>/dev/null | grep -qi uwsgi
}

# true if something answers GET /v3 with 2xx
keystone_answers() {
    curl -fsS -m 5 -o /dev/null "$KEYSTONE_URL" 2>/dev/null
}
