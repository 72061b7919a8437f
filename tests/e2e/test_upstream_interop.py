"""Upstream Glance 33.0.0 and our glance-api on one database and one image directory.

For each engine (the machine's PostgreSQL and MariaDB) and each direction, one
scenario (a module-scoped fixture, so each runs once and all its tests share it):

* upstream-to-ours: a fresh database is given its schema by upstream's
  `glance-manage db sync`; upstream (uWSGI, trusted identity headers) writes the
  data set below; then our server starts on the same database and store
  directories (it must accept upstream's schema as it is).
* ours-to-upstream: our server starts on the empty database and creates the
  schema; it writes the data set; then upstream starts on it without migrating
  (upstream-glance-start.sh with UPSTREAM_GLANCE_DB_SYNC=0 refuses to start
  unless the database is at upstream's alembic head).

The writer keeps running, and every check asks both servers the same request at
the same time and compares the answers: image documents (every field, as five
identities), lists (default sort, sorts, filters, paging, as the same five
identities), members, image data with its headers (whole and a range), and that a
deleted image's id stays taken (409 on create). Last, the reader changes the
writer's images, adds one of its own and deletes one, and the writer must serve
the result identically.

The data set: an image with data (300 KiB + 7 random bytes), several properties
(one unicode, one empty), tags, min_disk/min_ram, shared with two members (one
accepted, one pending), changed by a PATCH after the upload, and, when upstream
writes, copied by upstream's `copy-image` import to a second store (two locations);
a protected public image with a given id; a deactivated private image with data;
a hidden community image; an image created with an empty body; and a deleted image
with data. Both servers run with `show_multiple_locations` and
`show_image_direct_url` on, so `locations` and `direct_url` (read from the shared
`image_locations` rows) are compared too, and with the same two filesystem stores
`fs` and `fs2` (the same directories), so `stores` is compared as well.

What is not compared exactly, and why (nothing else is left out; `self`/`file`/
`schema` links are paths on both servers and compared as they are):

* `tags` are compared as sorted lists: upstream builds them from a Python set, so
  its tag order is arbitrary (it depends on the per-process string hash seed and
  changes from one upstream worker to the next).
* On PostgreSQL the order of an image's `locations` (and so `direct_url`, the
  first one, and `stores`): upstream reads them without ORDER BY and serves the
  table's physical row order, which differs between its own answers (see
  LOCATION_ORDER below). On MariaDB they are compared exactly.
* Key order of the documents is checked by its own test (the extra properties'
  order is left out there: upstream's is the database's row order, ours sorts
  them by name).

Identity: both servers take it from X-Identity-Status/X-Project-Id/X-Roles
(upstream's ContextMiddleware without keystonemiddleware; our `trusted-auth`
flavor), with default policies; the owner project writes as admin, the members
answer as themselves.

Needs upstream's venv with the drivers (`UPSTREAM_GLANCE_DB_DRIVERS=1
scripts/testbed/upstream-glance-setup.sh`; scripts/test runs it) and the database
servers (scripts/testbed/databases-check.sh). Without them the tests skip, or
fail when CI is set. See interop_support.py for the environment variables.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import _api_bin
from interop_support import (
    ADMIN,
    ENGINES,
    MEMBER_OK,
    MEMBER_PENDING,
    OUTSIDER,
    OWNER,
    Client,
    Database,
    Ours,
    Upstream,
    check_upstream,
    identity,
)

UPSTREAM_FIRST = "upstream-to-ours"
OURS_FIRST = "ours-to-upstream"
SCENARIOS = [(e, d) for e in ENGINES for d in (UPSTREAM_FIRST, OURS_FIRST)]

UNICODE_VALUE = "Grüße aus Köln – 東京 ✓ «ü»"
MEMBER_OK_HEADERS = identity(MEMBER_OK)
MEMBER_PENDING_HEADERS = identity(MEMBER_PENDING)
OUTSIDER_HEADERS = identity(OUTSIDER)


@dataclass
class Scenario:
    engine: str
    direction: str
    db: Database
    writer: Client
    reader: Client
    upstream: Upstream
    ours: Ours
    store: Path
    store2: Path
    ids: dict = field(default_factory=dict)  # role -> image id
    data: dict = field(default_factory=dict)  # image id -> bytes
    deleted_id: str = ""

    @property
    def both(self) -> list[Client]:
        return [self.writer, self.reader]


# --------------------------------------------------------------------------
# writing the data set
# --------------------------------------------------------------------------


def _wait_for_copy(w: Client, image_id: str, timeout: float = 60) -> None:
    """Waits until upstream's copy-image import of the image to fs2 has finished
    (upstream drops the image's `os_glance_import_task` lock property at the end)."""
    deadline = time.monotonic() + timeout
    image = {}
    while time.monotonic() < deadline:
        image = w.json(f"/v2/images/{image_id}")
        assert not image.get("os_glance_failed_import"), f"copy-image failed: {image}"
        if "os_glance_import_task" not in image and image.get("stores") == "fs,fs2":
            break
        time.sleep(0.2)
    assert image.get("stores") == "fs,fs2" and "os_glance_import_task" not in image, (
        f"copy-image did not finish within {timeout} s: {image}"
    )
    tasks = w.json(f"/v2/images/{image_id}/tasks")["tasks"]
    assert [t["status"] for t in tasks] == ["success"], tasks


def write_data_set(sc: Scenario) -> None:
    w = sc.writer
    upstream_writes = sc.direction == UPSTREAM_FIRST

    # 1. shared image with data, properties, tags, members, PATCHed after upload
    img = w.create(
        {
            "name": "interop-data",
            "disk_format": "raw",
            "container_format": "bare",
            "visibility": "shared",
            "min_disk": 2,
            "min_ram": 512,
            "tags": ["alpha", "beta", "gamma-ü", "obsolete"],
            "os_distro": "cirros",
            "hw_disk_bus": "virtio",
            "interop_unicode": UNICODE_VALUE,
            "interop_empty": "",
        }
    )
    data = os.urandom(300 * 1024 + 7)
    w.upload(img["id"], data)
    sc.ids["data"] = img["id"]
    sc.data[img["id"]] = data
    w.patch(
        img["id"],
        [
            {"op": "add", "path": "/interop_patched", "value": "yes"},
            {"op": "replace", "path": "/os_distro", "value": "cirros-0.6"},
        ],
    )
    w.request("PUT", f"/v2/images/{img['id']}/tags/delta", 204)
    w.request("DELETE", f"/v2/images/{img['id']}/tags/obsolete", 204)
    w.request("POST", f"/v2/images/{img['id']}/members", 200, json={"member": MEMBER_OK})
    w.request("POST", f"/v2/images/{img['id']}/members", 200, json={"member": MEMBER_PENDING})
    w.as_(MEMBER_OK_HEADERS).request(
        "PUT", f"/v2/images/{img['id']}/members/{MEMBER_OK}", 200, json={"status": "accepted"}
    )
    if upstream_writes:
        # A second location: upstream copies the data to the store fs2 (our server
        # has no import yet, so this part is upstream-to-ours only).
        w.request(
            "POST",
            f"/v2/images/{img['id']}/import",
            202,
            json={"method": {"name": "copy-image"}, "stores": ["fs2"]},
        )
        _wait_for_copy(w, img["id"])

    # 2. protected public image with a given id, no data
    pid = str(uuid.uuid4())
    w.create(
        {
            "id": pid,
            "name": "interop-protected",
            "disk_format": "qcow2",
            "container_format": "ovf",
            "visibility": "public",
            "protected": True,
            "min_disk": 10,
            "min_ram": 1024,
            "tags": ["protected"],
            "os_version": "1.0",
        }
    )
    sc.ids["protected"] = pid

    # 3. deactivated private image with data
    img = w.create(
        {
            "name": "interop-deactivated",
            "disk_format": "raw",
            "container_format": "bare",
            "visibility": "private",
            "interop_kind": "deactivated",
        }
    )
    data = os.urandom(4096 + 3)
    w.upload(img["id"], data)
    w.request("POST", f"/v2/images/{img['id']}/actions/deactivate", 204)
    sc.ids["deactivated"] = img["id"]
    sc.data[img["id"]] = data

    # 4. hidden community image
    img = w.create(
        {
            "name": "interop-hidden",
            "disk_format": "iso",
            "container_format": "bare",
            "visibility": "community",
            "os_hidden": True,
        }
    )
    sc.ids["hidden"] = img["id"]

    # 5. an image created with an empty body (every field at its default, name null)
    sc.ids["empty"] = w.create({})["id"]

    # 6. a deleted image that had data
    did = str(uuid.uuid4())
    w.create({"id": did, "name": "interop-deleted", "disk_format": "raw", "container_format": "bare"})
    w.upload(did, os.urandom(2048))
    w.request("DELETE", f"/v2/images/{did}", 204)
    sc.ids["deleted"] = did
    sc.deleted_id = did


@pytest.fixture(scope="module", params=SCENARIOS, ids=[f"{e}-{d}" for e, d in SCENARIOS])
def scenario(request, tmp_path_factory):
    engine, direction = request.param
    check_upstream()
    binary = _api_bin()
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        pytest.fail(f"glance-api binary not found at {binary} (set GLANCE_API_BIN)")
    started = time.monotonic()
    db = Database.create(engine)
    base = tmp_path_factory.mktemp(f"interop-{engine}-{direction}")
    store, store2 = base / "store", base / "store2"
    store.mkdir()
    store2.mkdir()
    upstream = Upstream(base, db, store, store2, sync=direction == UPSTREAM_FIRST)
    ours = Ours(base, binary, db, store, store2)
    try:
        if direction == UPSTREAM_FIRST:
            upstream.start()
            writer_srv, reader_srv = upstream, ours
        else:
            ours.start()
            writer_srv, reader_srv = ours, upstream
        sc = Scenario(
            engine=engine,
            direction=direction,
            db=db,
            writer=Client(writer_srv),
            reader=Client(reader_srv),
            upstream=upstream,
            ours=ours,
            store=store,
            store2=store2,
        )
        write_data_set(sc)
        reader_srv.start()
        print(f"\n[interop] {engine} {direction}: ready after {time.monotonic() - started:.1f} s")
        yield sc
    finally:
        ours.stop()
        upstream.stop()
        db.drop()


# --------------------------------------------------------------------------
# comparison helpers
# --------------------------------------------------------------------------


def normalized(doc, kind: str = "", admin: bool = True, engine: str = ""):
    """The documents as compared: `tags` sorted (upstream's tag order is a Python
    set's); on PostgreSQL the locations in URL order (see LOCATION_ORDER below);
    nothing else changes."""
    if isinstance(doc, dict):
        out = {k: normalized(v, kind, admin, engine) for k, v in doc.items()}
        if "id" in doc and "status" in doc and isinstance(doc.get("tags"), list):
            out["tags"] = sorted(doc["tags"])
            if engine == "postgres":
                out = location_order_normalized(out)
        return out
    if isinstance(doc, list):
        return [normalized(v, kind, admin, engine) for v in doc]
    return doc


# LOCATION_ORDER: upstream reads an image's locations without ORDER BY, so on
# PostgreSQL it serves them in the table's physical row order, which changes when a
# row is updated (copy-image updates the rows) and can differ between upstream's own
# answers (seen: GET /v2/images/{id} gave [fs, fs2] while GET /v2/images?sort=
# created_at:asc gave [fs2, fs] for the same image, with direct_url and stores
# following). Ours serves them in id (insertion) order, as upstream does on MariaDB,
# where the rows come back in primary-key order and everything is compared exactly.
# On PostgreSQL the locations are compared as a set, `stores` as a set, and
# `direct_url` must be the document's own first location.
def location_order_normalized(doc: dict) -> dict:
    locations = doc.get("locations")
    if not locations:
        return doc
    doc = dict(doc)
    if "direct_url" in doc:
        assert doc["direct_url"] == locations[0]["url"], f"direct_url is not the first location: {doc}"
        doc["direct_url"] = "<the first location>"
    doc["locations"] = sorted(locations, key=lambda loc: json.dumps(loc, sort_keys=True))
    if "stores" in doc:
        doc["stores"] = ",".join(sorted(doc["stores"].split(",")))
    return doc


def diff(a, b, path="") -> list[str]:
    """Readable differences between two JSON values."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in list(a) + [k for k in b if k not in a]:
            if k not in b:
                out.append(f"{path}/{k}: {a[k]!r} vs (absent)")
            elif k not in a:
                out.append(f"{path}/{k}: (absent) vs {b[k]!r}")
            else:
                out += diff(a[k], b[k], f"{path}/{k}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += diff(x, y, f"{path}/{i}")
        return out
    return [] if a == b else [f"{path or '/'}: {a!r} vs {b!r}"]


def is_admin(headers: dict | None) -> bool:
    return "admin" in (headers or ADMIN)["X-Roles"].split(",")


def compare(sc: Scenario, what: str, w_value, r_value, headers: dict | None = None) -> list[str]:
    """Differences (empty if none) between the writer's and the reader's answer."""
    admin = is_admin(headers)
    w = normalized(w_value, sc.writer.server.kind, admin, sc.engine)
    r = normalized(r_value, sc.reader.server.kind, admin, sc.engine)
    if w == r:
        return []
    if isinstance(w, dict) and isinstance(r, dict) and "images" in w and "images" in r:
        w_ids = [(i["name"], i["id"][:8]) for i in w["images"]]
        r_ids = [(i["name"], i["id"][:8]) for i in r["images"]]
        if w_ids != r_ids:
            return [
                f"{what}: other images or order: {sc.writer.server.kind} (writer) "
                f"{w_ids} vs {sc.reader.server.kind} (reader) {r_ids}"
            ]
    return [
        f"{what}: {sc.writer.server.kind} (writer) vs {sc.reader.server.kind} (reader):\n    "
        + "\n    ".join(diff(w, r)[:30])
        + f"\n  writer: {json.dumps(w_value, ensure_ascii=False)[:2000]}"
        + f"\n  reader: {json.dumps(r_value, ensure_ascii=False)[:2000]}"
    ]


def assert_same(sc: Scenario, what: str, w_value, r_value, headers: dict | None = None) -> None:
    failures = compare(sc, what, w_value, r_value, headers)
    if failures:
        pytest.fail(failures[0], pytrace=False)


def both_json(sc: Scenario, path: str, headers: dict | None = None, expect: int = 200):
    out = []
    for c in sc.both:
        c = c.as_(headers) if headers else c
        r = c.get(path, expect=expect)
        out.append(r.json() if r.content else None)
    return out


def both_answers(sc: Scenario, path: str, headers: dict | None = None):
    """(status, JSON body or None) from writer and reader; error bodies are not compared."""
    out = []
    for c in sc.both:
        c = c.as_(headers) if headers else c
        r = c.get(path, expect=None)
        out.append((r.status_code, r.json() if r.status_code == 200 else None))
    return out


def by_kind(sc: Scenario, values: list) -> dict:
    """{'upstream': ..., 'ours': ...} from [writer's, reader's]."""
    return {sc.writer.server.kind: values[0], sc.reader.server.kind: values[1]}


# --------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------


def test_writer_stored_what_was_asked(scenario):
    """Sanity of the data set itself, on the writer."""
    sc = scenario
    img = sc.writer.json(f"/v2/images/{sc.ids['data']}")
    data = sc.data[sc.ids["data"]]
    assert img["status"] == "active"
    assert img["interop_unicode"] == UNICODE_VALUE
    assert img["interop_empty"] == ""
    assert img["interop_patched"] == "yes" and img["os_distro"] == "cirros-0.6"
    assert sorted(img["tags"]) == ["alpha", "beta", "delta", "gamma-ü"]
    assert (img["min_disk"], img["min_ram"], img["visibility"]) == (2, 512, "shared")
    assert img["size"] == len(data)
    assert img["checksum"] == hashlib.md5(data).hexdigest()
    assert img["os_hash_algo"] == "sha512"
    assert img["os_hash_value"] == hashlib.sha512(data).hexdigest()
    n_locations = 2 if sc.direction == UPSTREAM_FIRST else 1
    assert len(img["locations"]) == n_locations, img["locations"]
    assert img["direct_url"] == img["locations"][0]["url"]
    assert img["direct_url"].startswith("file://") and img["direct_url"].endswith(img["id"])
    assert (sc.store / img["id"]).read_bytes() == data
    if sc.direction == UPSTREAM_FIRST:
        assert img["stores"] == "fs,fs2"
        assert (sc.store2 / img["id"]).read_bytes() == data
    prot = sc.writer.json(f"/v2/images/{sc.ids['protected']}")
    assert prot["protected"] is True and prot["visibility"] == "public" and prot["status"] == "queued"
    assert sc.writer.json(f"/v2/images/{sc.ids['deactivated']}")["status"] == "deactivated"
    assert sc.writer.json(f"/v2/images/{sc.ids['hidden']}")["os_hidden"] is True
    assert sc.writer.json(f"/v2/images/{sc.ids['empty']}")["name"] is None
    # The database really is the upstream schema at upstream's head.
    assert sc.db.query("SELECT version_num FROM alembic_version").split() == ["2024_1_contract01"]


IDENTITIES = {
    "owner-admin": ADMIN,
    "owner-member": identity(OWNER),
    "member-accepted": MEMBER_OK_HEADERS,
    "member-pending": MEMBER_PENDING_HEADERS,
    "outsider": OUTSIDER_HEADERS,
}
ROLES = ["data", "protected", "deactivated", "hidden", "empty"]


@pytest.mark.parametrize("role", ROLES)
def test_image_document_identical(scenario, role):
    """GET /v2/images/{id} as each identity: same status, same document."""
    sc = scenario
    image_id = sc.ids[role]
    failures = []
    for who, headers in IDENTITIES.items():
        (ws, w), (rs, r) = both_answers(sc, f"/v2/images/{image_id}", headers)
        if ws != rs:
            failures.append(f"GET /v2/images/{image_id} ({role}) as {who}: status {ws} vs {rs}")
        else:
            failures += compare(sc, f"GET /v2/images/{image_id} ({role}) as {who}", w, r, headers)
    assert not failures, "\n".join(failures)
    # The owner's admin sees it; the documents are not two equal errors.
    assert both_answers(sc, f"/v2/images/{image_id}")[0][0] == 200


def test_deactivated_image_locations_hidden_from_non_admins(scenario):
    """As upstream's _normalize_locations: a deactivated image's locations are [] for
    non-admins, so there is no direct_url or stores either; admins still see them."""
    sc = scenario
    path = f"/v2/images/{sc.ids['deactivated']}"
    docs = by_kind(sc, both_json(sc, path, identity(OWNER)))
    up, ours = docs["upstream"], docs["ours"]
    assert up["locations"] == [] and "direct_url" not in up and "stores" not in up, up
    admin_doc = sc.reader.json(path)
    assert admin_doc["locations"] and admin_doc["direct_url"] and admin_doc["stores"] == "fs"
    assert ours["locations"] == [] and "direct_url" not in ours and "stores" not in ours, (
        f"GET {path} as a non-admin member of the owner project: ours "
        f"locations={ours['locations']!r}, direct_url={ours.get('direct_url')!r}, "
        f"stores={ours.get('stores')!r}"
    )


def test_image_document_key_order(scenario):
    """Key order of the documents (COMPATIBILITY.md promises upstream's). The extra
    properties' order is left out: upstream's is the database's row order (no ORDER BY;
    ours sorts them by name), which upstream does not define."""
    sc = scenario
    failures = []
    for role in ROLES:
        docs = by_kind(sc, both_json(sc, f"/v2/images/{sc.ids[role]}"))
        up, ours = docs["upstream"], docs["ours"]
        assert sorted(up) == sorted(ours)
        extra = [k for k in up if k not in BASE_KEYS]
        up_keys = [k for k in up if k not in extra]
        ours_keys = [k for k in ours if k not in extra]
        # Extra properties first on both (in whatever order).
        assert set(list(up)[: len(extra)]) == set(list(ours)[: len(extra)]) == set(extra), (up, ours)
        if up_keys != ours_keys:
            failures.append(f"{role}: upstream {up_keys}\n       ours     {ours_keys}")
    assert not failures, "key order differs:\n" + "\n".join(failures)


BASE_KEYS = {
    "name", "disk_format", "container_format", "visibility", "size", "virtual_size",
    "status", "checksum", "protected", "min_ram", "min_disk", "owner", "os_hidden",
    "os_hash_algo", "os_hash_value", "id", "created_at", "updated_at", "locations",
    "direct_url", "tags", "self", "file", "schema", "stores",
}  # fmt: skip


LIST_QUERIES = [
    "/v2/images",
    "/v2/images?member_status=all",
    "/v2/images?os_hidden=true",
    "/v2/images?visibility=shared",
    "/v2/images?visibility=all",
    "/v2/images?visibility=community",
    "/v2/images?tag=alpha",
    "/v2/images?status=deactivated",
    "/v2/images?limit=2",
    "/v2/images?protected=true",
    "/v2/images?sort=created_at:asc",
    "/v2/images?sort_key=min_ram",  # not a sort key upstream allows: 400 on both
    "/v2/images?interop_unicode=" + UNICODE_VALUE,
    "/v2/images?name=interop-data",
    "/v2/images?size_min=4000",
]
# Sorting on columns that hold NULLs (the image created with an empty body has no
# name and no formats; queued images have no size); each engine puts NULL where it sorts it.
NULLABLE_SORT_QUERIES = [
    "/v2/images?sort=name:asc,created_at:desc",
    "/v2/images?sort=name:desc",
    "/v2/images?sort_key=size&sort_dir=asc",
    "/v2/images?sort=disk_format:asc",
    "/v2/images?sort_key=name&sort_dir=asc&limit=2",
]


def _compare_lists(sc: Scenario, queries: list[str], who: str, follow_next: bool = True) -> list[str]:
    headers = IDENTITIES[who]
    failures = []
    for q in queries:
        pages = 0
        while q and pages < (5 if follow_next else 1):
            pages += 1
            (ws, w), (rs, r) = both_answers(sc, q, headers)
            if ws != rs:
                failures.append(f"GET {q} as {who}: status {ws} vs {rs}")
                break
            found = compare(sc, f"GET {q} as {who}", w, r, headers)
            failures += found
            # Follow `next` while both agree (the same marker on both).
            q = w.get("next") if w and not found else None
    return failures


@pytest.mark.parametrize("who", list(IDENTITIES))
def test_image_lists_identical(scenario, who):
    sc = scenario
    failures = _compare_lists(sc, LIST_QUERIES, who)
    assert not failures, "\n".join(failures)
    # The default list really shows the data set (not two equally empty answers).
    w, _ = both_json(sc, "/v2/images", IDENTITIES[who])
    ids = [i["id"] for i in w["images"]]
    assert sc.deleted_id not in ids
    assert sc.ids["hidden"] not in ids
    if who.startswith("owner"):
        assert {sc.ids[k] for k in ("data", "protected", "deactivated", "empty")} <= set(ids)
    if who == "member-accepted":
        assert sc.ids["data"] in ids
    if who in ("member-pending", "outsider"):
        assert sc.ids["data"] not in ids and sc.ids["protected"] in ids


@pytest.mark.parametrize("who", ["owner-admin", "member-accepted"])
def test_image_lists_sorted_on_nullable_columns(scenario, who):
    """NULL sorts where each engine puts it (last ascending on PostgreSQL, first on
    MariaDB), as upstream's plain ORDER BY does.

    Paging past a marker differs on PostgreSQL on purpose: upstream compares the
    marker with NULL read as '' (or 0) while PostgreSQL sorts NULL last, so its later
    pages silently skip the images whose sort value is NULL. Ours keeps the marker
    condition consistent with the order and returns them; there only the first pages
    are compared, and our walk must cover every image once."""
    sc = scenario
    paging_comparable = sc.engine != "postgres"
    failures = _compare_lists(sc, NULLABLE_SORT_QUERIES, who, follow_next=paging_comparable)
    assert not failures, "\n".join(failures)
    if paging_comparable:
        return
    headers = IDENTITIES[who]
    ours = (sc.reader if sc.reader.server.kind == "ours" else sc.writer).as_(headers)
    whole = [i["id"] for i in ours.json("/v2/images?sort_key=name&sort_dir=asc")["images"]]
    walked, q = [], "/v2/images?sort_key=name&sort_dir=asc&limit=2"
    while q and len(walked) <= len(whole):
        page = ours.json(q)
        walked += [i["id"] for i in page["images"]]
        q = page.get("next")
    assert walked == whole, (walked, whole)


def test_members_identical(scenario):
    sc = scenario
    image_id = sc.ids["data"]
    for who, headers in (("owner", ADMIN), ("member-accepted", MEMBER_OK_HEADERS), ("member-pending", MEMBER_PENDING_HEADERS)):
        w, r = both_json(sc, f"/v2/images/{image_id}/members", headers)
        assert_same(sc, f"GET /v2/images/{image_id}/members as {who}", w, r)
    w, _ = both_json(sc, f"/v2/images/{image_id}/members")
    statuses = sorted((m["member_id"], m["status"]) for m in w["members"])
    assert statuses == [(MEMBER_OK, "accepted"), (MEMBER_PENDING, "pending")]
    for member, headers in ((MEMBER_OK, MEMBER_OK_HEADERS), (MEMBER_PENDING, MEMBER_PENDING_HEADERS)):
        for h in (ADMIN, headers):
            w, r = both_json(sc, f"/v2/images/{image_id}/members/{member}", h)
            assert_same(sc, f"GET /v2/images/{image_id}/members/{member}", w, r)
    # Images that are not shared (no members), and a non-member asking: same answers.
    for role in ("protected", "deactivated", "hidden", "empty"):
        w, r = both_answers(sc, f"/v2/images/{sc.ids[role]}/members")
        assert_same(sc, f"GET members of the {role} image", w, r)
    codes = [
        c.as_(OUTSIDER_HEADERS).get(f"/v2/images/{image_id}/members", expect=None).status_code
        for c in sc.both
    ]
    assert codes[0] == codes[1] == 404, codes


DATA_HEADERS = ("Content-Type", "Content-Length", "Content-MD5")


def test_image_data_identical(scenario):
    sc = scenario
    image_id = sc.ids["data"]
    data = sc.data[image_id]
    image = sc.reader.json(f"/v2/images/{image_id}")
    answers = {}
    for c in sc.both:
        r = c.get(f"/v2/images/{image_id}/file")
        assert r.content == data, f"{c.server.kind}: downloaded bytes differ from the upload"
        answers[c.server.kind] = {h: r.headers.get(h) for h in DATA_HEADERS}
    assert answers["ours"] == answers["upstream"], answers
    assert answers["ours"]["Content-MD5"] == image["checksum"] == hashlib.md5(data).hexdigest()
    assert answers["ours"]["Content-Length"] == str(len(data))
    assert image["os_hash_value"] == hashlib.sha512(data).hexdigest()
    # A range, from the middle.
    ranged = {}
    for c in sc.both:
        r = c.get(f"/v2/images/{image_id}/file", expect=206, headers={"Range": "bytes=1000-1999"})
        assert r.content == data[1000:2000], c.server.kind
        ranged[c.server.kind] = {h: r.headers.get(h) for h in (*DATA_HEADERS, "Content-Range")}
    assert ranged["ours"] == ranged["upstream"], ranged
    # The member that accepted downloads it too, from both.
    for c in sc.both:
        assert c.as_(MEMBER_OK_HEADERS).get(f"/v2/images/{image_id}/file").content == data


def test_deactivated_and_queued_data(scenario):
    sc = scenario
    for role, headers in (("deactivated", ADMIN), ("deactivated", identity(OWNER)), ("protected", ADMIN)):
        codes = [
            c.as_(headers).get(f"/v2/images/{sc.ids[role]}/file", expect=None).status_code
            for c in sc.both
        ]
        assert codes[0] == codes[1], f"GET file of the {role} image as {headers['X-Roles']}: {codes}"


def test_deleted_image_id_stays_taken(scenario):
    sc = scenario
    did = sc.deleted_id
    for c in sc.both:
        assert c.get(f"/v2/images/{did}", expect=None).status_code == 404, c.server.kind
        assert c.get(f"/v2/images/{did}/file", expect=None).status_code == 404, c.server.kind
    assert not (sc.store / did).exists(), "the deleted image's data is still in the store"
    # The reader must refuse the id (409), as the writer does.
    r = sc.reader.request(
        "POST",
        "/v2/images",
        None,
        json={"id": did, "name": "reuse", "disk_format": "raw", "container_format": "bare"},
    )
    assert r.status_code == 409, f"{sc.reader.server.kind}: reusing a deleted id: {r.status_code} {r.text[:300]}"
    r = sc.writer.request(
        "POST",
        "/v2/images",
        None,
        json={"id": did, "name": "reuse", "disk_format": "raw", "container_format": "bare"},
    )
    assert r.status_code == 409, f"{sc.writer.server.kind}: reusing a deleted id: {r.status_code}"
    # And the same for a live id.
    r = sc.reader.request("POST", "/v2/images", None, json={"id": sc.ids["protected"]})
    assert r.status_code == 409, f"{sc.reader.server.kind}: reusing a live id: {r.status_code}"


def test_reader_writes_back(scenario):
    """Last (it changes the data set): the reader changes the writer's images and adds
    one of its own; the writer then serves the same documents, members and data."""
    sc = scenario
    r = sc.reader
    image_id = sc.ids["data"]
    r.patch(
        image_id,
        [
            {"op": "replace", "path": "/interop_patched", "value": "by the reader ✓"},
            {"op": "remove", "path": "/interop_empty"},
            {"op": "replace", "path": "/min_ram", "value": 768},
        ],
    )
    r.request("PUT", f"/v2/images/{image_id}/tags/epsilon", 204)
    r.request("DELETE", f"/v2/images/{image_id}/tags/beta", 204)
    r.as_(MEMBER_PENDING_HEADERS).request(
        "PUT", f"/v2/images/{image_id}/members/{MEMBER_PENDING}", 200, json={"status": "rejected"}
    )
    # A new image with data, written by the reader into the shared store.
    new = r.create(
        {"name": "interop-by-reader", "disk_format": "raw", "container_format": "bare",
         "visibility": "shared", "interop_unicode": UNICODE_VALUE, "tags": ["reader"]}
    )  # fmt: skip
    data = os.urandom(64 * 1024 + 1)
    r.upload(new["id"], data)
    r.request("POST", f"/v2/images/{new['id']}/members", 200, json={"member": MEMBER_OK})
    # Delete the writer's deactivated image (and its data file).
    deactivated = sc.ids["deactivated"]
    r.request("DELETE", f"/v2/images/{deactivated}", 204)

    failures = []
    for path in (
        f"/v2/images/{image_id}",
        f"/v2/images/{new['id']}",
        f"/v2/images/{image_id}/members",
        f"/v2/images/{new['id']}/members",
        "/v2/images",
    ):
        w_doc, r_doc = both_json(sc, path)
        failures += compare(sc, f"after the reader's writes: GET {path}", w_doc, r_doc)
    assert not failures, "\n".join(failures)
    doc = sc.writer.json(f"/v2/images/{image_id}")
    assert doc["interop_patched"] == "by the reader ✓" and "interop_empty" not in doc
    assert doc["min_ram"] == 768 and sorted(doc["tags"]) == ["alpha", "delta", "epsilon", "gamma-ü"]
    members = {m["member_id"]: m["status"] for m in sc.writer.json(f"/v2/images/{image_id}/members")["members"]}
    assert members == {MEMBER_OK: "accepted", MEMBER_PENDING: "rejected"}
    for c in sc.both:
        resp = c.get(f"/v2/images/{new['id']}/file")
        assert resp.content == data, c.server.kind
        assert resp.headers["Content-MD5"] == hashlib.md5(data).hexdigest(), c.server.kind
        assert c.get(f"/v2/images/{deactivated}", expect=None).status_code == 404, c.server.kind
    assert (sc.store / new["id"]).read_bytes() == data
    assert not (sc.store / deactivated).exists(), "the deleted image's data is still in the store"
