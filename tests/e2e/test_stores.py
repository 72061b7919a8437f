"""Multi-store with the real remote stores, driven by python-glanceclient.

The module starts its own glance-api with four stores: `fs` (file), `swift`
(the test bed's tempauth Swift), `s3` (Ceph radosgw) and `web` (the read-only
http store), plus a web server on loopback for http locations. The servers come
from scripts/testbed/backends.sh, whose variables scripts/test exports
(GLANCE_TEST_SWIFT_*, GLANCE_TEST_S3_*); without them the tests fail.

What is checked: `glance stores-info` (with --detail), uploads into each store
chosen with `--store`, the bytes and hashes coming back, the object really in
Swift (listed with Swift's own API) and gone after delete, and `location-add`
of a web location whose data is then served through the http store.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import subprocess
import threading
import time
import uuid

import pytest
import requests

from conftest import Cli, _api_bin, _free_port, _stop, _versions_ok
from helpers import property_table

DATA = os.urandom(3 * 1024 * 1024 + 11)


def _env(name: str) -> str:
    value = os.environ.get(name)
    assert value, f"{name} must be set (scripts/testbed/backends.sh)"
    return value


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    """A plain web server on loopback serving `image.raw`."""
    root = tmp_path_factory.mktemp("web")
    (root / "image.raw").write_bytes(DATA)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def stores_server(tmp_path_factory, web):
    data_dir = tmp_path_factory.mktemp("stores-data")
    port = _free_port()
    web_port = web.rsplit(":", 1)[1]
    suffix = uuid.uuid4().hex[:8]
    conf = data_dir / "glance-api.conf"
    conf.write_text(
        "[DEFAULT]\n"
        f"bind_host = 127.0.0.1\nbind_port = {port}\n"
        "enabled_backends = fs:file, swift:swift, s3:s3, web:http\n"
        "show_multiple_locations = true\nshow_image_direct_url = true\n"
        "[glance_store]\ndefault_backend = fs\n"
        f"[fs]\nfilesystem_store_datadir = {data_dir / 'fs'}\nweight = 1\n"
        "[swift]\nswift_store_auth_version = 1\n"
        f"swift_store_auth_address = {_env('GLANCE_TEST_SWIFT_AUTH_URL')}\n"
        f"swift_store_user = {_env('GLANCE_TEST_SWIFT_USER')}\n"
        f"swift_store_key = {_env('GLANCE_TEST_SWIFT_KEY')}\n"
        f"swift_store_container = glance-e2e-{suffix}\n"
        "swift_store_create_container_on_put = true\n"
        "store_description = Swift all-in-one\n"
        f"[s3]\ns3_store_host = {_env('GLANCE_TEST_S3_URL')}\n"
        f"s3_store_access_key = {_env('GLANCE_TEST_S3_ACCESS_KEY')}\n"
        f"s3_store_secret_key = {_env('GLANCE_TEST_S3_SECRET_KEY')}\n"
        f"s3_store_bucket = glance-e2e-{suffix}\n"
        "s3_store_create_bucket_on_put = true\n"
        "[web]\n"
        f"[import_filtering_opts]\nallowed_hosts = 127.0.0.1\nallowed_ports = {web_port}\n"
    )
    log = (data_dir / "api.log").open("wb")
    proc = subprocess.Popen(
        [str(_api_bin()), "--config-file", str(conf)],
        cwd=data_dir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        if _versions_ok(url):
            break
        assert proc.poll() is None, (data_dir / "api.log").read_text()[-3000:]
        time.sleep(0.1)
    yield url, f"glance-e2e-{suffix}"
    _stop(proc)


@pytest.fixture(scope="module")
def scli(stores_server):
    return Cli(stores_server[0])


def swift_objects(container: str) -> list[str]:
    """The container's objects, listed with Swift's own API (tempauth)."""
    auth = requests.get(
        _env("GLANCE_TEST_SWIFT_AUTH_URL"),
        headers={"X-Auth-User": _env("GLANCE_TEST_SWIFT_USER"),
                 "X-Auth-Key": _env("GLANCE_TEST_SWIFT_KEY")},
        timeout=10,
    )
    auth.raise_for_status()
    r = requests.get(
        f"{auth.headers['X-Storage-Url']}/{container}?format=json",
        headers={"X-Auth-Token": auth.headers["X-Auth-Token"]},
        timeout=10,
    )
    if r.status_code == 404:
        return []
    r.raise_for_status()
    return sorted(o["name"] for o in r.json())


def test_stores_info_lists_every_store(scli):
    res = scli.glance("stores-info")
    for store in ("fs", "swift", "s3", "web"):
        assert store in res.stdout, res
    detail = scli.glance("stores-info", "--detail").stdout
    for kind in ("file", "swift", "s3", "http"):
        assert kind in detail, detail
    # The table wraps long values, so one word of the description is looked for.
    assert "all-in-one" in detail, detail


@pytest.mark.parametrize("store", ["swift", "s3"])
def test_upload_download_delete_through_a_remote_store(scli, stores_server, store, tmp_path):
    url, container = stores_server
    src = tmp_path / "image.raw"
    src.write_bytes(DATA)
    res = scli.glance(
        "image-create", "--disk-format", "raw", "--container-format", "bare",
        "--name", f"e2e-{store}", "--file", src, "--store", store,
    )
    image = property_table(res.stdout)
    image_id = image["id"]
    assert image["status"] == "active", res
    assert image["stores"] == store
    assert image["checksum"] == hashlib.md5(DATA).hexdigest()
    assert image["os_hash_value"] == hashlib.sha512(DATA).hexdigest()
    if store == "swift":
        assert image_id in swift_objects(container), "the object is in Swift"
    out = tmp_path / "out.raw"
    scli.glance("image-download", "--file", out, image_id)
    assert out.read_bytes() == DATA
    # Ranged read straight through the API.
    r = requests.get(f"{url}/v2/images/{image_id}/file", headers={"Range": "bytes=1000-1999"},
                     timeout=30)
    assert r.status_code == 206 and r.content == DATA[1000:2000]
    # No credentials in what clients see.
    shown = requests.get(f"{url}/v2/images/{image_id}", timeout=10).json()
    for value in (shown["direct_url"], json.dumps(shown["locations"])):
        assert _env("GLANCE_TEST_S3_SECRET_KEY") not in value
        assert _env("GLANCE_TEST_SWIFT_KEY") + "@" not in value
    scli.glance("image-delete", image_id)
    assert requests.get(f"{url}/v2/images/{image_id}", timeout=10).status_code == 404
    if store == "swift":
        assert image_id not in swift_objects(container), "the object is gone from Swift"


def test_location_add_serves_web_data(scli, stores_server, web, tmp_path):
    res = scli.glance("image-create", "--disk-format", "raw", "--container-format", "bare",
                      "--name", "e2e-web")
    image_id = property_table(res.stdout)["id"]
    scli.glance("location-add", "--url", f"{web}/image.raw", image_id)
    shown = property_table(scli.glance("image-show", image_id).stdout)
    assert shown["status"] == "active"
    assert shown["size"] == str(len(DATA))
    assert "web" in shown["stores"]
    out = tmp_path / "web.raw"
    scli.glance("image-download", "--file", out, image_id)
    assert out.read_bytes() == DATA
    # A refused address: the service's own metadata endpoint.
    res = scli.glance("location-add", "--url", "http://169.254.169.254/latest/meta-data/",
                      image_id, check=False)
    assert res.returncode != 0
    # Deleting the image leaves the web server's file alone.
    scli.glance("image-delete", image_id)
    assert requests.get(f"{web}/image.raw", timeout=10).content == DATA
