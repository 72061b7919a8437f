#!/usr/bin/env bash
# The real storage servers the store-driver tests run against, on loopback:
#   swift  Swift all-in-one with tempauth, http://127.0.0.1:18080/auth/v1.0, and a
#          second one taking Keystone tokens on 127.0.0.1:18180 (needs the test bed's
#          Keystone running: keystone-start.sh)
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

# A second Swift that takes Keystone tokens, for the driver's Keystone v3 tests:
# the test bed's Keystone (keystone-start.sh) gets a `swift` service user and an
# object-store endpoint in a region of its own (SwiftTestRegion), so nothing else
# that reads RegionOne's catalog sees it.
. "$ROOT/scripts/testbed/keystone-env.sh"
SWIFT_V3_PORT=18180
keystone_answers || { log "Keystone does not answer at $KEYSTONE_URL (scripts/testbed/keystone-start.sh)"; exit 1; }
(
    keystone_admin_env
    "$KEYSTONE_VENV/bin/python" - "http://127.0.0.1:$SWIFT_V3_PORT" <<'PY' >&2
import sys
from keystoneauth1 import session
from keystoneauth1.identity import v3
from keystoneclient.v3 import client
import os

swift_url, region = sys.argv[1], "SwiftTestRegion"
auth = v3.Password(auth_url=os.environ["OS_AUTH_URL"], username=os.environ["OS_USERNAME"],
                   password=os.environ["OS_PASSWORD"], project_name=os.environ["OS_PROJECT_NAME"],
                   user_domain_name="Default", project_domain_name="Default")
ks = client.Client(session=session.Session(auth=auth), interface="public")
if not [r for r in ks.regions.list() if r.id == region]:
    ks.regions.create(id=region)
project = ks.projects.find(name="service", domain="default")
users = ks.users.list(name="swift", domain="default")
user = users[0] if users else ks.users.create(name="swift", domain="default", password="swift")
ks.users.update(user, password="swift")
for role in ("admin", "service"):
    ks.roles.grant(ks.roles.find(name=role), user=user, project=project)
services = [s for s in ks.services.list(type="object-store") if s.name == "swift-glance-test"]
service = services[0] if services else ks.services.create(name="swift-glance-test", type="object-store")
url = swift_url + "/v1/AUTH_$(project_id)s"
have = {e.interface: e for e in ks.endpoints.list(service=service) if e.region == region}
for interface in ("public", "internal", "admin"):
    if interface in have and have[interface].url == url:
        continue
    if interface in have:
        ks.endpoints.delete(have[interface])
    ks.endpoints.create(service=service, url=url, interface=interface, region=region)
print("keystone: swift user and SwiftTestRegion object-store endpoint ready")
PY
)
if ! curl -fsS -m 5 "http://127.0.0.1:$SWIFT_V3_PORT/info" >/dev/null 2>&1; then
    log "starting the Keystone-mode Swift on 127.0.0.1:$SWIFT_V3_PORT"
    SWIFT_ROOT="$ANCHORS/swift-keystone" SWIFT_PROXY_PORT=$SWIFT_V3_PORT SWIFT_OBJECT_PORT=16110 \
        SWIFT_CONTAINER_PORT=16111 SWIFT_ACCOUNT_PORT=16112 SWIFT_MEMCACHED_PORT=21311 \
        SWIFT_AUTH=keystone SWIFT_KEYSTONE_URL="$KEYSTONE_ROOT_URL" "$RECIPES/swift/start.sh" >&2
fi
curl -fsS -m 5 "http://127.0.0.1:$SWIFT_V3_PORT/info" >/dev/null \
    || { log "the Keystone-mode Swift does not answer on 127.0.0.1:$SWIFT_V3_PORT"; exit 1; }
ceph_answers || { log "Ceph or radosgw does not answer"; exit 1; }

cat <<VARS
export GLANCE_TEST_SWIFT_AUTH_URL=http://127.0.0.1:18080/auth/v1.0
export GLANCE_TEST_SWIFT_USER=test:tester
export GLANCE_TEST_SWIFT_KEY=testing
export GLANCE_TEST_SWIFT_USER2=test2:tester2
export GLANCE_TEST_SWIFT_KEY2=testing2
export GLANCE_TEST_SWIFT_V3_AUTH_URL=$KEYSTONE_URL
export GLANCE_TEST_SWIFT_V3_USER=demo:demo
export GLANCE_TEST_SWIFT_V3_KEY=password
export GLANCE_TEST_SWIFT_V3_REGION=SwiftTestRegion
export GLANCE_TEST_SWIFT_V3_SWIFT_URL=http://127.0.0.1:$SWIFT_V3_PORT
export GLANCE_TEST_S3_URL=http://127.0.0.1:27480
export GLANCE_TEST_S3_ACCESS_KEY=anchorsaccesskey
export GLANCE_TEST_S3_SECRET_KEY=anchorssecretkey
export GLANCE_TEST_S3_REGION=us-east-1
export GLANCE_TEST_RBD_CONF=$ANCHORS/ceph/ceph.conf
export GLANCE_TEST_RBD_USER=glance
export GLANCE_TEST_RBD_POOL=images
VARS
