"""Our glance-api behind a real Keystone: `[paste_deploy] flavor = keystone`.

The module starts its own glance-api with a `[keystone_authtoken]` section
pointing at the test-bed Keystone (scripts/testbed/keystone-setup.sh: users
admin, demo, alt_demo, demo_reader, all with password "password"), registers it
as the catalog's image endpoint, and drives it with real Keystone tokens through
`openstack`, `glance` and plain HTTP. Two projects (demo, alt_demo) share an image.

Env: GLANCE_TEST_KEYSTONE_URL (default http://127.0.0.1:15000). Without a
Keystone answering there the tests fail, they are never skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

from conftest import CLI_TIMEOUT, _api_bin, _clients_bin, _free_port, _stop, _versions_ok

KEYSTONE = os.environ.get("GLANCE_TEST_KEYSTONE_URL", "http://127.0.0.1:15000").rstrip("/")
PASSWORD = "password"


# --------------------------------------------------------------------------
# Keystone
# --------------------------------------------------------------------------


def issue_token(user: str, project: str | None = None, system: bool = False) -> tuple[str, dict]:
    """A token for `user` scoped to `project` (or the system); returns (id, body)."""
    auth: dict = {
        "identity": {
            "methods": ["password"],
            "password": {
                "user": {"name": user, "domain": {"id": "default"}, "password": PASSWORD}
            },
        }
    }
    if system:
        auth["scope"] = {"system": {"all": True}}
    elif project:
        auth["scope"] = {"project": {"name": project, "domain": {"id": "default"}}}
    r = requests.post(f"{KEYSTONE}/v3/auth/tokens", json={"auth": auth}, timeout=30)
    assert r.status_code == 201, f"token for {user}: {r.status_code} {r.text[:300]}"
    return r.headers["X-Subject-Token"], r.json()["token"]


def register_image_endpoint(url: str) -> None:
    """Point the catalog's `image` service at `url` (what the clients look up)."""
    admin, _ = issue_token("admin", "admin")
    h = {"X-Auth-Token": admin}
    services = requests.get(f"{KEYSTONE}/v3/services?type=image", headers=h, timeout=30)
    for svc in services.json()["services"]:
        eps = requests.get(f"{KEYSTONE}/v3/endpoints?service_id={svc['id']}", headers=h, timeout=30)
        for ep in eps.json()["endpoints"]:
            requests.delete(f"{KEYSTONE}/v3/endpoints/{ep['id']}", headers=h, timeout=30)
        requests.delete(f"{KEYSTONE}/v3/services/{svc['id']}", headers=h, timeout=30)
    svc = requests.post(
        f"{KEYSTONE}/v3/services",
        headers=h,
        json={"service": {"name": "glance", "type": "image", "enabled": True}},
        timeout=30,
    ).json()["service"]
    for iface in ("public", "internal", "admin"):
        r = requests.post(
            f"{KEYSTONE}/v3/endpoints",
            headers=h,
            json={
                "endpoint": {
                    "service_id": svc["id"],
                    "interface": iface,
                    "url": url,
                    "region_id": "RegionOne",
                }
            },
            timeout=30,
        )
        assert r.status_code == 201, r.text


def project_id(name: str) -> str:
    _, body = issue_token(name, name)
    return body["project"]["id"]


# --------------------------------------------------------------------------
# server
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ks_server(tmp_path_factory):
    try:
        requests.get(f"{KEYSTONE}/v3", timeout=5)
    except requests.RequestException as e:
        pytest.fail(
            f"no Keystone at {KEYSTONE} ({e}): run scripts/testbed/keystone-setup.sh "
            "and scripts/testbed/keystone-start.sh"
        )
    binary = _api_bin()
    base = tmp_path_factory.mktemp("glance-keystone")
    data = base / "data"
    data.mkdir()
    port = _free_port()
    conf = base / "glance-api.conf"
    conf.write_text(
        "[DEFAULT]\n"
        f"bind_port = {port}\n"
        "[paste_deploy]\n"
        "flavor = keystone\n"
        "[keystone_authtoken]\n"
        f"www_authenticate_uri = {KEYSTONE}\n"
        f"auth_url = {KEYSTONE}\n"
        "auth_type = password\n"
        "project_domain_name = Default\n"
        "user_domain_name = Default\n"
        "project_name = service\n"
        "username = glance\n"
        f"password = {PASSWORD}\n"
        "service_token_roles_required = true\n"
        "token_cache_time = 2\n"
    )
    log_path = base / "glance-api.log"
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(binary), "--config-file", str(conf), "--data-dir", str(data)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=str(base),
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None and not _versions_ok(url):
            time.sleep(0.2)
        if not _versions_ok(url):
            pytest.fail(f"glance-api (keystone) did not start:\n{log_path.read_text()[-3000:]}")
        register_image_endpoint(url)
        yield url
    finally:
        _stop(proc)


