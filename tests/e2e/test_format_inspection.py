"""Format inspection on upload, through python-glanceclient, with images made by qemu-img."""

from __future__ import annotations

import json
import subprocess
import uuid

from helpers import property_table


def qemu_img(*args) -> str:
    return subprocess.run(["qemu-img", *args], check=True, capture_output=True, text=True).stdout


def test_qcow2_upload_records_qemus_virtual_size(cli, api, cleanup, name, tmp_path):
    path = tmp_path / "disk.qcow2"
    qemu_img("create", "-f", "qcow2", str(path), "3G")
    expected = json.loads(qemu_img("info", "--output=json", str(path)))["virtual-size"]

    res = cli.glance("image-create", "--name", name, "--disk-format", "qcow2",
                     "--container-format", "bare", "--file", path)
    props = property_table(res.stdout)
    cleanup.append(props["id"])
    assert props["status"] == "active"
    img = api.image(props["id"])
    assert img["virtual_size"] == expected == 3 * 1024**3
    assert img["size"] == path.stat().st_size


def test_refused_upload_can_be_retried_with_the_right_data(cli, api, cleanup, name, tmp_path, small_file):
    res = cli.glance("image-create", "--name", name, "--disk-format", "qcow2",
                     "--container-format", "bare")
    image_id = property_table(res.stdout)["id"]
    uuid.UUID(image_id)
    cleanup.append(image_id)

    # Random bytes are not a qcow2: refused with upstream's reason, nothing kept.
    res = cli.glance("image-upload", "--file", small_file.path, image_id, check=False)
    assert res.returncode != 0, str(res)
    assert "415" in res.output and "does not match stream data raw" in res.output, str(res)
    img = api.image(image_id)
    assert img["status"] == "queued"
    assert img["checksum"] is None and img["size"] is None and img["os_hash_value"] is None

    # A backing file would make the hypervisor open a host path: refused too.
    base = tmp_path / "base.raw"
    base.write_bytes(b"\0" * 65536)
    evil = tmp_path / "evil.qcow2"
    qemu_img("create", "-f", "qcow2", "-b", str(base), "-F", "raw", str(evil))
    res = cli.glance("image-upload", "--file", evil, image_id, check=False)
    assert res.returncode != 0 and "Image failed safety checks" in res.output, str(res)
    assert api.image(image_id)["status"] == "queued"

    good = tmp_path / "good.qcow2"
    qemu_img("create", "-f", "qcow2", str(good), "1G")
    cli.glance("image-upload", "--file", good, image_id)
    img = api.image(image_id)
    assert img["status"] == "active"
    assert img["virtual_size"] == 1024**3
    assert img["size"] == good.stat().st_size
