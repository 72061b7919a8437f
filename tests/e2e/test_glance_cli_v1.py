"""python-glanceclient's v1 commands (`glance --os-image-api-version 1 ...`) against the
legacy v1 API, state verified over HTTP through v2."""

from __future__ import annotations

import uuid

from helpers import list_table, property_table


def create_v1(cli, cleanup, *args) -> dict:
    res = cli.glance_v1("image-create", "--disk-format", "raw", "--container-format", "bare", *args)
    props = property_table(res.stdout)
    uuid.UUID(props["id"])
    cleanup.append(props["id"])
    return props


def test_v1_create_with_file_show_download(cli, api, cleanup, name, small_file, tmp_path):
    props = create_v1(
        cli, cleanup, "--name", name, "--file", small_file.path, "--property", "distro=cirros"
    )
    image_id = props["id"]
    assert props["status"] == "active"
    assert props["size"] == str(small_file.size)
    assert props["checksum"] == small_file.md5
    assert props["is_public"] == "False"
    assert props["Property 'distro'"] == "cirros"

    img = api.image(image_id)
    assert img["status"] == "active" and img["checksum"] == small_file.md5
    assert img["os_hash_value"] == small_file.sha512
    assert img["visibility"] == "shared" and img["distro"] == "cirros"

    shown = property_table(cli.glance_v1("image-show", image_id).stdout)
    assert shown["id"] == image_id and shown["checksum"] == small_file.md5

    out = tmp_path / "v1-download.raw"
    cli.glance_v1("image-download", "--file", out, image_id)
    assert small_file.same_as(out)


def test_v1_reserve_update_list_and_delete(cli, api, cleanup, name, small_file):
    props = create_v1(cli, cleanup, "--name", name, "--property", "a=1", "--property", "b=2")
    image_id = props["id"]
    assert props["status"] == "queued"

    # The client merges properties unless --purge-props.
    res = cli.glance_v1("image-update", "--name", name + "-x", "--property", "c=3", image_id)
    shown = property_table(res.stdout)
    assert shown["name"] == name + "-x"
    img = api.image(image_id)
    assert (img["a"], img["b"], img["c"]) == ("1", "2", "3")

    cli.glance_v1("image-update", "--file", small_file.path, image_id)
    img = api.image(image_id)
    assert img["status"] == "active" and img["checksum"] == small_file.md5

    # Without a project (noauth), the default view is public images only, as in
    # upstream; --all-tenants asks for every image (is_public=None).
    rows = list_table(cli.glance_v1("image-list", "--name", name + "-x").stdout)
    assert rows == []
    rows = list_table(cli.glance_v1("image-list", "--all-tenants", "--name", name + "-x").stdout)
    assert [r["ID"] for r in rows] == [image_id]
    assert rows[0]["Status"] == "active"

    cli.glance_v1("image-delete", image_id)
    assert api.image_status_code(image_id) == 404


def test_v1_members(cli, api, cleanup, name):
    image_id = create_v1(cli, cleanup, "--name", name)["id"]
    cli.glance_v1("member-create", "--can-share", image_id, "tenant-a")
    cli.glance_v1("member-create", image_id, "tenant-b")
    rows = list_table(cli.glance_v1("member-list", "--image-id", image_id).stdout)
    assert {(r["Member ID"], r["Can Share"]) for r in rows} == {
        ("tenant-a", "True"),
        ("tenant-b", ""),  # the client prints False as an empty cell
    }
    shared = list_table(cli.glance_v1("member-list", "--tenant-id", "tenant-b").stdout)
    assert [r["Image ID"] for r in shared] == [image_id]
    # The same memberships through v2 (pending: v1 has no statuses of its own).
    assert sorted(m["member_id"] for m in api.members(image_id)) == ["tenant-a", "tenant-b"]
    cli.glance_v1("member-delete", image_id, "tenant-a")
    rows = list_table(cli.glance_v1("member-list", "--image-id", image_id).stdout)
    assert [r["Member ID"] for r in rows] == ["tenant-b"]
