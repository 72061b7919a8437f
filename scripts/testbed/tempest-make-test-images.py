#!/usr/bin/env python3
"""Write the files the local image HTTP server (tempest-http-images.sh)
serves in place of the Internet image URLs Tempest is configured with.

usage: tempest-make-test-images.py DIR

* cirros-0.6.2-x86_64-uec.tar.gz  ([image] http_image): 1 MiB + 17 bytes of
  deterministic pseudo-random data.  Used as an http location and by the
  tasks tests, which never look inside.
* cirros-0.6.2-x86_64-disk.img    ([image] http_qcow2_image): a valid, empty
  qcow2 version 3 image of 1 MiB virtual size, so that format inspection
  accepts it for a web-download import declared as qcow2.

Files are only rewritten when their content differs (idempotent).
"""
import os
import random
import struct
import sys

CLUSTER_BITS = 16
CLUSTER_SIZE = 1 << CLUSTER_BITS


def empty_qcow2(virtual_size=1 << 20):
    """Cluster 0 header, 1 refcount table, 2 refcount block, 3 L1 table."""
    header = struct.pack(
        ">4sIQIIQIIQQIIQ",
        b"QFI\xfb",          # magic
        3,                   # version
        0, 0,                # backing file offset, size
        CLUSTER_BITS,        # cluster_bits
        virtual_size,        # size
        0,                   # crypt_method
        1,                   # l1_size: one L2 table maps 512 MiB
        3 * CLUSTER_SIZE,    # l1_table_offset
        1 * CLUSTER_SIZE,    # refcount_table_offset
        1,                   # refcount_table_clusters
        0, 0,                # nb_snapshots, snapshots_offset
    )
    # version 3: incompatible/compatible/autoclear features, refcount_order 4
    # (16-bit refcounts), header_length
    header += struct.pack(">QQQII", 0, 0, 0, 4, 104)
    assert len(header) == 104
    header += b"\0" * 8  # end of header extensions
    image = bytearray(4 * CLUSTER_SIZE)
    image[:len(header)] = header
    # refcount table entry 0 -> the refcount block in cluster 2
    struct.pack_into(">Q", image, 1 * CLUSTER_SIZE, 2 * CLUSTER_SIZE)
    # every one of the 4 clusters in use is referenced once
    for cluster in range(4):
        struct.pack_into(">H", image, 2 * CLUSTER_SIZE + 2 * cluster, 1)
    return bytes(image)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: %s DIR" % sys.argv[0])
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = random.Random(20240531)
    files = {
        "cirros-0.6.2-x86_64-uec.tar.gz": rng.randbytes(1024 * 1024 + 17),
        "cirros-0.6.2-x86_64-disk.img": empty_qcow2(),
    }
    for name, data in files.items():
        path = os.path.join(out, name)
        if os.path.exists(path):
            with open(path, "rb") as f:
                if f.read() == data:
                    continue
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)


if __name__ == "__main__":
    main()