class Caller:
    """Plain HTTP as one Keystone user."""

    def __init__(self, url: str, user: str, project: str | None):
        self.url = url
        self.token, body = issue_token(user, project)
        self.project_id = body.get("project", {}).get("id")
        self.s = requests.Session()
        self.s.headers["X-Auth-Token"] = self.token
        self.s.headers["Accept"] = "application/json"

    def req(self, method: str, path: str, **kw) -> requests.Response:
        return self.s.request(method, self.url + path, timeout=60, **kw)

    def create(self, **body) -> dict:
        r = self.req("POST", "/v2/images", json=body)
        assert r.status_code == 201, f"create: {r.status_code} {r.text[:300]}"
        return r.json()

    def patch(self, image_id: str, ops: list) -> requests.Response:
        return self.req(
            "PATCH",
            f"/v2/images/{image_id}",
            data=json.dumps(ops),
            headers={"Content-Type": "application/openstack-images-v2.1-json-patch"},
        )


@pytest.fixture(scope="module")
def demo(ks_server):
    return Caller(ks_server, "demo", "demo")


@pytest.fixture(scope="module")
def alt(ks_server):
    return Caller(ks_server, "alt_demo", "alt_demo")


@pytest.fixture(scope="module")
def reader(ks_server):
    return Caller(ks_server, "demo_reader", "demo")


@pytest.fixture(scope="module")
def admin(ks_server):
    return Caller(ks_server, "admin", "admin")


