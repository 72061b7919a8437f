#!/usr/bin/env bash
# Run the real Tempest image API tests (tempest.api.image, 102 tests in
# Tempest 47.0.0) against the Glance at IMAGE_URL, authenticating through the
# test-bed Keystone.
#
# Usage: scripts/testbed/tempest-run.sh IMAGE_URL      e.g. http://127.0.0.1:19292
#
# Steps: start Keystone if it does not answer (it is left running), register
# IMAGE_URL as the `image` endpoint, start the local image HTTP server if
# needed (stopped again at the end), write tempest.conf, run
# `tempest run --regex '^tempest\.api\.image' --concurrency 2`, and keep
# everything in a results dir
#   $TEMPEST_RESULTS/<YYYYmmdd-HHMMSS>-<host_port>/  (or $RESULTS_DIR;
#   $TEMPEST_RESULTS/latest points at the newest):
#     tempest.conf console.log tempest.log (every request/response)
#     run.subunit junit.xml all-tests.txt passed.txt failed.txt skipped.txt
#     failures.txt skip-reasons.txt summary.txt
# Counts are per selected test (a setUpClass skip/failure counts for every
# test of its class), so passed + failed + skipped = selected tests.
# The last line on stdout is exactly "N passed, M failed, K skipped".
# Exit status: 0 no test failed, 1 some failed, 2 harness error (no summary).
#
# The server must validate Keystone tokens against this Keystone (service
# user glance/password in project service, see keystone-env.sh).
#
# Feature flags (true/false; the defaults describe a fully featured upstream
# Glance 33 deployment):
#   IMAGE_IMPORT=true            interoperable import (/v2/images/{id}/import)
#   IMAGE_MANAGE_LOCATIONS=true  show_multiple_locations (location PATCH API)
#   IMAGE_HTTP_STORE=true        an http store is enabled (add-location API)
#   IMAGE_DO_SECURE_HASH=true    do_secure_hash
#   IMAGE_CACHING=true           image cache API
#   IMAGE_STORE_WEIGHT=true      multi-store with weights (stores named so that
#                                weight order == name order, e.g. fast/slow)
#   IMAGE_FORMAT_ENFORCEMENT=false  true: Tempest expects uploads to match
#                                disk_format and skips ListUserImagesTest
#                                (which uploads random bytes as qcow2, vhd...)
#   IMAGE_CONVERSION=false       image conversion import plugin
#   IMAGE_ENFORCE_SCOPE=true     [enforce_scope] glance: reads with a separate
#                                project-reader user (new-default RBAC)
#   IMAGE_REMOTE_URL=            a second API node sharing the DB and stores:
#                                registered as service type image_remote for
#                                the remote import/delete/cache tests (unset:
#                                those 3 tests skip)
# Other knobs: TEMPEST_REGEX ('^tempest\.api\.image'), TEMPEST_CONCURRENCY (2),
#   IMAGE_BUILD_TIMEOUT (120 s), RESULTS_DIR, VERBOSE=1 (stream the console).
# Env: see tempest-env.sh and keystone-env.sh.
set -euo pipefail
trap 'echo "[tempest-run] error at line $LINENO" >&2; exit 2' ERR
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$HERE/tempest-env.sh"

die() { echo "[tempest-run] $*" >&2; exit 2; }
log() { echo "[tempest-run] $*" >&2; }
IMAGE_URL="${1:-}"
[ -n "$IMAGE_URL" ] || die "usage: $0 IMAGE_URL"
IMAGE_URL="${IMAGE_URL%/}"
REGEX="${TEMPEST_REGEX:-^tempest\.api\.image}"
CONCURRENCY="${TEMPEST_CONCURRENCY:-2}"
b() { case "${1,,}" in 1|true|yes|on) echo true;; *) echo false;; esac; }

[ -x "$TEMPEST_VENV/bin/tempest" ] && [ -f "$TEMPEST_WS/.stestr.conf" ] \
    || die "tempest not set up: run $HERE/tempest-setup.sh"
