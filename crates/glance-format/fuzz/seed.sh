#!/usr/bin/env bash
# Seeds the fuzz corpora (fuzz/corpus/<target>/) with real images: runs the test corpus
# generator (tests/corpus/make_corpus.py: qemu-img, genisoimage, sgdisk, sfdisk) in a
# temporary directory and copies, for each target, the samples of its format (by the
# manifest's `detected` field; truncated samples by their name), laid out as the target
# reads its input. all_formats gets every sample.
#
# Usage: fuzz/seed.sh [TARGET=MAX_LEN ...]
#   MAX_LEN is the target's -max_len (default 1 MiB + 2); seeds are cut to it.
#
# Every seed starts with the two chunk-size bytes the targets read first; each sample is
# written twice, for 4096- and 509-byte chunks. Layouts (see fuzz_targets/):
#   iso:   the image from 32 KiB on (the target puts its input there);
#   vhdx:  a 4-byte metadata selector (0: metadata at 256 KiB), the first 256 bytes of
#          the region table with its metadata entry pointed at 256 KiB, then the
#          metadata region;
#   vmdk:  an image cut short keeps its last 1536 bytes (a streamOptimized footer);
#   other: the image itself.
# Re-running overwrites the seeds and leaves what the fuzzer added alone.
set -euo pipefail

FUZZ_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
GENERATOR="$FUZZ_DIR/../tests/corpus/make_corpus.py"
SAMPLES="$(mktemp -d "${TMPDIR:-/tmp}/glance-fuzz-seeds.XXXXXX")"
trap 'rm -rf "$SAMPLES"' EXIT

export PATH="$PATH:/usr/sbin:/sbin" # sgdisk and sfdisk
python3 "$GENERATOR" "$SAMPLES" >/dev/null

python3 - "$SAMPLES" "$FUZZ_DIR/corpus" "$@" <<'EOF'
import json
import os
import struct
import sys

samples, corpus, *limit_args = sys.argv[1:]
TARGETS = ["qcow2", "vhd", "vhdx", "vmdk", "vdi", "qed", "iso", "gpt", "luks", "all_formats"]
limits = {t: (1 << 20) + 2 for t in TARGETS}
for arg in limit_args:
    target, _, value = arg.partition("=")
    if target not in limits or not value.isdigit():
        sys.exit(f"seed.sh: expected TARGET=MAX_LEN, got {arg!r}")
    limits[target] = int(value)

CHUNKS = {"c4096": struct.pack("<H", 4095), "c509": struct.pack("<H", 508)}
ISO_AT = 32 * 1024
VMDK_FOOTER = 1536
VHDX_REGION_TABLE_AT = 192 * 1024
VHDX_REGION_TABLE_INPUT = 256
VHDX_METADATA_AT = 256 * 1024  # what selector 0 picks
VHDX_METADATA_GUID = bytes.fromhex("06a27c8b90479a4bb8fe575f050f886e")


def vhdx_layout(data: bytes) -> bytes:
    table = bytearray(data[VHDX_REGION_TABLE_AT:VHDX_REGION_TABLE_AT + VHDX_REGION_TABLE_INPUT])
    metadata = b""
    count = struct.unpack_from("<I", table, 8)[0] if len(table) >= 12 else 0
    for i in range(min(count, (len(table) - 16) // 32)):
        at = 16 + 32 * i
        if table[at:at + 16] == VHDX_METADATA_GUID:
            metadata = data[struct.unpack_from("<Q", table, at + 16)[0]:]
            struct.pack_into("<Q", table, at + 16, VHDX_METADATA_AT)
    if metadata:
        table = table.ljust(VHDX_REGION_TABLE_INPUT, b"\0")
    return struct.pack("<I", 0) + bytes(table) + metadata


def layout(target: str, data: bytes, cap: int) -> bytes:
    if target == "iso":
        data = data[ISO_AT:]
    elif target == "vhdx":
        data = vhdx_layout(data)
    if len(data) <= cap:
        return data
    if target == "vmdk" and cap > VMDK_FOOTER:
        return data[:cap - VMDK_FOOTER] + data[-VMDK_FOOTER:]
    return data[:cap]


with open(os.path.join(samples, "manifest.json")) as f:
    manifest = json.load(f)
counts = dict.fromkeys(TARGETS, 0)
for entry in manifest:
    name = entry["file"]
    # Truncated samples detect as nothing; their name says what they were cut from.
    formats = set(entry["detected"]) or {name.split("-")[1]}
    with open(os.path.join(samples, name), "rb") as f:
        data = f.read()
    for target in TARGETS:
        if target != "all_formats" and target not in formats:
            continue
        body = layout(target, data, limits[target] - 2)
        os.makedirs(os.path.join(corpus, target), exist_ok=True)
        for label, prefix in CHUNKS.items():
            with open(os.path.join(corpus, target, f"seed-{name}-{label}"), "wb") as f:
                f.write(prefix + body)
            counts[target] += 1
print("seeds: " + ", ".join(f"{t} {n}" for t, n in counts.items()))
EOF
