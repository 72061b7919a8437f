# Settings shared by the Tempest test-bed scripts (tempest-*.sh, scripts/tempest).
# Source it, do not run it.  Includes keystone-env.sh.  Every setting can be
# overridden from the environment.
TESTBED_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$TESTBED_SCRIPTS/keystone-env.sh"

TEMPEST_VERSION="${TEMPEST_VERSION:-47.0.0}"
TEMPEST_VENV="${TEMPEST_VENV:-$TESTBED_HOME/tempest-venv}"
TEMPEST_WS="${TEMPEST_WS:-$TESTBED_HOME/tempest-ws}"
TEMPEST_RESULTS="${TEMPEST_RESULTS:-$TESTBED_HOME/tempest-results}"

# A static HTTP server on loopback standing in for the Internet image URLs
# Tempest uses ([image] http_image, http_qcow2_image).
HTTP_IMAGES_PORT="${HTTP_IMAGES_PORT:-19380}"
HTTP_IMAGES_DIR="${HTTP_IMAGES_DIR:-$TESTBED_HOME/tempest-http}"
HTTP_IMAGES_URL="http://127.0.0.1:$HTTP_IMAGES_PORT"