# One run at a time: workspace, tempest.conf and the catalog are shared.
exec 9>"$TEMPEST_WS/.run.lock"
flock -n 9 || die "another tempest-run.sh is running (lock $TEMPEST_WS/.run.lock)"
code="$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$IMAGE_URL/" || true)"
case "$code" in 000|"") die "nothing answers at $IMAGE_URL/";; esac

label="$(echo "$IMAGE_URL" | sed -e 's#^[a-zA-Z]*://##' -e 's#[^A-Za-z0-9.-]#_#g')"
RUN_DIR="${RESULTS_DIR:-$TEMPEST_RESULTS/$(date +%Y%m%d-%H%M%S)-$label}"
mkdir -p "$RUN_DIR" || die "cannot create $RUN_DIR"
RUN_DIR="$(cd "$RUN_DIR" && pwd)"
mkdir -p "$TEMPEST_RESULTS"
ln -sfn "$RUN_DIR" "$TEMPEST_RESULTS/latest" 2>/dev/null || true

# --- services (9>&-: servers started here must not hold the run lock) --------
if ! keystone_answers; then
    "$HERE/keystone-start.sh" 9>&- || die "keystone did not start"
fi
"$HERE/keystone-register-endpoint.sh" "$IMAGE_URL" >&2 || die "endpoint registration failed"
if [ -n "${IMAGE_REMOTE_URL:-}" ]; then
    IMAGE_REMOTE_URL="${IMAGE_REMOTE_URL%/}"
    "$HERE/keystone-register-endpoint.sh" "$IMAGE_REMOTE_URL" image_remote >&2 \
        || die "image_remote endpoint registration failed"
    ALT_LINES="alternate_image_endpoint = image_remote
alternate_image_endpoint_type = public"
else
    "$HERE/keystone-register-endpoint.sh" - image_remote >/dev/null 2>&1 || true
    ALT_LINES="# alternate_image_endpoint: unset (no IMAGE_REMOTE_URL)"
fi
if ! "$HERE/tempest-http-images.sh" status >/dev/null 2>&1; then
    "$HERE/tempest-http-images.sh" start 9>&- || die "image http server did not start"
    trap '"$HERE/tempest-http-images.sh" stop >/dev/null 2>&1 || true' EXIT
fi

# --- tempest.conf ----------------------------------------------------------------
CONF="$TEMPEST_WS/etc/tempest.conf"
cat >"$CONF" <<CONFEOF
# written by tempest-run.sh for $IMAGE_URL
[DEFAULT]
debug = true
log_dir = $RUN_DIR
log_file = tempest.log

[oslo_concurrency]
lock_path = $TEMPEST_WS/tempest_lock

[auth]
use_dynamic_credentials = true
create_isolated_networks = false
admin_username = $KEYSTONE_ADMIN_USER
admin_password = $KEYSTONE_ADMIN_PASSWORD
admin_project_name = $KEYSTONE_ADMIN_PROJECT
admin_domain_name = Default
default_credentials_domain_name = Default

[identity]
auth_version = v3
uri_v3 = $KEYSTONE_URL
region = $KEYSTONE_REGION
v3_endpoint_type = public
disable_ssl_certificate_validation = true

[identity-feature-enabled]
api_v2 = false
api_v3 = true

[service_available]
glance = true
keystone = true
nova = false
cinder = false
neutron = false
swift = false
horizon = false
heat = false
designate = false
ironic = false
manila = false
octavia = false
barbican = false
placement = false

[image]
catalog_type = image
region = $KEYSTONE_REGION
endpoint_type = public
http_image = $HTTP_IMAGES_URL/cirros-0.6.2-x86_64-uec.tar.gz
http_qcow2_image = $HTTP_IMAGES_URL/cirros-0.6.2-x86_64-disk.img
image_caching_enabled = $(b "${IMAGE_CACHING:-true}")
build_timeout = ${IMAGE_BUILD_TIMEOUT:-120}
build_interval = 1
hashing_algorithm = sha512
$ALT_LINES

