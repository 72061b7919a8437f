#!/usr/bin/env bash
# Put an image service into the Keystone catalog.
#
# Usage: scripts/testbed/keystone-register-endpoint.sh URL [SERVICE_TYPE]
#        scripts/testbed/keystone-register-endpoint.sh - [SERVICE_TYPE]   (delete only)
#
# Deletes every service of SERVICE_TYPE (default `image`) with its endpoints
# (and endpoints whose service is gone), then creates one service of that
# type with public, internal and admin endpoints at URL (for example
# http://127.0.0.1:19292) in $KEYSTONE_REGION.  Keystone must be running
# (keystone-start.sh).  Env: see keystone-env.sh.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$HERE/keystone-env.sh"
log() { echo "[keystone-register-endpoint] $*" >&2; }

URL="${1:?usage: $0 URL|- [SERVICE_TYPE]}"
URL="${URL%/}"
STYPE="${2:-image}"
keystone_answers || { log "keystone does not answer at $KEYSTONE_URL (run $HERE/keystone-start.sh)"; exit 1; }
keystone_admin_env
"$KEYSTONE_VENV/bin/python" - "$URL" "$STYPE" <<'PY'
import os
import sys

from keystoneauth1 import session
from keystoneauth1.identity import v3
from keystoneclient.v3 import client

url, stype = sys.argv[1], sys.argv[2]
auth = v3.Password(auth_url=os.environ["OS_AUTH_URL"],
                   username=os.environ["OS_USERNAME"],
                   password=os.environ["OS_PASSWORD"],
                   project_name=os.environ["OS_PROJECT_NAME"],
                   user_domain_name="Default", project_domain_name="Default")
ks = client.Client(session=session.Session(auth=auth), interface="public")
region = os.environ["OS_REGION_NAME"]

removed = 0
for svc in ks.services.list(type=stype):
    for ep in ks.endpoints.list(service=svc):
        ks.endpoints.delete(ep)
    ks.services.delete(svc)
    removed += 1
live = {s.id for s in ks.services.list()}
for ep in ks.endpoints.list():
    if ep.service_id not in live:
        ks.endpoints.delete(ep)
if url == "-":
    print("removed %d service(s) of type %s" % (removed, stype))
    sys.exit(0)

name = "glance" if stype == "image" else "glance-" + stype.replace("_", "-")
svc = ks.services.create(name=name, type=stype, enabled=True,
                         description="OpenStack Image service (test bed)")
for iface in ("public", "internal", "admin"):
    ks.endpoints.create(service=svc, url=url, interface=iface, region=region,
                        enabled=True)
print("%s service %s -> %s (public/internal/admin, %s)"
      % (stype, svc.id, url, region))
PY
