"""python-glanceclient (`glance` CLI) against the server, state verified over HTTP."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from helpers import list_table, property_table


def create(cli, cleanup, *args) -> dict:
    """`glance image-create ...` -> parsed property table; registers the id for cleanup."""
    res = cli.glance("image-create", "--disk-format", "raw", "--container-format", "bare", *args)
    props = property_table(res.stdout)
    uuid.UUID(props["id"])
    cleanup.append(props["id"])
    return props


@pytest.mark.parametrize("payload", ["small_file", "big_file"])
def test_create_with_file_show_download(cli, api, cleanup, name, tmp_path, request, payload):
    data = request.getfixturevalue(payload)
    props = create(cli, cleanup, "--name", name, "--file", data.path)
    image_id = props["id"]
    assert props["status"] == "active"
    assert props["size"] == str(data.size)
    assert props["checksum"] == data.md5

    img = api.image(image_id)
    assert img["status"] == "active"
    assert img["name"] == name
    assert img["size"] == data.size
    assert img["checksum"] == data.md5
    assert img["os_hash_algo"] == "sha512"
    assert img["os_hash_value"] == data.sha512
    assert img["disk_format"] == "raw" and img["container_format"] == "bare"

    shown = property_table(cli.glance("image-show", image_id).stdout)
    assert shown["id"] == image_id
    assert shown["status"] == "active"
    assert shown["checksum"] == data.md5
    assert shown["os_hash_value"] == data.sha512  # wrapped over two table lines
    assert shown["size"] == str(data.size)

    out = tmp_path / "download.raw"
    cli.glance("image-download", "--file", out, image_id)
    assert out.stat().st_size == data.size
    assert data.same_as(out)

    # Same bytes over plain HTTP.
    r = api.get(f"/v2/images/{image_id}/file")
    assert r.status_code == 200
    assert len(r.content) == data.size
    assert hashlib.md5(r.content).hexdigest() == data.md5


def test_create_without_data_then_upload_then_conflict(cli, api, cleanup, name, small_file):
    # stdin is closed, so no image data: the image stays queued.
    props = create(cli, cleanup, "--name", name)
    image_id = props["id"]
    assert props["status"] == "queued"
    img = api.image(image_id)
    assert img["status"] == "queued"
    assert img["size"] is None and img["checksum"] is None

    cli.glance("image-upload", "--file", small_file.path, image_id)
    img = api.image(image_id)
    assert img["status"] == "active"
    assert img["size"] == small_file.size
    assert img["checksum"] == small_file.md5
    assert img["os_hash_value"] == small_file.sha512

    # A second upload to an active image is a conflict.
    res = cli.glance("image-upload", "--file", small_file.path, image_id, check=False)
    assert res.returncode != 0, str(res)
    assert "409" in res.output, str(res)
    img = api.image(image_id)
    assert img["status"] == "active" and img["checksum"] == small_file.md5


def test_image_update_name_and_properties(cli, api, cleanup, name):
    props = create(cli, cleanup, "--name", name, "--property", "foo=bar", "--property", "keep=1")
    image_id = props["id"]
    img = api.image(image_id)
    assert img["foo"] == "bar" and img["keep"] == "1"

    res = cli.glance(
        "image-update", "--name", name + "-renamed", "--property", "os_distro=debian",
        "--remove-property", "foo", image_id,
    )
    shown = property_table(res.stdout)
    assert shown["name"] == name + "-renamed"
    assert shown["os_distro"] == "debian"
    assert "foo" not in shown

    img = api.image(image_id)
    assert img["name"] == name + "-renamed"
    assert img["os_distro"] == "debian"
    assert "foo" not in img
    assert img["keep"] == "1"
    assert img["status"] == "queued"


def test_image_tags(cli, api, cleanup, name):
    image_id = create(cli, cleanup, "--name", name)["id"]
    assert api.image(image_id)["tags"] == []
    cli.glance("image-tag-update", image_id, "tag-a")
    cli.glance("image-tag-update", image_id, "tag-b")
    assert sorted(api.image(image_id)["tags"]) == ["tag-a", "tag-b"]
    # Adding an existing tag again is idempotent.
    cli.glance("image-tag-update", image_id, "tag-a")
    assert sorted(api.image(image_id)["tags"]) == ["tag-a", "tag-b"]
    cli.glance("image-tag-delete", image_id, "tag-a")
    assert api.image(image_id)["tags"] == ["tag-b"]
    # Deleting a tag the image does not have fails.
    res = cli.glance("image-tag-delete", image_id, "tag-a", check=False)
    assert res.returncode != 0, str(res)
    assert "404" in res.output, str(res)


def test_members(cli, api, cleanup, name):
    image_id = create(cli, cleanup, "--name", name, "--visibility", "shared")["id"]
    assert api.image(image_id)["visibility"] == "shared"
    assert api.members(image_id) == []

    res = cli.glance("member-create", image_id, "project-b")
    rows = list_table(res.stdout)
    assert [(r["Image ID"], r["Member ID"], r["Status"]) for r in rows] == [
        (image_id, "project-b", "pending")
    ]
    members = api.members(image_id)
    assert [(m["member_id"], m["status"], m["image_id"]) for m in members] == [
        ("project-b", "pending", image_id)
    ]

    cli.glance("member-create", image_id, "project-c")
    cli.glance("member-update", image_id, "project-b", "accepted")
    status = {m["member_id"]: m["status"] for m in api.members(image_id)}
    assert status == {"project-b": "accepted", "project-c": "pending"}

    rows = list_table(cli.glance("member-list", "--image-id", image_id).stdout)
    assert sorted((r["Member ID"], r["Status"]) for r in rows) == [
        ("project-b", "accepted"), ("project-c", "pending")
    ]
    got = property_table(cli.glance("member-get", image_id, "project-b").stdout)
    assert got["member_id"] == "project-b" and got["status"] == "accepted"

    cli.glance("member-delete", image_id, "project-b")
    assert [m["member_id"] for m in api.members(image_id)] == ["project-c"]
    cli.glance("member-delete", image_id, "project-c")
    assert api.members(image_id) == []
    assert list_table(cli.glance("member-list", "--image-id", image_id).stdout) == []

    res = cli.glance("member-get", image_id, "project-b", check=False)
    assert res.returncode != 0, str(res)
    assert "404" in res.output, str(res)


def test_image_list_filters_sorting_paging(cli, api, cleanup, name):
    # Five images, created out of name order, all carrying batch=<name>; the
    # even-numbered ones are tagged "even".
    ids = {}
    for i in (3, 0, 4, 1, 2):
        n = f"{name}-{i}"
        ids[n] = create(cli, cleanup, "--name", n, "--property", f"batch={name}")["id"]
        if i % 2 == 0:
            cli.glance("image-tag-update", ids[n], "even")
    names = sorted(ids)
    batch = ("--property-filter", f"batch={name}")

    def listed(*args):
        rows = list_table(cli.glance("image-list", *batch, *args).stdout)
        assert all(r["ID"] == ids.get(r["Name"]) for r in rows), rows
        return [r["Name"] for r in rows]

    assert sorted(listed()) == names
    assert sorted(listed("--tag", "even")) == [names[0], names[2], names[4]]
    assert listed("--sort-key", "name", "--sort-dir", "asc") == names
    assert listed("--sort-key", "name", "--sort-dir", "desc") == names[::-1]
    assert listed("--sort-key", "name", "--sort-dir", "asc", "--limit", "3") == names[:3]
    assert listed("--sort-key", "name", "--sort-dir", "desc", "--page-size", "2") == names[::-1]
    assert listed("--sort-key", "name", "--sort-dir", "asc", "--tag", "even", "--page-size", "2") == [
        names[0], names[2], names[4]
    ]
    # An unknown property value matches nothing.
    rows = list_table(cli.glance("image-list", "--property-filter", f"batch={name}-none").stdout)
    assert rows == []

    # The same paging over HTTP: pages of 2, 2, 1 linked by "next".
    path = f"/v2/images?batch={name}&limit=2&sort_key=name&sort_dir=asc"
    pages = []
    for _ in range(5):
        r = api.get(path)
        assert r.status_code == 200, r.text
        body = r.json()
        pages.append([i["name"] for i in body["images"]])
        if "next" not in body:
            break
        path = body["next"]
    assert pages == [names[0:2], names[2:4], names[4:5]]


def test_deactivate_reactivate(cli, api, cleanup, name, small_file, tmp_path):
    image_id = create(cli, cleanup, "--name", name, "--file", small_file.path)["id"]
    assert api.image(image_id)["status"] == "active"

    cli.glance("image-deactivate", image_id)
    assert api.image(image_id)["status"] == "deactivated"
    # Deactivating twice is allowed (204), status unchanged.
    cli.glance("image-deactivate", image_id)
    assert api.image(image_id)["status"] == "deactivated"

    cli.glance("image-reactivate", image_id)
    img = api.image(image_id)
    assert img["status"] == "active"
    assert img["checksum"] == small_file.md5
    out = tmp_path / "after-reactivate.raw"
    cli.glance("image-download", "--file", out, image_id)
    assert small_file.same_as(out)

    # A queued image can't be deactivated.
    queued = create(cli, cleanup, "--name", name + "-q")["id"]
    res = cli.glance("image-deactivate", queued, check=False)
    assert res.returncode != 0, str(res)
    assert "403" in res.output, str(res)
    assert api.image(queued)["status"] == "queued"


def test_delete_then_show_fails(cli, api, cleanup, name, small_file):
    image_id = create(cli, cleanup, "--name", name, "--file", small_file.path)["id"]
    other = create(cli, cleanup, "--name", name + "-2")["id"]
    cli.glance("image-delete", image_id, other)
    assert api.image_status_code(image_id) == 404
    assert api.image_status_code(other) == 404
    res = cli.glance("image-show", image_id, check=False)
    assert res.returncode != 0, str(res)
    assert "404" in res.output, str(res)
    ids = [r["ID"] for r in list_table(cli.glance("image-list").stdout)]
    assert image_id not in ids and other not in ids


def test_show_unknown_image_is_404(cli):
    res = cli.glance("image-show", str(uuid.uuid4()), check=False)
    assert res.returncode != 0, str(res)
    assert "404" in res.output and "Not Found" in res.output, str(res)


def test_upload_to_unknown_image_fails(cli, small_file):
    res = cli.glance("image-upload", "--file", small_file.path, str(uuid.uuid4()), check=False)
    assert res.returncode != 0, str(res)
    assert "404" in res.output, str(res)


def test_stores_info(cli, api):
    r = api.get("/v2/info/stores")
    assert r.status_code == 200, r.text
    stores = r.json()["stores"]
    assert {"id": "fs", "default": "true"} in [
        {k: s.get(k) for k in ("id", "default")} for s in stores
    ], stores
    out = property_table(cli.glance("stores-info").stdout)
    assert '"id": "fs"' in out["stores"], out
    assert '"default": "true"' in out["stores"], out


def test_import_info(cli, api):
    r = api.get("/v2/info/import")
    assert r.status_code == 200, r.text
    methods = r.json()["import-methods"]
    assert methods["type"] == "array"
    assert {"glance-direct", "web-download"} <= set(methods["value"]), methods
    out = property_table(cli.glance("import-info").stdout)
    # The JSON value is wrapped over several table lines; compare without spaces.
    flat = out["import-methods"].replace(" ", "")
    assert '"glance-direct"' in flat and '"web-download"' in flat, out