[image-feature-enabled]
api_v2 = true
api_v1 = false
import_image = $(b "${IMAGE_IMPORT:-true}")
os_glance_reserved = true
manage_locations = $(b "${IMAGE_MANAGE_LOCATIONS:-true}")
http_store_enabled = $(b "${IMAGE_HTTP_STORE:-true}")
do_secure_hash = $(b "${IMAGE_DO_SECURE_HASH:-true}")
image_conversion = $(b "${IMAGE_CONVERSION:-false}")
image_format_enforcement = $(b "${IMAGE_FORMAT_ENFORCEMENT:-false}")
store_weight_enabled = $(b "${IMAGE_STORE_WEIGHT:-true}")

[enforce_scope]
glance = $(b "${IMAGE_ENFORCE_SCOPE:-true}")
keystone = false

[validation]
run_validation = false

[compute-feature-enabled]
api_extensions =

[volume-feature-enabled]
enable_volume_image_dep_tests = false
CONFEOF
cp "$CONF" "$RUN_DIR/tempest.conf"

# --- run -----------------------------------------------------------------------
log "tempest $TEMPEST_VERSION against $IMAGE_URL${IMAGE_REMOTE_URL:+ (+ remote $IMAGE_REMOTE_URL)} (regex $REGEX, concurrency $CONCURRENCY); results in $RUN_DIR"
start=$(date +%s)
cd "$TEMPEST_WS"
stream_before="$(cat .stestr/next-stream 2>/dev/null || echo 0)"
if [ "${VERBOSE:-0}" = 1 ]; then
    "$TEMPEST_VENV/bin/tempest" run --regex "$REGEX" --concurrency "$CONCURRENCY" 2>&1 9>&- \
        | tee "$RUN_DIR/console.log" >&2 || true
else
    "$TEMPEST_VENV/bin/tempest" run --regex "$REGEX" --concurrency "$CONCURRENCY" \
        >"$RUN_DIR/console.log" 2>&1 9>&- || true
fi
elapsed=$(( $(date +%s) - start ))
stream_after="$(cat .stestr/next-stream 2>/dev/null || echo 0)"
if [ "$stream_after" = "$stream_before" ]; then
    tail -n 20 "$RUN_DIR/console.log" >&2 || true
    die "tempest recorded no run (see $RUN_DIR/console.log)"
fi
"$TEMPEST_VENV/bin/stestr" last --subunit >"$RUN_DIR/run.subunit" 2>/dev/null \
    || die "no subunit stream (see $RUN_DIR/console.log)"
"$TEMPEST_VENV/bin/subunit2junitxml" <"$RUN_DIR/run.subunit" >"$RUN_DIR/junit.xml" 2>/dev/null || true
"$TEMPEST_VENV/bin/stestr" list "$REGEX" >"$RUN_DIR/all-tests.txt" 2>/dev/null || : >"$RUN_DIR/all-tests.txt"
summary="$("$TEMPEST_VENV/bin/python" "$HERE/tempest-subunit-summary.py" \
    "$RUN_DIR/run.subunit" "$RUN_DIR" "$RUN_DIR/all-tests.txt")" \
    || die "could not parse $RUN_DIR/run.subunit"
{
    echo "image_url: $IMAGE_URL"
    echo "image_remote_url: ${IMAGE_REMOTE_URL:-}"
    echo "tempest: $TEMPEST_VERSION  regex: $REGEX  concurrency: $CONCURRENCY"
    echo "runtime_s: $elapsed"
    echo "$summary"
} >"$RUN_DIR/summary.txt"

if [ -s "$RUN_DIR/failed.txt" ]; then
    log "failed tests (details: $RUN_DIR/failures.txt):"
    sed 's/^/  /' "$RUN_DIR/failed.txt" >&2
fi
log "runtime ${elapsed}s; results in $RUN_DIR"
echo "$summary"
case "$summary" in *" 0 failed,"*) exit 0;; *) exit 1;; esac