def openstack_env(user: str, project: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(
        PYTHONWARNINGS="ignore",
        OS_CLIENT_CONFIG_FILE=os.devnull,
        OS_AUTH_URL=f"{KEYSTONE}/v3",
        OS_IDENTITY_API_VERSION="3",
        OS_USERNAME=user,
        OS_PASSWORD=PASSWORD,
        OS_PROJECT_NAME=project,
        OS_USER_DOMAIN_NAME="Default",
        OS_PROJECT_DOMAIN_NAME="Default",
        OS_REGION_NAME="RegionOne",
        OS_INTERFACE="public",
        OS_IMAGE_API_VERSION="2",
    )
    return env


def run_cli(tool: str, user: str, project: str, *args, check: bool = True):
    master, slave = os.openpty()  # see conftest.Cli.run: stdin must be a terminal
    try:
        p = subprocess.run(
            [str(_clients_bin() / tool), *map(str, args)],
            stdin=slave,
            capture_output=True,
            text=True,
            env=openstack_env(user, project),
            timeout=CLI_TIMEOUT,
        )
    finally:
        os.close(slave)
        os.close(master)
    if check:
        assert p.returncode == 0, f"{tool} {args} as {user}: {p.returncode}\n{p.stdout}\n{p.stderr}"
    return p


def osc(user: str, project: str, *args, check: bool = True):
    return run_cli("openstack", user, project, *args, check=check)


def osc_json(user: str, project: str, *args):
    return json.loads(osc(user, project, *args, "-f", "json").stdout)


# --------------------------------------------------------------------------
# tokens
# --------------------------------------------------------------------------


def test_missing_and_bad_tokens_get_401_with_keystone_uri(ks_server):
    for headers in ({}, {"X-Auth-Token": "garbage"}, {"X-Auth-Token": "x" * 9000}):
        r = requests.get(f"{ks_server}/v2/images", headers=headers, timeout=30)
        assert r.status_code == 401, (headers.keys(), r.status_code, r.text[:200])
        assert r.headers["WWW-Authenticate"] == f'Keystone uri="{KEYSTONE}"'
    # The versions document needs no token, as upstream.
    assert requests.get(f"{ks_server}/versions", timeout=30).status_code == 200


def test_revoked_token_stops_working(ks_server):
    token, _ = issue_token("demo", "demo")
    h = {"X-Auth-Token": token}
    assert requests.get(f"{ks_server}/v2/images", headers=h, timeout=30).status_code == 200
    admin, _ = issue_token("admin", "admin")
    r = requests.delete(
        f"{KEYSTONE}/v3/auth/tokens",
        headers={"X-Auth-Token": admin, "X-Subject-Token": token},
        timeout=30,
    )
    assert r.status_code == 204
    time.sleep(2.5)  # token_cache_time = 2 in this server's config
    assert requests.get(f"{ks_server}/v2/images", headers=h, timeout=30).status_code == 401


def test_system_scoped_token_is_refused_by_project_scoped_policies(ks_server):
    token, _ = issue_token("admin", system=True)
    r = requests.get(f"{ks_server}/v2/images", headers={"X-Auth-Token": token}, timeout=30)
    assert r.status_code == 403, r.text[:300]


# --------------------------------------------------------------------------
# policy: secure RBAC defaults
# --------------------------------------------------------------------------


def test_owner_is_the_callers_project_and_others_cannot_see_private(demo, alt, admin, reader):
    img = demo.create(name=f"ks-{uuid.uuid4().hex[:8]}", disk_format="raw", container_format="bare")
    try:
        assert img["owner"] == demo.project_id
        assert img["visibility"] == "shared"
        assert alt.req("GET", f"/v2/images/{img['id']}").status_code == 404
        assert img["id"] not in [i["id"] for i in alt.req("GET", "/v2/images").json()["images"]]
        # A reader of the owning project sees it but may not change it.
        assert reader.req("GET", f"/v2/images/{img['id']}").status_code == 200
        r = reader.patch(img["id"], [{"op": "add", "path": "/foo", "value": "bar"}])
        assert r.status_code == 403, r.text[:300]
        assert reader.req("DELETE", f"/v2/images/{img['id']}").status_code == 403
        r = reader.req("POST", "/v2/images", json={"name": "nope"})
        assert r.status_code == 403
        # Another project's member gets 404 (information hiding), not 403.
        assert alt.req("DELETE", f"/v2/images/{img['id']}").status_code == 404
        # Only admins publicize; members may communitize their own image.
        r = demo.patch(img["id"], [{"op": "replace", "path": "/visibility", "value": "public"}])
        assert r.status_code == 403 and "publicize_image" in r.text
        r = demo.patch(img["id"], [{"op": "replace", "path": "/visibility", "value": "community"}])
        assert r.status_code == 200
        assert alt.req("GET", f"/v2/images/{img['id']}").status_code == 200
        # Admin sees every image with visibility=all.
        r = admin.req("GET", "/v2/images?visibility=all&limit=1000")
        assert img["id"] in [i["id"] for i in r.json()["images"]]
        # Creating an image for another project needs admin.
        r = demo.req("POST", "/v2/images", json={"name": "x", "owner": alt.project_id})
        assert r.status_code == 403
        assert f"owned by '{alt.project_id}'" in r.text
        r = admin.req("POST", "/v2/images", json={"name": "for-alt", "owner": alt.project_id})
        assert r.status_code == 201
        assert admin.req("DELETE", f"/v2/images/{r.json()['id']}").status_code == 204
    finally:
        demo.req("DELETE", f"/v2/images/{img['id']}")


# --------------------------------------------------------------------------
# real clients
# --------------------------------------------------------------------------


def test_openstack_cli_two_projects_share_an_image(ks_server, small_file, tmp_path, name):
    created = osc_json(
        "demo", "demo", "image", "create", "--disk-format", "raw", "--container-format",
        "bare", "--file", small_file.path, "--shared", "--property", "foo=bar", name,
    )
    image_id = created["id"]
    try:
        assert created["status"] == "active"
        assert created["checksum"] == small_file.md5
        listed = osc_json("demo", "demo", "image", "list")
        assert image_id in [i["ID"] for i in listed]
        shown = osc_json("demo", "demo", "image", "show", image_id)
        assert shown["owner"] == project_id("demo")
        osc("demo", "demo", "image", "set", "--property", "os_distro=debian", image_id)
        assert osc_json("demo", "demo", "image", "show", image_id)["properties"]["os_distro"] == "debian"

        # alt_demo cannot see it until it is shared with alt_demo and accepted.
        p = osc("alt_demo", "alt_demo", "image", "show", image_id, check=False)
        assert p.returncode != 0
        # By id: a project member may not look other projects up by name in
        # Keystone, and the CLI then sends the name as if it were an id.
        alt_id = project_id("alt_demo")
        osc("demo", "demo", "image", "add", "project", image_id, alt_id)
        pending = osc_json("alt_demo", "alt_demo", "image", "list", "--member-status", "pending")
        assert image_id in [i["ID"] for i in pending]
        osc("alt_demo", "alt_demo", "image", "set", "--accept", image_id)
        listed = osc_json("alt_demo", "alt_demo", "image", "list")
        assert image_id in [i["ID"] for i in listed]
        out = tmp_path / "alt.raw"
        osc("alt_demo", "alt_demo", "image", "save", "--file", out, image_id)
        assert small_file.same_as(out)
        # A member may read but not change or delete the owner's image.
        p = osc("alt_demo", "alt_demo", "image", "set", "--property", "x=y", image_id, check=False)
        assert p.returncode != 0 and "403" in (p.stdout + p.stderr)
        p = osc("alt_demo", "alt_demo", "image", "delete", image_id, check=False)
        assert p.returncode != 0

        # python-glanceclient with a Keystone token, too.
        g = run_cli("glance", "alt_demo", "alt_demo", "image-download", "--file", tmp_path / "g.raw", image_id)
        assert g.returncode == 0
        assert small_file.same_as(tmp_path / "g.raw")

        osc("demo", "demo", "image", "remove", "project", image_id, alt_id)
        p = osc("alt_demo", "alt_demo", "image", "show", image_id, check=False)
        assert p.returncode != 0
    finally:
        osc("demo", "demo", "image", "delete", image_id, check=False)
    p = osc("demo", "demo", "image", "show", image_id, check=False)
    assert p.returncode != 0
