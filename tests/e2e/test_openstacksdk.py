"""openstacksdk (in process, keystoneauth `none` plugin) against the server."""

from __future__ import annotations

import hashlib

import pytest

openstack = pytest.importorskip("openstack")
from openstack import exceptions as os_exc  # noqa: E402


@pytest.fixture(scope="module")
def conn(server):
    # No clouds.yaml, no OS_* environment: only the endpoint given here.
    c = openstack.connect(
        auth_type="none",
        auth={"endpoint": server.url},
        load_yaml_config=False,
        load_envvars=False,
    )
    yield c
    c.close()


def test_sdk_create_download_checksums(conn, api, cleanup, name, big_file, tmp_path):
    image = conn.create_image(
        name, filename=str(big_file.path), disk_format="raw", container_format="bare",
        wait=True, timeout=300, use_import=False, validate_checksum=True,
        tags=["sdk"], meta={"sdk_prop": "v1"},
    )
    cleanup.append(image.id)
    assert image.status == "active"
    assert image.size == big_file.size
    assert image.checksum == big_file.md5
    assert image.hash_algo == "sha512"
    assert image.hash_value == big_file.sha512

    got = conn.image.get_image(image.id)
    assert got.status == "active" and got.checksum == big_file.md5
    assert got.tags == ["sdk"]
    assert got.properties.get("sdk_prop") == "v1" or getattr(got, "sdk_prop", None) == "v1"
    assert api.image(image.id)["sdk_prop"] == "v1"

    out = tmp_path / "sdk-download.raw"
    conn.image.download_image(got, output=str(out))
    assert big_file.same_as(out)

    # Streaming download: the SDK checks the md5 against the image checksum.
    resp = conn.image.download_image(got, stream=True)
    md5 = hashlib.md5()
    total = 0
    for chunk in resp.iter_content(chunk_size=1024 * 1024):
        md5.update(chunk)
        total += len(chunk)
    assert total == big_file.size
    assert md5.hexdigest() == big_file.md5


def test_sdk_interoperable_import(conn, api, cleanup, name, big_file, tmp_path):
    # use_import=True: the SDK creates the image, stages the data with
    # PUT /stage and asks for the glance-direct import; the server finishes it
    # in the background (the SDK may return while the image is still importing).
    image = conn.create_image(
        name, filename=str(big_file.path), disk_format="raw", container_format="bare",
        wait=True, timeout=300, use_import=True, validate_checksum=True,
    )
    cleanup.append(image.id)
    got = conn.image.wait_for_status(
        conn.image.get_image(image.id), status="active", failures=["queued", "killed"],
        interval=0.2, wait=120,
    )
    assert got.status == "active"
    assert got.size == big_file.size
    assert got.checksum == big_file.md5
    assert got.hash_value == big_file.sha512
    tasks = api.get(f"/v2/images/{image.id}/tasks").json()["tasks"]
    assert [(t["type"], t["status"]) for t in tasks] == [("api_image_import", "success")]
    out = tmp_path / "sdk-import.raw"
    conn.image.download_image(got, output=str(out))
    assert big_file.same_as(out)


def test_sdk_update_tags_members_lifecycle(conn, api, cleanup, name, small_file):
    with open(small_file.path, "rb") as f:
        image = conn.image.create_image(
            name, data=f, disk_format="raw", container_format="bare",
            visibility="shared", wait=True, timeout=120, use_import=False,
        )
    cleanup.append(image.id)
    got = conn.image.get_image(image.id)
    assert got.status == "active"
    assert got.checksum == small_file.md5

    conn.image.update_image(got, name=name + "-renamed", os_distro="debian")
    conn.image.add_tag(got, "tag-a")
    conn.image.add_tag(got, "tag-b")
    conn.image.remove_tag(got, "tag-a")
    img = api.image(image.id)
    assert img["name"] == name + "-renamed"
    assert img["os_distro"] == "debian"
    assert img["tags"] == ["tag-b"]

    listed = [i.id for i in conn.image.images(tag="tag-b", os_distro="debian", limit=10)]
    assert image.id in listed

    m = conn.image.add_member(got, member_id="project-b")
    assert m.member_id == "project-b" and m.status == "pending"
    conn.image.update_member(m, got, status="accepted")
    assert [(x.member_id, x.status) for x in conn.image.members(got)] == [("project-b", "accepted")]
    assert [(x["member_id"], x["status"]) for x in api.members(image.id)] == [("project-b", "accepted")]
    conn.image.remove_member(m, got)
    assert list(conn.image.members(got)) == []

    conn.image.deactivate_image(got)
    assert api.image(image.id)["status"] == "deactivated"
    conn.image.reactivate_image(got)
    assert api.image(image.id)["status"] == "active"

    conn.image.delete_image(got)
    assert api.image_status_code(image.id) == 404
    with pytest.raises(os_exc.NotFoundException):
        conn.image.get_image(image.id)
