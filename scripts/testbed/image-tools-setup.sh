#!/usr/bin/env bash
# Installs the image tools the format-inspection tests build their corpus with:
# qemu-img (qemu-utils), genisoimage, sgdisk (gdisk) and sfdisk (fdisk), from Debian's
# packages, when any is missing. Needs root (or sudo) only when something is missing.
set -euo pipefail

declare -A package_of=([qemu-img]=qemu-utils [genisoimage]=genisoimage [sgdisk]=gdisk [sfdisk]=fdisk)
missing=()
for tool in "${!package_of[@]}"; do
    command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || missing+=("${package_of[$tool]}")
done
[ "${#missing[@]}" = 0 ] && exit 0

echo "installing image tools: ${missing[*]}" >&2
as_root=()
[ "$(id -u)" = 0 ] || as_root=(sudo -n)
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || {
    "${as_root[@]}" apt-get update -q >/dev/null 2>&1
    "${as_root[@]}" apt-get install -y -q "${missing[@]}" >/dev/null
}
