#!/usr/bin/env bash
# Store benchmark (issue 6): upload and download of one image through each remote
# store, by our glance-api (release build with the rbd feature, multi-store) and by
# the store's own client doing the same transfer, in the same run:
#   swift  python-swiftclient's `swift upload` / `swift download`
#   s3     boto3's managed transfer (what `aws s3 cp` uses): upload_file / download_fileobj
#   rbd    `rbd import` / `rbd export`
# Uploads are also timed for the client with MD5 and SHA-512 of the same file computed
# beside it (`openssl dgst`, one process each, at the same time): the work every
# Glance upload must do for `checksum` and `os_hash_value`, which the raw clients skip.
# Prints MB/s for each and ours/client ratios. The servers come from
# scripts/testbed/backends.sh; the clients from the test bed's client venv
# ($ANCHORS_VENV, default ~/.cache/anchors/venv; its setup-clients.sh makes it).
#
# Usage: scripts/bench/stores.sh [--no-build] [--stores swift,s3,rbd]
# Env:   BENCH_IMAGE_MB [1024]  BENCH_REPS [2] (best of)  GLANCE_API_BIN  BENCH_KEEP=1
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BUILD=1 STORES="swift,s3,rbd"
while [ $# -gt 0 ]; do
    case "$1" in
        --no-build) BUILD=0 ;;
        --stores) STORES="$2"; shift ;;
        -h|--help) sed -n 2,16p "$0"; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
MB="${BENCH_IMAGE_MB:-1024}"
REPS="${BENCH_REPS:-2}"
VENV="${ANCHORS_VENV:-$HOME/.cache/anchors/venv}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="${GLANCE_API_BIN:-$TARGET/release/glance-api}"
eval "$(scripts/testbed/backends.sh)"
[ -x "$VENV/bin/swift" ] && "$VENV/bin/python" -c 'import boto3' \
    || { echo "client venv missing at $VENV (run the test bed's backends/setup-clients.sh)" >&2; exit 1; }
