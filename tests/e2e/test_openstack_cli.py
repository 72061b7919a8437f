"""python-openstackclient (`openstack image ...`, auth type none) against the server."""

from __future__ import annotations

import json
import uuid


def ojson(cli, *args):
    return json.loads(cli.openstack(*args, "-f", "json").stdout)


def test_openstack_image_lifecycle(cli, api, cleanup, name, small_file, tmp_path):
    created = ojson(
        cli, "image", "create", "--disk-format", "raw", "--container-format", "bare",
        "--file", small_file.path, "--property", "foo=bar", "--tag", "t1", "--shared", name,
    )
    image_id = created["id"]
    uuid.UUID(image_id)
    cleanup.append(image_id)
    assert created["status"] == "active"
    assert created["checksum"] == small_file.md5
    assert created["size"] == small_file.size

    img = api.image(image_id)
    assert img["name"] == name
    assert img["status"] == "active"
    assert img["size"] == small_file.size
    assert img["checksum"] == small_file.md5
    assert img["os_hash_value"] == small_file.sha512
    assert img["visibility"] == "shared"
    assert img["tags"] == ["t1"]
    assert img["foo"] == "bar"
    # openstacksdk adds these extra properties; they are kept like any other.
    assert img["owner_specified.openstack.object"] == f"images/{name}"
    assert "owner_specified.openstack.md5" in img

    # show by id and by name
    by_id = ojson(cli, "image", "show", image_id)
    assert by_id["id"] == image_id and by_id["checksum"] == small_file.md5
    assert by_id["properties"]["foo"] == "bar"
    by_name = ojson(cli, "image", "show", name)
    assert by_name["id"] == image_id

    listed = ojson(cli, "image", "list")
    assert {"ID": image_id, "Name": name, "Status": "active"} in listed
    listed = ojson(cli, "image", "list", "--property", "foo=bar", "--tag", "t1")
    assert image_id in [i["ID"] for i in listed]
    listed = ojson(cli, "image", "list", "--tag", f"no-such-tag-{name}")
    assert image_id not in [i["ID"] for i in listed]

    cli.openstack(
        "image", "set", "--name", name + "-b", "--property", "os_distro=debian",
        "--tag", "t2", image_id,
    )
    img = api.image(image_id)
    assert img["name"] == name + "-b"
    assert img["os_distro"] == "debian"
    assert sorted(img["tags"]) == ["t1", "t2"]

    cli.openstack("image", "unset", "--property", "foo", "--tag", "t1", image_id)
    img = api.image(image_id)
    assert "foo" not in img
    assert img["tags"] == ["t2"]
    assert img["os_distro"] == "debian"

    out = tmp_path / "saved.raw"
    cli.openstack("image", "save", "--file", out, image_id)
    assert small_file.same_as(out)

    assert ojson(cli, "image", "member", "list", image_id) == []

    cli.openstack("image", "set", "--deactivate", image_id)
    assert api.image(image_id)["status"] == "deactivated"
    cli.openstack("image", "set", "--activate", image_id)
    assert api.image(image_id)["status"] == "active"

    cli.openstack("image", "delete", image_id)
    assert api.image_status_code(image_id) == 404
    res = cli.openstack("image", "show", image_id, check=False)
    assert res.returncode != 0, str(res)


def test_openstack_create_without_file_and_set_visibility(cli, api, cleanup, name):
    created = ojson(
        cli, "image", "create", "--disk-format", "qcow2", "--container-format", "bare",
        "--private", "--min-disk", "2", "--min-ram", "512", name,
    )
    image_id = created["id"]
    cleanup.append(image_id)
    img = api.image(image_id)
    assert img["status"] == "queued"
    assert img["visibility"] == "private"
    assert img["disk_format"] == "qcow2"
    assert (img["min_disk"], img["min_ram"]) == (2, 512)

    cli.openstack("image", "set", "--public", "--protected", image_id)
    img = api.image(image_id)
    assert img["visibility"] == "public" and img["protected"] is True

    # A protected image can't be deleted.
    res = cli.openstack("image", "delete", image_id, check=False)
    assert res.returncode != 0, str(res)
    assert api.image(image_id)["status"] == "queued"

    cli.openstack("image", "set", "--unprotected", image_id)
    assert api.image(image_id)["protected"] is False
    cli.openstack("image", "delete", image_id)
    assert api.image_status_code(image_id) == 404
