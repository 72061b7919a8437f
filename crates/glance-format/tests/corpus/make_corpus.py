#!/usr/bin/env python3
"""Generate a corpus of small, real disk images for the glance-format tests.

Usage: make_corpus.py OUTPUT_DIR

The images are produced by the same tools an image author would use
(qemu-img, genisoimage, sgdisk, sfdisk) and then, for the "refused" samples,
patched byte by byte to exercise one specific safety check each.  Next to the
images a manifest.json lists every sample with:

  file         name inside OUTPUT_DIR
  kind         "benign" | "refused" | "truncated"
  disk_format  what a user would declare when uploading the file
  detected     the format name(s) a correct inspector must detect
               (empty for truncated samples: anything but a panic is fine)
  qemu         {"format", "virtual_size"} from a probing `qemu-img info`
               (no -f, as a hypervisor would see it), or null if qemu failed
  refusal      substring of the expected refusal message (null if accepted;
               "" means any refusal will do)
  note         one line on what the sample is and why it is here

Some files in OUTPUT_DIR are not listed in the manifest on purpose: the
backing file and the external data file that two refused qcow2 samples point
at.  They exist so qemu-img can open those samples.

The corpus is deterministic in structure and size.  The "random" bytes come
from a seeded PRNG; only the UUIDs, salts and timestamps that qemu-img and
genisoimage embed themselves differ from run to run.

Standard library only (Python 3.11).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

SEED = 0x6C616E6365  # fixed so the "random" raw data is the same every run

# Refusal substrings, as the brief for the inspector's callers spells them.
SAFETY = "Image failed safety checks"
MULTIPLE = "Multiple formats detected"
VSIZE = "virtual size"

# Tool -> Debian package that provides it.
TOOLS = {
    "qemu-img": "qemu-utils",
    "genisoimage": "genisoimage",
    "sgdisk": "gdisk",
    "sfdisk": "fdisk",
}

# Magic numbers of every format the inspector knows, as (offset, bytes).  The
# random raw sample must not accidentally carry any of them.
MAGICS = [
    (0, b"QFI\xfb"),                   # qcow2 (and qcow v1)
    (0, b"QED\x00"),                   # qed
    (0, b"KDMV"),                      # vmdk sparse extent
    (0, b"COWD"),                      # vmdk ESX sparse
    (0, b"# Disk DescriptorFile"),     # vmdk text descriptor
    (0, b"vhdxfile"),                  # vhdx
    (0, b"conectix"),                  # vhd (footer copy at offset 0)
    (0, b"LUKS\xba\xbe"),              # luks
    (0x40, b"\x7f\x10\xda\xbe"),       # vdi signature (LE 0xbeda107f)
    (510, b"\x55\xaa"),                # mbr / protective mbr
    (512, b"EFI PART"),                # gpt header
    (32769, b"CD001"),                 # iso9660 / udf bridge
    (32769, b"BEA01"),                 # udf
]


def die(msg: str) -> None:
    print(f"make_corpus.py: {msg}", file=sys.stderr)
    sys.exit(1)


def find_tools() -> dict[str, str]:
    """Locate every external tool up front; sgdisk/sfdisk live in sbin."""
    search = os.environ.get("PATH", "") + os.pathsep + "/usr/sbin:/sbin"
    found = {}
    for tool, package in TOOLS.items():
        path = shutil.which(tool, path=search)
        if path is None:
            die(f"required tool '{tool}' not found; install the Debian package '{package}'")
        found[tool] = path
    return found


class Corpus:
    def __init__(self, out: str, scratch: str, tools: dict[str, str]):
        self.out = out
        self.scratch = scratch
        self.tools = tools
        self.rng = random.Random(SEED)
        self.entries: list[dict] = []

    # ----------------------------------------------------------------- plumbing

    def path(self, name: str) -> str:
        return os.path.join(self.out, name)

    def tmp(self, name: str) -> str:
        return os.path.join(self.scratch, name)

    def run(self, tool: str, *args: str, cwd: str | None = None, stdin: str | None = None) -> str:
        cmd = [self.tools[tool], *args]
        res = subprocess.run(
            cmd, cwd=cwd or self.out, input=stdin, capture_output=True,
            text=True, timeout=60,
            # fixed timezone so the timestamps genisoimage writes are at least
            # in a stable zone
            env={**os.environ, "TZ": "UTC", "LC_ALL": "C"},
        )
        if res.returncode != 0:
            die(f"{' '.join(cmd)} failed ({res.returncode}): {res.stderr.strip()}")
        return res.stdout

    def qemu_img(self, *args: str, cwd: str | None = None) -> None:
        self.run("qemu-img", *args, cwd=cwd)

    def qemu_info(self, name: str) -> dict | None:
        """Probe like a hypervisor: `qemu-img info` without -f."""
        res = subprocess.run(
            [self.tools["qemu-img"], "info", "--output=json", name],
            cwd=self.out, capture_output=True, text=True, timeout=60,
        )
        if res.returncode != 0:
            return None
        info = json.loads(res.stdout)
        return {"format": info["format"], "virtual_size": info["virtual-size"]}

    def add(self, file: str, kind: str, disk_format: str, detected: list[str],
            refusal: str | None, note: str) -> None:
        assert os.path.exists(self.path(file)), file
        self.entries.append({
            "file": file,
            "kind": kind,
            "disk_format": disk_format,
            "detected": detected,
            "qemu": self.qemu_info(file),
            "refusal": refusal,
            "note": note,
        })

    def benign(self, file: str, disk_format: str, detected: str, note: str) -> None:
        self.add(file, "benign", disk_format, [detected], None, note)

    def refused(self, file: str, disk_format: str, detected: list[str], refusal: str,
                note: str) -> None:
        self.add(file, "refused", disk_format, detected, refusal, note)

    # ------------------------------------------------------------ file helpers

    def write_sparse(self, dst: str, data: bytes | None = None, size: int | None = None) -> None:
        """Write data (or nothing) and extend to size, leaving zero runs as holes.

        Several samples are mostly zeros (gpt/mbr disks, LUKS payload, VHDX
        padding); keeping them sparse keeps the corpus small on disk.
        """
        data = data or b""
        size = len(data) if size is None else size
        chunk = 64 * KiB
        with open(dst, "wb") as f:
            for off in range(0, len(data), chunk):
                block = data[off:off + chunk]
                if block.count(0) == len(block):
                    f.seek(off + len(block))
                else:
                    f.seek(off)
                    f.write(block)
            f.truncate(size)

    def read(self, name: str) -> bytes:
        with open(self.path(name), "rb") as f:
            return f.read()

    def copy(self, src: str, dst: str, length: int | None = None) -> None:
        """Copy a sample (optionally only its first `length` bytes), sparsely."""
        data = self.read(src)
        if length is not None:
            data = data[:length]
        self.write_sparse(self.path(dst), data)

    def patch(self, name: str, offset: int, data: bytes) -> None:
        with open(self.path(name), "r+b") as f:
            f.seek(offset)
            f.write(data)

    def peek(self, name: str, offset: int, length: int) -> bytes:
        with open(self.path(name), "rb") as f:
            f.seek(offset)
            return f.read(length)

    def random_bytes(self, n: int) -> bytes:
        """Seeded random data that carries none of the known magics."""
        while True:
            data = self.rng.randbytes(n)
            if not any(data[o:o + len(m)] == m for o, m in MAGICS):
                return data

    def random_raw(self, dst: str, size: int) -> None:
        """A raw disk with random data at the start and in the middle, zeros
        elsewhere, used as the source for converted (data-carrying) images."""
        data = bytearray(size)
        data[0:256 * KiB] = self.random_bytes(256 * KiB)
        mid = size // 2
        data[mid:mid + 128 * KiB] = self.random_bytes(128 * KiB)
        self.write_sparse(dst, bytes(data))

    # =============================================================== benign

    def make_raw(self) -> None:
        # Random bytes: the inspector must fall back to raw and not be fooled
        # by noise.  A zero disk: the degenerate raw image.
        self.write_sparse(self.path("raw-random.raw"), self.random_bytes(1 * MiB))
        self.benign("raw-random.raw", "raw", "raw",
                    "1 MiB of seeded random bytes carrying no known magic; plain raw")
        self.write_sparse(self.path("raw-zero.raw"), size=2 * MiB)
        self.benign("raw-zero.raw", "raw", "raw", "2 MiB of zeros; the degenerate raw image")

    def make_qcow2(self) -> None:
        # Both header versions; v2 has a 72-byte header, v3 adds feature bits
        # and header extensions.
        self.qemu_img("create", "-q", "-f", "qcow2", "-o", "compat=0.10", "qcow2-v2.qcow2", "1G")
        self.benign("qcow2-v2.qcow2", "qcow2", "qcow2", "qcow2 version 2 (compat=0.10), empty, 1 GiB")
        self.qemu_img("create", "-q", "-f", "qcow2", "-o", "compat=1.1", "qcow2-v3.qcow2", "1G")
        self.benign("qcow2-v3.qcow2", "qcow2", "qcow2", "qcow2 version 3 (compat=1.1), empty, 1 GiB")

        # Allocated clusters, L2 tables and refcount blocks with data in them.
        src = self.tmp("data-src.raw")
        self.qemu_img("convert", "-O", "qcow2", src, "qcow2-with-data.qcow2")
        self.benign("qcow2-with-data.qcow2", "qcow2", "qcow2",
                    "qcow2 v3 converted from a 4 MiB raw with random data, so clusters are allocated")

        # lazy_refcounts sets a compatible feature bit, which must not be
        # mistaken for an unknown incompatible one.
        self.qemu_img("create", "-q", "-f", "qcow2", "-o", "compat=1.1,lazy_refcounts=on",
                      "qcow2-v3-lazy-refcounts.qcow2", "1G")
        self.benign("qcow2-v3-lazy-refcounts.qcow2", "qcow2", "qcow2",
                    "qcow2 v3 with the lazy_refcounts compatible feature bit set; still safe")

    def make_vmdk(self) -> None:
        # The common single-file sparse VMDK: KDMV header + embedded descriptor.
        self.qemu_img("create", "-q", "-f", "vmdk", "-o", "subformat=monolithicSparse",
                      "vmdk-monolithicSparse.vmdk", "1G")
        self.benign("vmdk-monolithicSparse.vmdk", "vmdk", "vmdk",
                    "monolithicSparse VMDK, empty, 1 GiB; descriptor embedded at byte 512")

        # streamOptimized puts the real grain directory in a footer at the end
        # of the stream and compresses grains; convert from data so grains,
        # markers and the end-of-stream marker are all present.
        src = self.tmp("data-src.raw")
        self.qemu_img("convert", "-O", "vmdk", "-o", "subformat=streamOptimized", src,
                      "vmdk-streamOptimized.vmdk")
        self.benign("vmdk-streamOptimized.vmdk", "vmdk", "vmdk",
                    "streamOptimized VMDK converted from 4 MiB of data: compressed grains, footer, EOS marker")

    def make_vhd(self) -> None:
        # qemu rounds the requested size to a CHS geometry, so the declared
        # virtual size is not exactly 1 GiB; the inspector must agree with qemu.
        self.qemu_img("create", "-q", "-f", "vpc", "-o", "subformat=dynamic", "vhd-dynamic.vhd", "1G")
        self.benign("vhd-dynamic.vhd", "vhd", "vhd",
                    "dynamic VHD (qemu 'vpc') asked for 1 GiB; size is rounded to a CHS geometry")

    def make_vhdx(self) -> None:
        self.qemu_img("create", "-q", "-f", "vhdx", "vhdx-1g.vhdx", "1G")
        self.benign("vhdx-1g.vhdx", "vhdx", "vhdx", "VHDX, empty, 1 GiB")
        # A smaller disk gets a different block size and BAT layout.
        self.qemu_img("create", "-q", "-f", "vhdx", "vhdx-64m.vhdx", "64M")
        self.benign("vhdx-64m.vhdx", "vhdx", "vhdx", "VHDX, empty, 64 MiB (different block size)")

    def make_vdi(self) -> None:
        self.qemu_img("create", "-q", "-f", "vdi", "vdi.vdi", "1G")
        self.benign("vdi.vdi", "vdi", "vdi", "VirtualBox VDI, dynamic, empty, 1 GiB")

    def make_luks(self) -> None:
        # iter-time=10 keeps key derivation fast; probing does not need the
        # secret.  The payload area is never written, so the file is sparse.
        self.qemu_img("create", "-q", "-f", "luks", "--object", "secret,id=sec0,data=secret",
                      "-o", "key-secret=sec0,iter-time=10", "luks.luks", "2M")
        self.benign("luks.luks", "luks", "luks",
                    "LUKS1 volume, 2 MiB payload (Glance has no 'luks' disk_format by default; the inspector detects it)")

    def make_iso(self) -> None:
        content = self.tmp("iso-content")
        os.makedirs(content)
        for name, text in (("README.TXT", "corpus test file\n"), ("DATA.BIN", "x" * 3000)):
            p = os.path.join(content, name)
            with open(p, "w") as f:
                f.write(text)
            os.utime(p, (1_700_000_000, 1_700_000_000))
        os.utime(content, (1_700_000_000, 1_700_000_000))

        self.run("genisoimage", "-quiet", "-o", "iso9660.iso", "-V", "TEST", content)
        self.benign("iso9660.iso", "iso", "iso", "ISO9660 image from genisoimage; qemu sees it as raw")
        self.run("genisoimage", "-quiet", "-udf", "-o", "iso-udf.iso", "-V", "TEST", content)
        self.benign("iso-udf.iso", "iso", "iso",
                    "ISO9660+UDF bridge image (genisoimage -udf); qemu sees it as raw")

    def make_gpt(self) -> None:
        # Fixed GUIDs so the partition table is deterministic.
        self.write_sparse(self.path("gpt.img"), size=2 * MiB)
        self.run("sgdisk", "-U", "5a5a5a5a-0000-4000-8000-000000000001",
                 "-n", "1:2048:0", "-t", "1:8300",
                 "-u", "1:5a5a5a5a-0000-4000-8000-000000000002", "gpt.img")
        self.benign("gpt.img", "raw", "gpt",
                    "2 MiB disk with protective MBR + GPT, one Linux partition; Glance has no 'gpt' disk_format")

        self.write_sparse(self.path("mbr.img"), size=2 * MiB)
        self.run("sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", "mbr.img",
                 stdin="label: dos\nlabel-id: 0x5a5a5a5a\nstart=2048, type=83\n")
        self.benign("mbr.img", "raw", "gpt",
                    "2 MiB disk with a classic DOS/MBR table; the inspector reports MBR disks as 'gpt'")

    def make_iso_gpt_hybrid(self) -> None:
        # Bootable "hybrid" ISOs carry a partition table in the ISO system
        # area (first 32 KiB, unused by ISO9660).  Glance accepts iso+gpt as iso.
        self.copy("iso9660.iso", "iso-gpt-hybrid.iso")
        assert self.peek("iso-gpt-hybrid.iso", 0, 32 * KiB) == bytes(32 * KiB)
        sectors = os.path.getsize(self.path("iso-gpt-hybrid.iso")) // 512
        self.patch("iso-gpt-hybrid.iso", 446, mbr_entry(0x00, 0xEE, 1, sectors - 1))
        self.patch("iso-gpt-hybrid.iso", 510, b"\x55\xaa")
        self.add("iso-gpt-hybrid.iso", "benign", "iso", ["iso", "gpt"], None,
                 "ISO9660 with a protective-style MBR (type 0xEE, LBA 1) in its system area, like isohybrid")

    # ============================================================== refused

    def make_qcow2_refused(self) -> None:
        # A backing file makes the hypervisor read another file from the host.
        self.write_sparse(self.path("qcow2-backing-base.raw"), size=1 * MiB)  # not in manifest
        self.qemu_img("create", "-q", "-f", "qcow2", "-b", "qcow2-backing-base.raw", "-F", "raw",
                      "qcow2-backing-file.qcow2")
        self.refused("qcow2-backing-file.qcow2", "qcow2", ["qcow2"], SAFETY,
                     "qcow2 with a backing file (qcow2-backing-base.raw): would read another host file")
        # The same thing declared as raw must not slip through either.
        self.qemu_img("create", "-q", "-f", "qcow2", "-b", "qcow2-backing-base.raw", "-F", "raw",
                      "qcow2-backing-file-as-raw.qcow2")
        self.refused("qcow2-backing-file-as-raw.qcow2", "raw", ["qcow2"], SAFETY,
                     "qcow2 with a backing file uploaded as disk_format raw")

        # An external data file likewise points outside the image.
        self.qemu_img("create", "-q", "-f", "qcow2", "-o", "data_file=qcow2-data-file.qcow2.data",
                      "qcow2-data-file.qcow2", "1M")
        self.refused("qcow2-data-file.qcow2", "qcow2", ["qcow2"], SAFETY,
                     "qcow2 v3 with an external data file (qcow2-data-file.qcow2.data, not listed)")

        # Unknown incompatible feature: a reader that does not understand it
        # must not use the image.  Bit 5 is unassigned.
        self.copy("qcow2-v3.qcow2", "qcow2-unknown-incompat.qcow2")
        assert be32(self.peek("qcow2-unknown-incompat.qcow2", 4, 4)) == 3
        feats = be64(self.peek("qcow2-unknown-incompat.qcow2", 0x48, 8)) | 0x20
        self.patch("qcow2-unknown-incompat.qcow2", 0x48, struct.pack(">Q", feats))
        self.refused("qcow2-unknown-incompat.qcow2", "qcow2", ["qcow2"], SAFETY,
                     "qcow2 v3 with unknown incompatible feature bit 5 set at 0x48")

        # Version 1 is the old qcow format; a qcow2 inspector must refuse it.
        self.copy("qcow2-v2.qcow2", "qcow2-version1.qcow2")
        self.patch("qcow2-version1.qcow2", 4, struct.pack(">I", 1))
        self.refused("qcow2-version1.qcow2", "qcow2", ["qcow2"], SAFETY,
                     "qcow2 v2 image with the version field patched to 1")

    def vmdk_descriptor_only(self, subformat: str) -> str:
        """Create a multi-file VMDK in scratch and keep only its descriptor.

        The extents stay behind in the scratch dir, so qemu-img (run in the
        output dir) cannot open the sample: the upload is just the text file.
        """
        name = f"vmdk-{subformat}.vmdk"
        self.qemu_img("create", "-q", "-f", "vmdk", "-o", f"subformat={subformat}", name, "64M",
                      cwd=self.scratch)
        shutil.copyfile(self.tmp(name), self.path(name))
        return name

    def make_vmdk_refused(self) -> None:
        # Multi-file VMDKs: the descriptor names other files on the host.
        for sub in ("monolithicFlat", "twoGbMaxExtentSparse", "twoGbMaxExtentFlat"):
            name = self.vmdk_descriptor_only(sub)
            self.refused(name, "vmdk", ["vmdk"], SAFETY,
                         f"{sub} VMDK descriptor only (text file naming separate extent files)")

        # Hand-written descriptors lying about createType and naming host files.
        self.write_text("vmdk-descriptor-abs-path.vmdk",
                        text_descriptor('RW 2048 FLAT "/etc/passwd" 0'))
        self.refused("vmdk-descriptor-abs-path.vmdk", "vmdk", ["vmdk"], SAFETY,
                     'text descriptor claiming monolithicSparse with a FLAT extent on "/etc/passwd"')
        self.write_text("vmdk-descriptor-other-file.vmdk",
                        text_descriptor('RW 2048 SPARSE "other-disk.vmdk"'))
        self.refused("vmdk-descriptor-other-file.vmdk", "vmdk", ["vmdk"], SAFETY,
                     'text descriptor claiming monolithicSparse with an extent in "other-disk.vmdk"')

        # Embedded descriptor tampering inside an otherwise valid sparse VMDK.
        self.copy("vmdk-monolithicSparse.vmdk", "vmdk-embedded-extra-extent.vmdk")
        self.append_embedded_descriptor_line("vmdk-embedded-extra-extent.vmdk",
                                             'RW 2048 FLAT "/etc/shadow" 0')
        self.refused("vmdk-embedded-extra-extent.vmdk", "vmdk", ["vmdk"], SAFETY,
                     'monolithicSparse VMDK whose embedded descriptor gained an extent on "/etc/shadow"')
        self.copy("vmdk-monolithicSparse.vmdk", "vmdk-embedded-garbage.vmdk")
        self.append_embedded_descriptor_line("vmdk-embedded-garbage.vmdk", "garbage line here")
        self.refused("vmdk-embedded-garbage.vmdk", "vmdk", ["vmdk"], SAFETY,
                     "monolithicSparse VMDK whose embedded descriptor gained an unparsable line")

    def write_text(self, name: str, text: str) -> None:
        with open(self.path(name), "w") as f:
            f.write(text)

    def append_embedded_descriptor_line(self, name: str, line: str) -> None:
        """Write `line` into the NUL padding after the embedded descriptor text,
        keeping the descriptor area the same size and NUL-terminated."""
        hdr = self.peek(name, 0, 64)
        assert hdr[:4] == b"KDMV"
        desc_off = le64(hdr[28:36]) * 512
        desc_len = le64(hdr[36:44]) * 512
        desc = self.peek(name, desc_off, desc_len)
        assert b'createType="monolithicSparse"' in desc
        end = desc.index(b"\x00")
        new = line.encode() + b"\n"
        if not desc[end - 1:end] == b"\n":
            new = b"\n" + new
        assert end + len(new) < desc_len, "no room in embedded descriptor"
        self.patch(name, desc_off + end, new)

    def make_other_refused(self) -> None:
        # QED has no Glance disk_format; data that is QED but declared raw
        # would be interpreted as QED by a probing hypervisor.
        self.qemu_img("create", "-q", "-f", "qed", "qed-declared-raw.qed", "1G")
        self.refused("qed-declared-raw.qed", "raw", ["qed"], SAFETY,
                     "QED image uploaded as disk_format raw")

        # Declared format and data disagree.
        self.copy("raw-random.raw", "raw-declared-qcow2.raw")
        self.refused("raw-declared-qcow2.raw", "qcow2", ["raw"],
                     "Image disk_format qcow2 does not match stream data raw",
                     "random raw data uploaded as disk_format qcow2")
        self.copy("vdi.vdi", "vdi-declared-vmdk.vdi")
        self.refused("vdi-declared-vmdk.vdi", "vmdk", ["vdi"],
                     "Image disk_format vmdk does not match stream data vdi",
                     "benign VDI uploaded as disk_format vmdk")

        # Polyglot: a valid qcow2 that is also a valid ISO (the qcow2 header
        # cluster is zero at 32 KiB, where ISO9660 keeps its volume descriptor).
        self.qemu_img("create", "-q", "-f", "qcow2", "polyglot-qcow2-iso.qcow2", "1G")
        if os.path.getsize(self.path("polyglot-qcow2-iso.qcow2")) < 36 * KiB:
            with open(self.path("polyglot-qcow2-iso.qcow2"), "r+b") as f:
                f.truncate(36 * KiB)
        assert self.peek("polyglot-qcow2-iso.qcow2", 32 * KiB, 2048) == bytes(2048)
        pvd = self.peek("iso9660.iso", 32 * KiB, 2048)
        assert pvd[:6] == b"\x01CD001"
        self.patch("polyglot-qcow2-iso.qcow2", 32 * KiB, pvd)
        self.refused("polyglot-qcow2-iso.qcow2", "qcow2", ["qcow2", "iso"], MULTIPLE,
                     "fresh qcow2 with an ISO9660 primary volume descriptor written at 32 KiB")

        # Partition table oddities.
        self.copy("gpt.img", "gpt-bad-protective-lba.img")
        entry = self.peek("gpt-bad-protective-lba.img", 446, 16)
        assert entry[4] == 0xEE and le32(entry[8:12]) == 1
        self.patch("gpt-bad-protective-lba.img", 446 + 8, struct.pack("<I", 2))
        self.refused("gpt-bad-protective-lba.img", "raw", ["gpt"], SAFETY,
                     "GPT disk whose protective MBR entry starts at LBA 2 instead of 1")
        self.copy("mbr.img", "mbr-bad-boot-flag.img")
        self.patch("mbr-bad-boot-flag.img", 446, b"\x7f")
        self.refused("mbr-bad-boot-flag.img", "raw", ["gpt"], SAFETY,
                     "MBR disk whose first partition entry has boot flag 0x7f (only 0x00/0x80 valid)")

        # LUKS2 has a different (JSON) header; a LUKS1 header claiming
        # version 2 is neither.
        self.copy("luks.luks", "luks-version2.luks")
        assert self.peek("luks-version2.luks", 0, 8) == b"LUKS\xba\xbe\x00\x01"
        self.patch("luks-version2.luks", 6, struct.pack(">H", 2))
        self.refused("luks-version2.luks", "raw", ["luks"], SAFETY,
                     "copy of the LUKS1 sample with only the version field set to 2")

    def make_huge_sizes(self) -> None:
        # Absurd declared sizes must be refused, not overflow arithmetic.
        self.copy("qcow2-v3.qcow2", "huge-qcow2-size.qcow2")
        assert be64(self.peek("huge-qcow2-size.qcow2", 24, 8)) == 1 * GiB
        self.patch("huge-qcow2-size.qcow2", 24, struct.pack(">Q", 0xFFFFFFFFFFFFFFF0))
        self.refused("huge-qcow2-size.qcow2", "qcow2", ["qcow2"], VSIZE,
                     "qcow2 v3 whose size field is 0xFFFFFFFFFFFFFFF0")

        self.copy("vmdk-monolithicSparse.vmdk", "huge-vmdk-capacity.vmdk")
        assert le64(self.peek("huge-vmdk-capacity.vmdk", 12, 8)) == 1 * GiB // 512
        self.patch("huge-vmdk-capacity.vmdk", 12, struct.pack("<Q", 0xFFFFFFFFFFFFFFFF))
        self.refused("huge-vmdk-capacity.vmdk", "vmdk", ["vmdk"], VSIZE,
                     "monolithicSparse VMDK whose capacity is 0xFFFFFFFFFFFFFFFF sectors")

        self.copy("vhdx-1g.vhdx", "huge-vhdx-region-count.vhdx")
        rt = 192 * KiB
        assert self.peek("huge-vhdx-region-count.vhdx", rt, 4) == b"regi"
        self.patch("huge-vhdx-region-count.vhdx", rt + 8, struct.pack("<I", 0xFFFFFFFF))
        self.refused("huge-vhdx-region-count.vhdx", "vhdx", ["vhdx"], "",
                     "VHDX whose first region table claims 0xFFFFFFFF entries (checksum now wrong too)")

        self.copy("vdi.vdi", "huge-vdi-size.vdi")
        assert le64(self.peek("huge-vdi-size.vdi", 0x170, 8)) == 1 * GiB
        self.patch("huge-vdi-size.vdi", 0x170, struct.pack("<Q", 0xFFFFFFFFFFFFFFFF))
        self.refused("huge-vdi-size.vdi", "vdi", ["vdi"], VSIZE,
                     "VDI whose disk size is 0xFFFFFFFFFFFFFFFF bytes")

    # ============================================================ truncated

    def make_truncated(self) -> None:
        # Short reads everywhere a header is parsed: the inspector must not
        # panic, and must refuse or fall back to raw.
        sources = [
            ("qcow2-v3", "qcow2-v3.qcow2", "qcow2", ()),
            ("vmdk-monolithicSparse", "vmdk-monolithicSparse.vmdk", "vmdk", ()),
            ("vmdk-streamOptimized", "vmdk-streamOptimized.vmdk", "vmdk", ()),
            ("vhd", "vhd-dynamic.vhd", "vhd", ()),
            # 200000 is inside the region table (192 KiB .. 256 KiB)
            ("vhdx", "vhdx-1g.vhdx", "vhdx", (200000,)),
            ("vdi", "vdi.vdi", "vdi", ()),
            ("luks", "luks.luks", "luks", ()),
            # 33000 cuts the primary volume descriptor at 32768 in half
            ("iso", "iso9660.iso", "iso", (33000,)),
            ("gpt", "gpt.img", "raw", ()),
        ]
        for label, src, disk_format, extra in sources:
            for n in (1, 7, 63, 100, 511, *extra):
                name = f"trunc-{label}-{n}"
                self.copy(src, name, length=n)
                self.add(name, "truncated", disk_format, [], None,
                         f"first {n} bytes of {src}")

    # ================================================================= main

    def build(self) -> None:
        self.make_raw()
        # shared source of real data for the converted qcow2 and vmdk samples
        self.random_raw(self.tmp("data-src.raw"), 4 * MiB)
        self.make_qcow2()
        self.make_vmdk()
        self.make_vhd()
        self.make_vhdx()
        self.make_vdi()
        self.make_luks()
        self.make_iso()
        self.make_gpt()
        self.make_iso_gpt_hybrid()
        self.make_qcow2_refused()
        self.make_vmdk_refused()
        self.make_other_refused()
        self.make_huge_sizes()
        self.make_truncated()
        with open(self.path("manifest.json"), "w") as f:
            json.dump(self.entries, f, indent=2)
            f.write("\n")


def text_descriptor(extent_line: str) -> str:
    """A VMDK text descriptor that claims to be monolithicSparse."""
    return (
        "# Disk DescriptorFile\n"
        "version=1\n"
        "CID=12345678\n"
        "parentCID=ffffffff\n"
        'createType="monolithicSparse"\n'
        "\n"
        "# Extent description\n"
        f"{extent_line}\n"
        "\n"
        "# The Disk Data Base\n"
        "#DDB\n"
        "\n"
        'ddb.virtualHWVersion = "4"\n'
        'ddb.geometry.cylinders = "2"\n'
        'ddb.geometry.heads = "16"\n'
        'ddb.geometry.sectors = "63"\n'
        'ddb.adapterType = "ide"\n'
    )


def mbr_entry(boot: int, ptype: int, start_lba: int, sectors: int) -> bytes:
    """One 16-byte MBR partition entry: start CHS 0/0/2 (LBA 1), end CHS maxed."""
    return struct.pack("<B3sB3sII", boot, b"\x00\x02\x00", ptype, b"\xff\xff\xff",
                       start_lba, min(sectors, 0xFFFFFFFF))


def be32(b: bytes) -> int:
    return struct.unpack(">I", b)[0]


def be64(b: bytes) -> int:
    return struct.unpack(">Q", b)[0]


def le32(b: bytes) -> int:
    return struct.unpack("<I", b)[0]


def le64(b: bytes) -> int:
    return struct.unpack("<Q", b)[0]


def main() -> None:
    if len(sys.argv) != 2:
        die("usage: make_corpus.py OUTPUT_DIR")
    tools = find_tools()
    out = os.path.abspath(sys.argv[1])
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="glance-corpus-") as scratch:
        corpus = Corpus(out, scratch, tools)
        corpus.build()
    print(f"{len(corpus.entries)} samples in {out}")


if __name__ == "__main__":
    main()