if [ "$BUILD" = 1 ]; then
    cargo build --release -j2 -p glance-server --features rbd --bin glance-api >&2
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/glance-store-bench.XXXXXX")"
PORT=19500
cleanup() {
    [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
IMAGE="$WORK/image.bin"
head -c "$((MB * 1024 * 1024))" /dev/urandom > "$IMAGE"
SUFFIX="$(date +%s)"
CONTAINER="glance-bench-$SUFFIX"
BUCKET="glance-bench-$SUFFIX"

cat > "$WORK/glance-api.conf" <<CONF
[DEFAULT]
bind_port = $PORT
enabled_backends = swift:swift, s3:s3, rbd:rbd
[glance_store]
default_backend = swift
[swift]
swift_store_auth_version = 1
swift_store_auth_address = $GLANCE_TEST_SWIFT_AUTH_URL
swift_store_user = $GLANCE_TEST_SWIFT_USER
swift_store_key = $GLANCE_TEST_SWIFT_KEY
swift_store_container = $CONTAINER
swift_store_create_container_on_put = true
[s3]
s3_store_host = $GLANCE_TEST_S3_URL
s3_store_access_key = $GLANCE_TEST_S3_ACCESS_KEY
s3_store_secret_key = $GLANCE_TEST_S3_SECRET_KEY
s3_store_bucket = $BUCKET
s3_store_create_bucket_on_put = true
[rbd]
rbd_store_ceph_conf = $GLANCE_TEST_RBD_CONF
rbd_store_user = $GLANCE_TEST_RBD_USER
rbd_store_pool = $GLANCE_TEST_RBD_POOL
CONF
(cd "$WORK" && exec "$BIN" --config-file "$WORK/glance-api.conf" >"$WORK/api.log" 2>&1) &
PID=$!
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$PORT/versions" >/dev/null 2>&1 && break; sleep 0.1; done
API="http://127.0.0.1:$PORT"

# Seconds taken by a command (wall clock, 3 decimals).
seconds() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$s $e" | awk '{printf "%.3f", $2 - $1}'; }
rate() { awk -v mb="$MB" -v s="$1" 'BEGIN{printf "%.1f", mb * 1.048576 / s}'; }
best() { tr -s ' ' '\n' | grep . | sort -g | head -1; }

ours_upload() {
    local store="$1" id
    id=$(curl -fsS -X POST "$API/v2/images" -H 'content-type: application/json' \
        -d '{"disk_format":"raw","container_format":"bare"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    echo "$id" > "$WORK/last-id"
    curl -fsS -T "$IMAGE" -H 'content-type: application/octet-stream' \
        -H "x-image-meta-store: $store" "$API/v2/images/$id/file"
}
ours_download() { curl -fsS -o /dev/null "$API/v2/images/$(cat "$WORK/last-id")/file"; }
ours_delete() { curl -fsS -X DELETE "$API/v2/images/$(cat "$WORK/last-id")"; }

swift_cli() { "$VENV/bin/swift" -A "$GLANCE_TEST_SWIFT_AUTH_URL" -U "$GLANCE_TEST_SWIFT_USER" -K "$GLANCE_TEST_SWIFT_KEY" "$@"; }
raw_upload_swift() { swift_cli upload --object-name raw "$CONTAINER-raw" "$IMAGE"; }
raw_download_swift() { swift_cli download "$CONTAINER-raw" raw -o /dev/null; }
raw_delete_swift() { swift_cli delete "$CONTAINER-raw" raw; }

s3_py() {
    "$VENV/bin/python" - "$@" <<'PY'
import os, sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=os.environ["GLANCE_TEST_S3_URL"],
                  aws_access_key_id=os.environ["GLANCE_TEST_S3_ACCESS_KEY"],
                  aws_secret_access_key=os.environ["GLANCE_TEST_S3_SECRET_KEY"],
                  region_name=os.environ.get("GLANCE_TEST_S3_REGION", "us-east-1"),
                  config=Config(s3={"addressing_style": "path"},
                                request_checksum_calculation="when_required",
                                response_checksum_validation="when_required"))
op, bucket = sys.argv[1], sys.argv[2]
if op == "up":
    try:
        s3.create_bucket(Bucket=bucket)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    s3.upload_file(sys.argv[3], bucket, "raw")
elif op == "down":
    with open(os.devnull, "wb") as sink:
        s3.download_fileobj(bucket, "raw", sink)
else:
    s3.delete_object(Bucket=bucket, Key="raw")
PY
}
raw_upload_s3() { s3_py up "$BUCKET-raw" "$IMAGE"; }
raw_download_s3() { s3_py down "$BUCKET-raw"; }
raw_delete_s3() { s3_py delete "$BUCKET-raw"; }

rbd_cli() { rbd -c "$GLANCE_TEST_RBD_CONF" --id "$GLANCE_TEST_RBD_USER" "$@"; }
# The client's upload with the two digests Glance must compute running beside it.
hashed_upload() {
    openssl dgst -md5 "$IMAGE" >/dev/null & local md5=$!
    openssl dgst -sha512 "$IMAGE" >/dev/null & local sha=$!
    "raw_upload_$1"
    wait "$md5" "$sha"
}

raw_upload_rbd() { rbd_cli import --no-progress "$IMAGE" "$GLANCE_TEST_RBD_POOL/bench-raw-$SUFFIX"; }
raw_download_rbd() { rbd_cli export --no-progress "$GLANCE_TEST_RBD_POOL/bench-raw-$SUFFIX" - > /dev/null; }
raw_delete_rbd() { rbd_cli rm --no-progress "$GLANCE_TEST_RBD_POOL/bench-raw-$SUFFIX"; }

printf '\n%s MiB image, best of %s, %s\n\n' "$MB" "$REPS" "$(date -u +%Y-%m-%d)"
printf '| store | direction | ours MB/s | client MB/s | ours/client | client+hashes MB/s | ours/(client+hashes) |\n'
printf '| --- | --- | ---: | ---: | ---: | ---: | ---: |\n'
for store in ${STORES//,/ }; do
    ou="" od="" ru="" rd="" hu=""
    for _ in $(seq "$REPS"); do
        # Alternate ours and the client so that drift of the machine hits both.
        ou="$ou $(seconds ours_upload "$store")"
        od="$od $(seconds ours_download)"
        ours_delete
        ru="$ru $(seconds "raw_upload_$store")"
        rd="$rd $(seconds "raw_download_$store")"
        "raw_delete_$store" >/dev/null 2>&1 || true
        hu="$hu $(seconds hashed_upload "$store")"
        "raw_delete_$store" >/dev/null 2>&1 || true
    done
    o=$(rate "$(echo "$ou" | best)") r=$(rate "$(echo "$ru" | best)") h=$(rate "$(echo "$hu" | best)")
    awk -v st="$store" -v o="$o" -v r="$r" -v h="$h" \
        'BEGIN{printf "| %s | upload | %.1f | %.1f | %.2f | %.1f | %.2f |\n", st, o, r, o / r, h, o / h}'
    o=$(rate "$(echo "$od" | best)") r=$(rate "$(echo "$rd" | best)")
    awk -v st="$store" -v o="$o" -v r="$r" \
        'BEGIN{printf "| %s | download | %.1f | %.1f | %.2f | | |\n", st, o, r, o / r}'
done
