#!/usr/bin/env bash
# The real storage servers the store-driver tests run against, on loopback:
#   swift  Swift all-in-one with tempauth, http://127.0.0.1:18080/auth/v1.0
#   ceph   one-node Ceph: RBD pool "images" for user "glance", and radosgw (S3)
#          on http://127.0.0.1:27480
# They come from the test bed's verified recipes (setup.sh / start.sh of
# ../shared/testbed/backends next to the checkout, or $GLANCE_BACKEND_RECIPES):
# installed when missing (Debian packages, idempotent), started only when they do
# not answer, and left running. Prints the tests' variables as shell assignments:
#   eval "$(scripts/testbed/backends.sh)"
# First run: ~3 min of apt, ~40 s of start-up; later runs: a second or two.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RECIPES="${GLANCE_BACKEND_RECIPES:-$ROOT/../shared/testbed/backends}"
ANCHORS="${ANCHORS_HOME:-$HOME/.cache/anchors}"
[ -d "$RECIPES/swift" ] && [ -d "$RECIPES/ceph" ] \
    || { echo "backends.sh: no test-bed recipes at $RECIPES (set GLANCE_BACKEND_RECIPES)" >&2; exit 1; }

log() { printf 'backends: %s\n' "$*" >&2; }

swift_answers() { curl -fsS -m 5 http://127.0.0.1:18080/info >/dev/null 2>&1; }
ceph_answers() {
    [ -f "$ANCHORS/ceph/ceph.conf" ] \
        && timeout 20 ceph -c "$ANCHORS/ceph/ceph.conf" health >/dev/null 2>&1 \
        && curl -sS -m 5 -o /dev/null http://127.0.0.1:27480/ 2>/dev/null
}

if ! swift_answers; then
    command -v swift-proxy-server >/dev/null || "$RECIPES/swift/setup.sh" >&2
    log "starting Swift"
    "$RECIPES/swift/start.sh" >&2
fi
# The large-object tests write 5 GiB objects to RBD and to radosgw at once, and
# radosgw frees deleted objects only when its garbage collector runs (by default
# two hours later): a bigger OSD file (sparse; only a new cluster gets it) and a
# prompt collector keep repeated runs from filling the cluster.
export CEPH_OSD_SIZE="${CEPH_OSD_SIZE:-40G}"
if ! ceph_answers; then
    command -v ceph-mon >/dev/null && [ -e /usr/include/rbd/librbd.h ] || "$RECIPES/ceph/setup.sh" >&2
    log "starting Ceph"
    "$RECIPES/ceph/start.sh" >&2
fi
ceph_c() { timeout 20 ceph -c "$ANCHORS/ceph/ceph.conf" "$@"; }
if [ "$(ceph_c config get client rgw_gc_obj_min_wait 2>/dev/null)" != 10 ]; then
    log "radosgw: collect deleted objects within a minute (restarts Ceph once)"
    ceph_c config set client rgw_gc_obj_min_wait 10 >&2
    ceph_c config set client rgw_gc_processor_period 20 >&2
    ceph_c config set client rgw_gc_processor_max_time 20 >&2
    "$RECIPES/ceph/start.sh" >&2
fi
swift_answers || { log "Swift does not answer on 127.0.0.1:18080"; exit 1; }
ceph_answers || { log "Ceph or radosgw does not answer"; exit 1; }

cat <<VARS
export GLANCE_TEST_SWIFT_AUTH_URL=http://127.0.0.1:18080/auth/v1.0
export GLANCE_TEST_SWIFT_USER=test:tester
export GLANCE_TEST_SWIFT_KEY=testing
export GLANCE_TEST_S3_URL=http://127.0.0.1:27480
export GLANCE_TEST_S3_ACCESS_KEY=anchorsaccesskey
export GLANCE_TEST_S3_SECRET_KEY=anchorssecretkey
export GLANCE_TEST_S3_REGION=us-east-1
export GLANCE_TEST_RBD_CONF=$ANCHORS/ceph/ceph.conf
export GLANCE_TEST_RBD_USER=glance
export GLANCE_TEST_RBD_POOL=images
VARS
