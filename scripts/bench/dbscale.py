#!/usr/bin/env python3
"""Helper of scripts/bench/db-scale.sh: list and show latency at database scale
(PostgreSQL / MariaDB), Python standard library only. The databases are reached
through their command-line clients (psql, mariadb), the servers over loopback HTTP.

Subcommands:
  create  --engine E --db NAME              create an empty database (refuses names
                                            not starting with glance_dbscale_)
  drop    --engine E --db NAME              drop it (same rule)
  fill    --engine E --db NAME --images N   bulk-fill with SQL, then ANALYZE
  fixture --engine E --db NAME --out JSON   ids and projects the measurement uses
  measure --fixture JSON --url LABEL=URL [--url LABEL=URL ...] --out JSON
                                            timed requests, servers interleaved
  url     --engine E --db NAME              the [database] connection URL of NAME
  capture --fixture JSON --url URL --log FILE --out JSON
                                            one request per case against our server
                                            started with glance_db::sql=trace; keeps
                                            the SQL it issued
  explain --engine E --db NAME --fixture JSON [--captured JSON] [--proposed] --out FILE
                                            the SQL of every case as list.rs builds it
                                            (checked against the captured SQL), with
                                            EXPLAIN ANALYZE on each; --proposed adds the
                                            page queries with the change proposed in
                                            docs/BENCHMARKS.md ("Database scale")
  table   RESULTS.json [RESULTS.json...]    Markdown table(s) of the results

Environment: GLANCE_TEST_POSTGRES_URL (postgresql://postgres@127.0.0.1:5432/postgres)
and GLANCE_TEST_MYSQL_URL (mysql://root@127.0.0.1:3306/mysql): the admin connections.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import time
from urllib.parse import unquote, urlsplit

DB_PREFIX = "glance_dbscale_"
PROJECTS = 100
MEASURED_PROJECT = 7


def log(msg: str) -> None:
    print(f"[dbscale] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- database clients


def admin_url(engine: str) -> dict:
    if engine == "postgresql":
        url = os.environ.get("GLANCE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
        default_port, default_user = 5432, "postgres"
    else:
        url = os.environ.get("GLANCE_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/mysql")
        default_port, default_user = 3306, "root"
    u = urlsplit(url)
    return {"host": u.hostname or "127.0.0.1", "port": u.port or default_port,
            "user": unquote(u.username or default_user),
            "password": unquote(u.password) if u.password else ""}


def server_url(engine: str, db: str) -> str:
    """The [database] connection URL both servers get."""
    a = admin_url(engine)
    cred = a["user"] + (":" + a["password"] if a["password"] else "")
    if engine == "postgresql":
        return f"postgresql+psycopg2://{cred}@{a['host']}:{a['port']}/{db}"
    return f"mysql+pymysql://{cred}@{a['host']}:{a['port']}/{db}?charset=utf8mb4"


def run_sql(engine: str, db: str | None, sql: str, timeout: int = 3600) -> str:
    """Runs SQL through the engine's client; returns its tab-separated output."""
    a = admin_url(engine)
    env = dict(os.environ)
    if engine == "postgresql":
        cmd = ["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
               "-h", a["host"], "-p", str(a["port"]), "-U", a["user"], "-d", db or "postgres"]
        if a["password"]:
            env["PGPASSWORD"] = a["password"]
    else:
        cmd = ["mariadb", "--batch", "--raw", "--skip-column-names", "-h", a["host"],
               "-P", str(a["port"]), "-u", a["user"]]
        if a["password"]:
            env["MYSQL_PWD"] = a["password"]
        if db:
            cmd.append(db)
    out = subprocess.run(cmd, input=sql, capture_output=True, text=True, env=env, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed: {out.stderr.strip()[:2000]}")
    return out.stdout


def check_name(db: str) -> None:
    if not re.fullmatch(DB_PREFIX + r"[a-z0-9_]{1,40}", db):
        raise SystemExit(f"refusing database name {db!r}: must be {DB_PREFIX}[a-z0-9_]+")


def cmd_create(a):
    check_name(a.db)
    if a.engine == "postgresql":
        run_sql(a.engine, None, f"CREATE DATABASE {a.db} ENCODING 'UTF8' TEMPLATE template0")
    else:
        run_sql(a.engine, None, f"CREATE DATABASE {a.db} CHARACTER SET utf8mb4")
    log(f"{a.engine}: created database {a.db}")


def cmd_drop(a):
    check_name(a.db)
    if a.engine == "postgresql":
        run_sql(a.engine, None, f"DROP DATABASE IF EXISTS {a.db} WITH (FORCE)")
    else:
        run_sql(a.engine, None, f"DROP DATABASE IF EXISTS {a.db}")
    log(f"{a.engine}: dropped database {a.db}")


# ---------------------------------------------------------------- bulk fill
#
# Image n (1..N) is derived from h = md5('glance-bench-image-' || n) and
# h2 = md5('glance-bench-member-' || n): each 4-hex-digit slice of them is an
# independent number in 0..65535, so both engines compute exactly the same rows.
#   owner        project (n % 100), a 32-hex id md5('glance-bench-project-' || k)
#   visibility   public 20 %, private 35 %, shared 35 %, community 10 %
#   status       active 90 %, queued 4 %, deactivated 2 %, killed 1 %, deleted 3 %
#                (deleted = true, child rows deleted too)
#   os_hidden    1 %
#   created_at   2025-01-01 + 5 min * n (so the default sort is n descending)
#   properties   architecture, os_distro, os_version, os_type, hw_disk_bus,
#                hw_scsi_model, hw_vif_model, hw_qemu_guest_agent, hw_machine_type
#                (shared values) and build_id (unique)
#   os_distro    ubuntu 30 %, centos 15 %, debian 15 %, rocky 10 %, fedora 8 %,
#                rhel 8 %, windows 8 %, opensuse 5 %, cirros 1 %
#   tags         one of golden/nightly/certified/legacy/gpu/minimal/hardened/testing,
#                and team-0..team-49
#   members      two other projects: (k + 1 + x % 49) % 100 and (k + 50 + y % 49) % 100,
#                each accepted 60 %, pending 25 %, rejected 15 %

DISTROS = [(30, "ubuntu"), (45, "centos"), (60, "debian"), (70, "rocky"), (78, "fedora"),
           (86, "rhel"), (94, "windows"), (99, "opensuse"), (100, "cirros")]
TAGS_A = ["golden", "nightly", "certified", "legacy", "gpu", "minimal", "hardened", "testing"]


def project_id(k) -> str:
    return hashlib.md5(f"glance-bench-project-{k}".encode()).hexdigest()


class Dialect:
    def __init__(self, engine: str):
        self.pg = engine == "postgresql"

    def hx(self, col: str, start: int) -> str:
        """Four hex digits of `col` from `start` (1-based) as an integer 0..65535."""
        if self.pg:
            return f"(('x' || substr({col}, {start}, 4))::bit(16)::int)"
        return f"CAST(CONV(SUBSTR({col}, {start}, 4), 16, 10) AS UNSIGNED)"

    def ts(self, minutes: str) -> str:
        if self.pg:
            return f"(timestamp '2025-01-01 00:00:00' + ({minutes}) * interval '1 minute')"
        return f"TIMESTAMPADD(MINUTE, {minutes}, '2025-01-01 00:00:00')"

    def boolean(self, expr: str) -> str:
        return f"({expr})"

    def vis(self, expr: str) -> str:
        return f"({expr})::image_visibility" if self.pg else expr

    def uuid(self, h: str) -> str:
        return (f"concat(substr({h}, 1, 8), '-', substr({h}, 9, 4), '-', substr({h}, 13, 4), '-', "
                f"substr({h}, 17, 4), '-', substr({h}, 21, 12))")


def fill_sql(engine: str, n_images: int) -> str:
    d = Dialect(engine)
    hx = d.hx
    distro = "CASE " + " ".join(
        f"WHEN {hx('h', 9)} % 100 < {lim} THEN '{name}'" for lim, name in DISTROS[:-1]
    ) + f" ELSE '{DISTROS[-1][1]}' END"
    status = (f"CASE WHEN rs < 90 THEN 'active' WHEN rs < 94 THEN 'queued' "
              f"WHEN rs < 96 THEN 'deactivated' WHEN rs < 97 THEN 'killed' ELSE 'deleted' END")
    visibility = (f"CASE WHEN rv < 20 THEN 'public' WHEN rv < 55 THEN 'private' "
                  f"WHEN rv < 90 THEN 'shared' ELSE 'community' END")
    src_select = (
        f"SELECT n, h, h2, {d.uuid('h')} AS id, n % {PROJECTS} AS k, "
        f"{hx('h', 1)} % 100 AS rv, {hx('h', 5)} % 100 AS rs, {distro} AS distro, "
        f"{d.ts('5 * n')} AS created_at FROM ("
        f"SELECT n, md5(concat('glance-bench-image-', n)) AS h, "
        f"md5(concat('glance-bench-member-', n)) AS h2 FROM {{series}}) s0")
    out = []
    if d.pg:
        out.append("SET session_replication_role = replica;")  # no FK triggers while filling
        out.append("SET synchronous_commit = off;")
        out.append(f"CREATE TEMP TABLE bench_src AS {src_select.format(series=f'generate_series(1, {n_images}) AS g(n)')};")
    else:
        out.append("SET SESSION foreign_key_checks = 0, unique_checks = 0;")
        out.append(f"SET SESSION max_recursive_iterations = {n_images + 10};")
        out.append("CREATE TEMPORARY TABLE bench_seq (n INT NOT NULL PRIMARY KEY);")
        out.append(f"INSERT INTO bench_seq (n) WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL "
                   f"SELECT n + 1 FROM s WHERE n < {n_images}) SELECT n FROM s;")
        out.append("CREATE TEMPORARY TABLE bench_src ENGINE=InnoDB AS "
                   + src_select.format(series="bench_seq") + ";")
    out.append("ALTER TABLE bench_src ADD PRIMARY KEY (n);")
    deleted = d.boolean("rs >= 97")
    out.append(f"""
INSERT INTO images (id, name, size, status, created_at, updated_at, deleted_at, deleted,
    disk_format, container_format, checksum, owner, min_disk, min_ram, protected,
    virtual_size, visibility, os_hidden, os_hash_algo, os_hash_value)
SELECT id, concat('bench-', distro, '-', n),
    CASE WHEN rs >= 90 AND rs < 94 THEN NULL ELSE 104857600 + {hx('h', 13)} * 16384 END,
    {status}, created_at, {d.ts('5 * n + 30')},
    CASE WHEN rs >= 97 THEN {d.ts('5 * n + 90')} ELSE NULL END, {deleted},
    CASE WHEN {hx('h', 17)} % 3 = 0 THEN 'raw' ELSE 'qcow2' END, 'bare',
    CASE WHEN rs >= 90 AND rs < 94 THEN NULL ELSE md5(h2) END,
    md5(concat('glance-bench-project-', k)), 10, 512, FALSE,
    CASE WHEN rs >= 90 AND rs < 94 THEN NULL ELSE 2147483648 + {hx('h', 13)} * 20000 END,
    {d.vis(visibility)}, {d.boolean(f"{hx('h', 21)} % 100 = 0")},
    CASE WHEN rs >= 90 AND rs < 94 THEN NULL ELSE 'sha512' END,
    CASE WHEN rs >= 90 AND rs < 94 THEN NULL ELSE concat(h, h2, md5(h), md5(h2)) END
FROM bench_src ORDER BY n;""")
    props = [
        ("architecture", f"CASE WHEN {hx('h2', 17)} % 100 < 85 THEN 'x86_64' ELSE 'aarch64' END"),
        ("os_distro", "distro"),
        ("os_version", f"concat(distro, '-', {hx('h2', 21)} % 8 + 1)"),
        ("os_type", "CASE WHEN distro = 'windows' THEN 'windows' ELSE 'linux' END"),
        ("hw_disk_bus", f"CASE WHEN {hx('h2', 25)} % 10 < 7 THEN 'virtio' "
                        f"WHEN {hx('h2', 25)} % 10 < 9 THEN 'scsi' ELSE 'ide' END"),
        ("hw_scsi_model", "'virtio-scsi'"),
        ("hw_vif_model", f"CASE WHEN {hx('h2', 29)} % 10 < 8 THEN 'virtio' ELSE 'e1000' END"),
        ("hw_qemu_guest_agent", f"CASE WHEN {hx('h2', 29)} % 3 = 0 THEN 'no' ELSE 'yes' END"),
        ("hw_machine_type", f"CASE WHEN {hx('h2', 25)} % 4 = 0 THEN 'pc' ELSE 'q35' END"),
        ("build_id", "concat('build-', n)"),
    ]
    kseries = " UNION ALL ".join(f"SELECT {i + 1} AS p" for i in range(len(props)))
    name_case = "CASE p " + " ".join(f"WHEN {i + 1} THEN '{nm}'" for i, (nm, _) in enumerate(props)) + " END"
    value_case = "CASE p " + " ".join(f"WHEN {i + 1} THEN {v}" for i, (_, v) in enumerate(props)) + " END"
    out.append(f"""
INSERT INTO image_properties (image_id, name, value, created_at, updated_at, deleted_at, deleted)
SELECT id, {name_case}, {value_case}, created_at, created_at,
    CASE WHEN rs >= 97 THEN {d.ts('5 * n + 90')} ELSE NULL END, {deleted}
FROM bench_src CROSS JOIN ({kseries}) pk ORDER BY n, p;""")
    tag_a = "CASE " + " ".join(f"WHEN {hx('h2', 1)} % {len(TAGS_A)} = {i} THEN '{t}'"
                               for i, t in enumerate(TAGS_A)) + " END"
    out.append(f"""
INSERT INTO image_tags (image_id, value, created_at, updated_at, deleted_at, deleted)
SELECT id, CASE p WHEN 1 THEN {tag_a} ELSE concat('team-', {hx('h2', 5)} % 50) END,
    created_at, created_at, CASE WHEN rs >= 97 THEN {d.ts('5 * n + 90')} ELSE NULL END, {deleted}
FROM bench_src CROSS JOIN (SELECT 1 AS p UNION ALL SELECT 2) pk ORDER BY n, p;""")
    member_k = (f"CASE p WHEN 1 THEN (k + 1 + {hx('h2', 9)} % 49) % {PROJECTS} "
                f"ELSE (k + 50 + {hx('h2', 13)} % 49) % {PROJECTS} END")
    mstatus_r = f"(CASE p WHEN 1 THEN {hx('h2', 17)} ELSE {hx('h2', 21)} END % 100)"
    out.append(f"""
INSERT INTO image_members (image_id, member, can_share, created_at, updated_at, deleted_at,
    deleted, status)
SELECT id, md5(concat('glance-bench-project-', {member_k})), FALSE,
    {d.ts('5 * n + 10')}, {d.ts('5 * n + 10')},
    CASE WHEN rs >= 97 THEN {d.ts('5 * n + 90')} ELSE NULL END, {deleted},
    CASE WHEN {mstatus_r} < 60 THEN 'accepted' WHEN {mstatus_r} < 85 THEN 'pending'
         ELSE 'rejected' END
FROM bench_src CROSS JOIN (SELECT 1 AS p UNION ALL SELECT 2) pk ORDER BY n, p;""")
    out.append("DROP TABLE bench_src;" if d.pg else "DROP TEMPORARY TABLE bench_src; DROP TEMPORARY TABLE bench_seq;")
    return "\n".join(out) + "\n"


def cmd_fill(a):
    check_name(a.db)
    have = run_sql(a.engine, a.db, "SELECT count(*) FROM images;").strip()
    if have != "0":
        raise SystemExit(f"{a.db}: images is not empty ({have} rows); fill needs a fresh database")
    t0 = time.time()
    run_sql(a.engine, a.db, fill_sql(a.engine, a.images))
    t1 = time.time()
    log(f"{a.engine}: inserted {a.images} images with children in {t1 - t0:.1f} s")
    if a.engine == "postgresql":
        run_sql(a.engine, a.db, "VACUUM (ANALYZE);")
    else:
        run_sql(a.engine, a.db, "ANALYZE TABLE images, image_properties, image_tags, "
                                "image_members, image_locations;")
    log(f"{a.engine}: ANALYZE in {time.time() - t1:.1f} s")
    counts = {}
    for t in ("images", "image_properties", "image_tags", "image_members"):
        counts[t] = int(run_sql(a.engine, a.db, f"SELECT count(*) FROM {t};").strip())
    log(f"{a.engine}: rows {counts}")
    if a.stats:
        with open(a.stats, "w") as f:
            json.dump({"engine": a.engine, "images": a.images, "fill_seconds": round(t1 - t0, 1),
                       "analyze_seconds": round(time.time() - t1, 1), "rows": counts}, f, indent=1)


# ---------------------------------------------------------------- fixture


def cmd_fixture(a):
    """The ids the cases use: a public active image half-way down the default order
    (the deep marker, and the image shown), and the projects."""
    b = "false" if a.engine == "postgresql" else "0"
    n_images = int(run_sql(a.engine, a.db, "SELECT count(*) FROM images;").strip())
    # created_at is 2025-01-01 + 5 min * n: half-way down the default order (newest first).
    row = run_sql(a.engine, a.db, f"""
SELECT id, created_at FROM images WHERE deleted = {b} AND status = 'active' AND visibility = 'public'
  AND os_hidden = {b} AND owner <> '{project_id(MEASURED_PROJECT)}'
  AND created_at <= {Dialect(a.engine).ts(f"5 * {n_images // 2}")}
ORDER BY created_at DESC LIMIT 1;""").strip().split("\t")
    fx = {
        "engine": a.engine, "db": a.db, "images": n_images,
        "project": project_id(MEASURED_PROJECT), "admin_project": project_id("admin"),
        "marker": row[0], "marker_created_at": row[1], "show": row[0],
    }
    with open(a.out, "w") as f:
        json.dump(fx, f, indent=1)
    log(f"fixture: {fx}")


# ---------------------------------------------------------------- cases

IDENTITIES = {
    # Keystone roles as the default (secure RBAC) policy expects them.
    "project": {"roles": "reader,member", "user": "bench-user"},
    "admin": {"roles": "admin,member,reader", "user": "bench-admin"},
}


def cases(fx: dict) -> list[dict]:
    """Every measured request: name, path, and how list.rs turns it into SQL."""
    return [
        {"name": "list1000", "path": "/v2/images?limit=1000", "limit": 1000},
        {"name": "list25", "path": "/v2/images", "limit": 25},
        {"name": "property", "path": "/v2/images?os_distro=ubuntu", "limit": 25,
         "props": [("os_distro", "ubuntu")]},
        {"name": "property_rare", "path": "/v2/images?os_distro=cirros", "limit": 25,
         "props": [("os_distro", "cirros")]},
        {"name": "tag", "path": "/v2/images?tag=certified", "limit": 25, "tags": ["certified"]},
        {"name": "shared_accepted", "path": "/v2/images?member_status=accepted&visibility=shared",
         "limit": 25, "visibility": "shared"},
        {"name": "public", "path": "/v2/images?visibility=public", "limit": 25, "visibility": "public"},
        {"name": "community", "path": "/v2/images?visibility=community", "limit": 25,
         "visibility": "community"},
        {"name": "marker_deep", "path": f"/v2/images?marker={fx['marker']}", "limit": 25,
         "marker": True},
        {"name": "show", "path": f"/v2/images/{fx['show']}", "show": True},
    ]


CASE_LABELS = {
    "list1000": "`GET /v2/images?limit=1000`",
    "list25": "`GET /v2/images` (25)",
    "property": "`?os_distro=ubuntu` (30 % of images)",
    "property_rare": "`?os_distro=cirros` (1 %)",
    "tag": "`?tag=certified` (12.5 %)",
    "shared_accepted": "`?member_status=accepted&visibility=shared`",
    "public": "`?visibility=public`",
    "community": "`?visibility=community`",
    "marker_deep": "`?marker=` half-way down the list",
    "show": "`GET /v2/images/{id}`",
}


def headers_for(identity: str, fx: dict) -> dict:
    i = IDENTITIES[identity]
    return {"X-Identity-Status": "Confirmed",
            "X-Project-Id": fx["project"] if identity == "project" else fx["admin_project"],
            "X-User-Id": i["user"], "X-Roles": i["roles"], "Accept": "application/json"}


# ---------------------------------------------------------------- HTTP


def http_get(url: str, path: str, headers: dict, timeout: float = 300.0):
    u = urlsplit(url)
    if u.hostname not in ("127.0.0.1", "localhost"):
        raise SystemExit(f"refusing non-loopback URL {url}")
    t0 = time.perf_counter()
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        c.request("GET", path, headers=headers)
        r = c.getresponse()
        body = r.read()
    finally:
        c.close()
    return r.status, body, time.perf_counter() - t0


def summarize(status: int, body: bytes, show: bool) -> dict:
    if status != 200:
        return {"status": status, "error": body[:300].decode("utf-8", "replace")}
    doc = json.loads(body)
    if show:
        return {"status": 200, "ids": [doc.get("id")], "props": len(doc)}
    return {"status": 200, "ids": [i["id"] for i in doc.get("images", [])],
            "next": bool(doc.get("next"))}


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    if len(s) == 1:
        return s[0]
    k = (len(s) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def cmd_measure(a):
    fx = json.load(open(a.fixture))
    servers = []
    for spec in a.url:
        label, _, url = spec.partition("=")
        servers.append((label, url.rstrip("/")))
    results = {"fixture": fx, "reps": a.reps, "warmup": a.warmup, "budget_s": a.budget,
               "servers": [s[0] for s in servers], "cases": []}
    idents = [i for i in a.identities.split(",") if i]
    only = set(a.cases.split(",")) if a.cases else None
    for identity in idents:
        hdrs = headers_for(identity, fx)
        for case in cases(fx):
            if only and case["name"] not in only:
                continue
            entry = {"case": case["name"], "path": case["path"], "identity": identity, "servers": {}}
            times = {lbl: [] for lbl, _ in servers}
            spent = {lbl: 0.0 for lbl, _ in servers}
            summary = {}
            for lbl, url in servers:
                for _ in range(a.warmup):
                    st, body, dt = http_get(url, case["path"], hdrs)
                    spent[lbl] += dt
                st, body, dt = http_get(url, case["path"], hdrs)
                summary[lbl] = summarize(st, body, case.get("show", False))
            for rep in range(a.reps):
                # Alternate who goes first, so that neither always follows the other.
                order = servers if rep % 2 == 0 else list(reversed(servers))
                for lbl, url in order:
                    if len(times[lbl]) >= a.min_reps and spent[lbl] > a.budget:
                        continue
                    st, _, dt = http_get(url, case["path"], hdrs)
                    spent[lbl] += dt
                    if st == 200:
                        times[lbl].append(dt * 1000)
            for lbl, _ in servers:
                t = times[lbl]
                s = summary[lbl]
                e = {"status": s["status"], "n": len(t)}
                if t:
                    e.update(median_ms=statistics.median(t), p95_ms=pct(t, 0.95),
                             min_ms=min(t), max_ms=max(t))
                if s["status"] == 200:
                    e["count"] = len(s["ids"])
                    e["ids"] = s["ids"]
                    if "next" in s:
                        e["next"] = s["next"]
                else:
                    e["error"] = s.get("error")
                entry["servers"][lbl] = e
            if len(servers) > 1:
                x = entry["servers"][servers[0][0]]
                entry["same_result"] = all(
                    entry["servers"][lbl].get("ids") == x.get("ids")
                    and entry["servers"][lbl]["status"] == x["status"] for lbl, _ in servers[1:])
            for lbl, _ in servers:
                e = entry["servers"][lbl]
                if "ids" in e and len(e["ids"]) > 3:
                    e["ids"] = e["ids"][:2] + ["..."] + e["ids"][-1:]
            msg = "; ".join(
                f"{lbl} {e.get('median_ms', float('nan')):.1f}/{e.get('p95_ms', float('nan')):.1f} ms "
                f"(n={e['n']}, HTTP {e['status']}, {e.get('count', '-')} images)"
                for lbl, e in entry["servers"].items())
            same = "" if "same_result" not in entry else (
                "" if entry["same_result"] else "  RESULTS DIFFER")
            log(f"{identity:7s} {case['name']:16s} {msg}{same}")
            results["cases"].append(entry)
    with open(a.out, "w") as f:
        json.dump(results, f, indent=1)


# ---------------------------------------------------------------- the SQL of list.rs
#
# A mirror of crates/glance-db/src/list.rs (page_query, push_visibility,
# push_member_of, push_condition, push_after_marker), rows.rs (child_queries) and
# images.rs / members.rs (get_image, get_member) for the requests above. `capture`
# checks it against the statements the server logs.

IMAGE_COLUMNS = ("images.id, images.name, images.size, images.status, images.created_at, "
                 "images.updated_at, images.deleted, images.disk_format, images.container_format, "
                 "images.checksum, images.owner, images.min_disk, images.min_ram, images.protected, "
                 "images.virtual_size, images.visibility, images.os_hidden, images.os_hash_algo, "
                 "images.os_hash_value")
MEMBER_COLUMNS = "image_id, member, can_share, status, created_at, updated_at"
CHILD_TABLES = [("image_properties", "name, value"), ("image_tags", "value"),
                ("image_locations", "value, meta_data, status")]


class Q:
    def __init__(self, text=""):
        self.text = text
        self.binds = []

    def push(self, s):
        self.text += s
        return self

    def bind(self, v):
        self.text += "?"
        self.binds.append(v)
        return self

    def bind_list(self, vs):
        self.text += "("
        for i, v in enumerate(vs):
            if i:
                self.text += ", "
            self.bind(v)
        self.text += ")"
        return self


# The change proposed in docs/BENCHMARKS.md ("Database scale"): every correlated
# EXISTS ends with LIMIT 1 OFFSET 0 (PostgreSQL can then neither pull it up into a
# semi-join nor turn it into a hashed subplan over the whole child table; MariaDB no
# longer materializes it); MariaDB's page query ignores the two boolean indexes it
# otherwise intersects; a marker adds a bound on the first sort key and drops the
# "IS NULL OR" of NOT NULL columns, so the index scan starts at the marker.
NO_UNNEST = " LIMIT 1 OFFSET 0"


def member_of(q: Q, project: str, status: str | None, proposed: bool = False):
    q.push("EXISTS (SELECT 1 FROM image_members WHERE image_members.image_id = images.id")
    q.push(" AND image_members.member = ").bind(project).push(" AND image_members.deleted = ").bind(False)
    if status:
        q.push(" AND image_members.status = ").bind(status)
    q.push((NO_UNNEST if proposed else "") + ")")


def visibility_sql(q: Q, is_admin: bool, project: str | None, visibility: str | None,
                   member_status: str | None, proposed: bool = False):
    q.push(" AND (")
    if is_admin and visibility is None:
        q.push("images.visibility <> ").bind("community")
        if project:
            q.push(" OR images.owner = ").bind(project)
    elif is_admin and visibility == "all":
        q.push("1 = 1")
    elif is_admin or visibility in ("public", "community"):
        q.push("images.visibility = ").bind(visibility)
    elif visibility in (None, "all") and project:
        q.push("images.visibility = ").bind("public")
        if visibility == "all":
            q.push(" OR images.visibility = ").bind("community")
        q.push(" OR images.owner = ").bind(project).push(" OR (images.visibility = ").bind("shared")
        q.push(" AND ")
        member_of(q, project, member_status, proposed)
        q.push(")")
    elif visibility == "private" and project:
        q.push("images.visibility = ").bind("private").push(" AND images.owner = ").bind(project)
    elif visibility == "shared" and project:
        q.push("images.visibility = ").bind("shared").push(" AND (images.owner = ").bind(project)
        q.push(" OR ")
        member_of(q, project, member_status, proposed)
        q.push(")")
    else:
        raise NotImplementedError("scope not used by the benchmark")
    q.push(")")


def page_query(case: dict, is_admin: bool, project: str, marker_row: dict | None,
               engine: str = "postgresql", proposed: bool = False) -> Q:
    hint = " IGNORE INDEX (ix_images_deleted, os_hidden_image_idx)" if proposed and engine == "mysql" else ""
    fence = NO_UNNEST if proposed else ""
    q = Q(f"SELECT {IMAGE_COLUMNS} FROM images{hint} WHERE images.deleted = ")
    q.bind(False).push(" AND images.status <> ").bind("killed")
    visibility_sql(q, is_admin, project, case.get("visibility"), "accepted", proposed)
    q.push(" AND images.os_hidden = ").bind(False)
    for name, value in case.get("props", []):
        q.push(" AND EXISTS (SELECT 1 FROM image_properties WHERE image_properties.image_id = images.id")
        q.push(" AND image_properties.name = ").bind(name)
        q.push(" AND image_properties.value IN ").bind_list([value])
        q.push(" AND image_properties.deleted = ").bind(False).push(fence + ")")
    for tag in case.get("tags", []):
        q.push(" AND EXISTS (SELECT 1 FROM image_tags WHERE image_tags.image_id = images.id")
        q.push(" AND image_tags.value = ").bind(tag)
        q.push(" AND image_tags.deleted = ").bind(False).push(fence + ")")
    if marker_row:
        # sort = [(created_at, desc), (id, desc)]
        t = ("time", marker_row["created_at"])
        if proposed:
            q.push(" AND images.created_at <= ").bind(t)
            q.push(" AND ((images.created_at < ").bind(t).push(")")
            q.push(" OR (images.created_at = ").bind(t).push(" AND images.id < ").bind(marker_row["id"]).push("))")
        else:
            q.push(" AND (((images.created_at IS NULL OR images.created_at < ").bind(t).push("))")
            q.push(" OR (images.created_at = ").bind(t)
            q.push(" AND (images.id IS NULL OR images.id < ").bind(marker_row["id"]).push(")))")
    q.push(" ORDER BY images.created_at DESC, images.id DESC LIMIT ").bind(case["limit"])
    return q


def child_queries(ids: list[str]) -> list[Q]:
    out = []
    for table, cols in CHILD_TABLES:
        q = Q(f"SELECT id, image_id, deleted, {cols} FROM {table} WHERE image_id IN ")
        q.bind_list(ids)
        out.append(q)
    return out


def case_queries(case: dict, identity: str, fx: dict, page_ids: list[str],
                 marker_created_at: str, engine: str = "postgresql",
                 proposed: bool = False) -> list[tuple[str, Q]]:
    """(label, query) for every statement our server runs for this request."""
    is_admin = identity == "admin"
    project = fx["project"] if identity == "project" else fx["admin_project"]
    out = []
    if case.get("show"):
        q = Q(f"SELECT {IMAGE_COLUMNS} FROM images WHERE images.id = ").bind(fx["show"])
        q.push(" AND images.deleted = ").bind(False)
        out.append(("image row", q))
        for (table, _), cq in zip(CHILD_TABLES, child_queries([fx["show"]])):
            out.append((f"{table} of the image", cq))
        if not is_admin:
            q = Q(f"SELECT {MEMBER_COLUMNS} FROM image_members WHERE image_id = ").bind(fx["show"])
            q.push(" AND member = ").bind(project).push(" AND deleted = ").bind(False)
            out.append(("caller's membership", q))
        return out
    marker_row = None
    if case.get("marker"):
        q = Q(f"SELECT {IMAGE_COLUMNS} FROM images WHERE images.id = ").bind(fx["marker"])
        if not is_admin:
            q.push(" AND images.deleted = ").bind(False)
        out.append(("marker row", q))
        marker_row = {"id": fx["marker"], "created_at": marker_created_at}
    out.append(("page", page_query(case, is_admin, project, marker_row, engine, proposed)))
    if page_ids:
        halves = [page_ids] if len(page_ids) < 200 else [page_ids[:len(page_ids) // 2],
                                                         page_ids[len(page_ids) // 2:]]
        for (table, _), cq in zip(CHILD_TABLES, child_queries(halves[0])):
            extra = f" (first half: {len(halves[0])} ids)" if len(halves) > 1 else f" ({len(halves[0])} ids)"
            out.append((f"{table} of the page{extra}", cq))
    return out


def literal(engine: str, v) -> str:
    if isinstance(v, bool):
        return ("true" if v else "false") if engine == "postgresql" else ("1" if v else "0")
    if isinstance(v, int):
        return str(v)
    if isinstance(v, tuple) and v[0] == "time":
        return f"'{v[1]}'"
    return "'" + str(v).replace("'", "''") + "'"


def render(engine: str, q: Q) -> str:
    parts = q.text.split("?")
    assert len(parts) == len(q.binds) + 1, "a '?' inside the SQL text"
    out = [parts[0]]
    for v, p in zip(q.binds, parts[1:]):
        out.append(literal(engine, v))
        out.append(p)
    return "".join(out)


def numbered(q: Q) -> str:
    parts = q.text.split("?")
    return parts[0] + "".join(f"${i + 1}{p}" for i, p in enumerate(parts[1:]))


# ---------------------------------------------------------------- capture (our server's log)

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def read_logged_sql(path: str, start: int) -> tuple[list[str], int]:
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read()
    out = []
    for line in data.decode("utf-8", "replace").splitlines():
        line = ANSI.sub("", line)
        if "glance_db::sql" in line and "sql=" in line:
            out.append(line.split("sql=", 1)[1].strip())
    return out, start + len(data)


def cmd_capture(a):
    fx = json.load(open(a.fixture))
    captured = {}
    pos = os.path.getsize(a.log) if os.path.exists(a.log) else 0
    for identity in a.identities.split(","):
        hdrs = headers_for(identity, fx)
        for case in cases(fx):
            time.sleep(0.05)
            _, pos = read_logged_sql(a.log, pos)
            st, body, _ = http_get(a.url, case["path"], hdrs)
            time.sleep(0.3)  # let the log writer catch up
            sql, pos = read_logged_sql(a.log, pos)
            s = summarize(st, body, case.get("show", False))
            captured[f"{identity}/{case['name']}"] = {"status": st, "sql": sql, "ids": s.get("ids", [])}
            log(f"captured {identity}/{case['name']}: HTTP {st}, {len(sql)} statements")
    with open(a.out, "w") as f:
        json.dump(captured, f, indent=1)


# ---------------------------------------------------------------- explain


def short_sql(sql: str, limit: int = 900) -> str:
    sql = re.sub(r"\((\$\d+|'[0-9a-f-]{36}')(, (\$\d+|'[0-9a-f-]{36}')){3,}\)",
                 lambda m: f"({m.group(0)[1:].split(',')[0]}, ... {m.group(0).count(',') + 1} values)", sql)
    return sql if len(sql) <= limit else sql[:limit] + " ..."


def explain_pg(db: str, q: Q) -> dict:
    sql = render("postgresql", q)
    plan = run_sql("postgresql", db, f"EXPLAIN (ANALYZE, BUFFERS) {sql};")
    # The plan a warm connection of the server uses: sqlx prepares every statement and
    # PostgreSQL may switch a prepared statement to a generic plan from the sixth
    # execution on (plan_cache_mode = auto).
    args = ", ".join(literal("postgresql", v) for v in q.binds)
    prep = [f"PREPARE bench_q AS {numbered(q)};"]
    prep += [f"EXECUTE bench_q({args});" for _ in range(5)] if args else [
        "EXECUTE bench_q;" for _ in range(5)]
    prep.append(f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_q{'(' + args + ')' if args else ''};")
    out = run_sql("postgresql", db, "\\o /dev/null\n" + "\n".join(prep[:-1]) + "\n\\o\n" + prep[-1])
    generic = out
    return {"sql": sql, "plan": plan.rstrip("\n"), "plan_6th_execution": generic.rstrip("\n")}


def explain_my(db: str, q: Q) -> dict:
    sql = render("mysql", q)
    a = admin_url("mysql")
    env = dict(os.environ)
    if a["password"]:
        env["MYSQL_PWD"] = a["password"]
    cmd = ["mariadb", "--table", "-h", a["host"], "-P", str(a["port"]), "-u", a["user"], db]
    out = subprocess.run(cmd, input=f"ANALYZE {sql};", capture_output=True, text=True, env=env,
                         timeout=600)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    js = run_sql("mysql", db, f"ANALYZE FORMAT=JSON {sql};")
    m = re.search(r'"query_block": \{\s*"select_id": 1,\s*"r_loops": 1,\s*"r_total_time_ms": ([\d.]+)', js)
    return {"sql": sql, "plan": out.stdout.rstrip("\n"), "json": js,
            "ms": float(m.group(1)) if m else None}


BIG_TABLES = ("images", "image_properties", "image_members", "image_tags")
SEQ_SCAN = re.compile(r"Seq Scan on (images|image_properties|image_members|image_tags)\b")
MANY_ROWS = 10000  # rows read or filtered away that make a plan suspect at this scale


def pg_full_scans(plan: str) -> list[str]:
    """Sequential scans of the big tables, and nodes that filter away many rows."""
    out = list(SEQ_SCAN.findall(plan))
    node = ""
    for line in plan.splitlines():
        m = re.search(r"(?:->\s+)?((?:Parallel )?(?:Seq Scan|Index Scan|Index Scan Backward|Index Only Scan|"
                      r"Bitmap Heap Scan)(?: Backward)?(?: using \S+)? on \S+)", line)
        if m:
            node = m.group(1)
        m = re.search(r"Rows Removed by Filter: (\d+)", line)
        if m and int(m.group(1)) >= MANY_ROWS and not node.startswith(("Seq Scan", "Parallel Seq Scan")):
            out.append(f"{node} (filters away {int(m.group(1)):,} rows)")
    return out


def my_full_scans(plan_json: str) -> list[str]:
    """Full scans of the big tables, and accesses reading many rows (ANALYZE FORMAT=JSON)."""
    out = []

    def walk(node):
        if isinstance(node, dict):
            if "table_name" in node and node.get("table_name") in BIG_TABLES:
                t, access = node["table_name"], node.get("access_type", "")
                r_rows = float(node.get("r_rows") or 0) * float(node.get("r_loops") or 1)
                if access == "ALL":
                    out.append(t)
                elif r_rows >= MANY_ROWS:
                    keys = node.get("key") or "+".join(
                        x.get("range", {}).get("key", "?") for x in
                        node.get("index_merge", {}).get("intersect", [])) or access
                    out.append(f"{t} via {keys} ({r_rows:,.0f} rows read)")
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    try:
        walk(json.loads(plan_json))
    except ValueError:
        pass
    return out


def plan_time(engine: str, r: dict) -> tuple[str, list[str]]:
    """A short execution time text and the full scans of the big tables in the plan(s)."""
    if engine == "postgresql":
        scans = pg_full_scans(r["plan"])
        scans += [f"{t} (prepared)" for t in pg_full_scans(r.get("plan_6th_execution", ""))]
        m = re.search(r"Execution Time: ([\d.]+) ms", r["plan"])
        m6 = re.search(r"Execution Time: ([\d.]+) ms", r.get("plan_6th_execution", ""))
        ms = (f"{m.group(1)} ms" + (f" (prepared: {m6.group(1)} ms)" if m6 else "")) if m else "?"
    else:
        scans = my_full_scans(r.get("json", ""))
        ms = f"{r['ms']:.3f} ms" if r.get("ms") is not None else "?"
    return ms, list(dict.fromkeys(scans))


def cmd_explain(a):
    fx = json.load(open(a.fixture))
    captured = json.load(open(a.captured)) if a.captured else {}
    engine = a.engine
    marker_created_at = run_sql(engine, a.db, f"SELECT created_at FROM images WHERE id = '{fx['marker']}';").strip()
    report = []
    summary = []
    children = tuple(t for t, _ in CHILD_TABLES)
    for identity in a.identities.split(","):
        project = fx["project"] if identity == "project" else fx["admin_project"]
        for case in cases(fx):
            key = f"{identity}/{case['name']}"
            cap = captured.get(key, {})
            page_ids = [i for i in cap.get("ids", []) if i != "..."]
            marker_row = {"id": fx["marker"], "created_at": marker_created_at} if case.get("marker") else None
            if not page_ids and not case.get("show"):
                # Without a capture: the page from the database itself.
                q = page_query(case, identity == "admin", project, marker_row, engine)
                sel = render(engine, q).replace(f"SELECT {IMAGE_COLUMNS}", "SELECT images.id", 1)
                page_ids = [r for r in run_sql(engine, a.db, sel + ";").split("\n") if r]
            # Which form does the server use: today's list.rs, or the proposed change?
            form = False
            check = "not captured"
            if cap:
                logged = cap["sql"]
                for proposed in (False, True):
                    queries = case_queries(case, identity, fx, page_ids, marker_created_at, engine, proposed)
                    missing = [lbl for lbl, q in queries if q.text not in logged and not lbl.startswith(children)]
                    # child queries: the server splits big pages in halves; compare shapes
                    child_ok = all(any(x.startswith(q.text.split(" IN (")[0] + " IN (") for x in logged)
                                   for lbl, q in queries if lbl.startswith(children))
                    if not missing and child_ok:
                        form = proposed
                        check = "matches the server's SQL" + (" (the proposed form)" if proposed else "")
                        break
                else:
                    form = False
                    check = ("DIFFERS from the server's SQL; the server logged:\n"
                             + "\n".join("    " + short_sql(x, 3000) for x in logged))
            queries = case_queries(case, identity, fx, page_ids, marker_created_at, engine, form)
            if a.proposed and not form and not case.get("show"):
                queries.append(("page, proposed change",
                                page_query(case, identity == "admin", project, marker_row, engine, True)))
            report.append(f"\n{'=' * 100}\n{engine} / {identity} / {case['name']}: GET {case['path']}\n"
                          f"reconstructed SQL {check}\n")
            for lbl, q in queries:
                try:
                    r = explain_pg(a.db, q) if engine == "postgresql" else explain_my(a.db, q)
                except Exception as e:  # noqa: BLE001
                    report.append(f"--- {lbl}: EXPLAIN failed: {e}\n")
                    continue
                ms, scans = plan_time(engine, r)
                report.append(f"--- {lbl} ({ms})\n{short_sql(r['sql'])}\n\n{r['plan']}\n")
                if r.get("plan_6th_execution") and r["plan_6th_execution"] != r["plan"]:
                    report.append(f"\n(6th execution of the prepared statement, as on a warm "
                                  f"server connection)\n{r['plan_6th_execution']}\n")
                summary.append({"identity": identity, "case": case["name"], "query": lbl,
                                "seq_scans": scans, "time": ms})
    with open(a.out, "w") as f:
        f.write(f"EXPLAIN plans of the SQL our glance-api issues, {engine}, "
                f"{fx['images']} images\n")
        f.write("".join(report))
    if a.summary:
        with open(a.summary, "w") as f:
            json.dump(summary, f, indent=1)
    bad = [x for x in summary if x["seq_scans"] and "proposed" not in x["query"]]
    for x in summary:
        log(f"{engine} {x['identity']:7s} {x['case']:16s} {x['query'][:40]:40s} {x['time']:>28s} "
            f"{'SCAN: ' + '; '.join(x['seq_scans']) if x['seq_scans'] else ''}")
    log(f"plans written to {a.out}; {len(bad)} of the server's queries scan a big table "
        f"or read/filter >= {MANY_ROWS:,} of its rows")


# ---------------------------------------------------------------- table


def cmd_table(a):
    for path in a.files:
        r = json.load(open(path))
        fx = r["fixture"]
        servers = r["servers"]
        ratios = [x for x in servers if x != "upstream"] if "upstream" in servers else []
        engine = {"postgresql": "PostgreSQL", "mysql": "MariaDB"}.get(fx["engine"], fx["engine"])
        print(f"\n{engine}, {fx['images']:,} images, {r['reps']} timed requests per server "
              f"and case (servers interleaved), ms; upstream/X = how many times faster X is:\n")
        head = ["request", "as"]
        for x in servers:
            head.append(f"{x} median / p95")
            if x in ratios:
                head.append(f"upstream/{x}")
        head += ["images returned"]
        print("| " + " | ".join(head) + " |")
        print("| " + " | ".join(["---", "---"] + ["---:"] * (len(head) - 3) + ["---"]) + " |")
        for c in r["cases"]:
            row = [CASE_LABELS.get(c["case"], c["case"]), c["identity"]]
            up = c["servers"].get("upstream", {})
            for x in servers:
                e = c["servers"][x]
                row.append(f"{e['median_ms']:.1f} / {e['p95_ms']:.1f}" if "median_ms" in e
                           else f"HTTP {e['status']}")
                if x in ratios:
                    row.append(f"{up['median_ms'] / e['median_ms']:.1f}x"
                               if "median_ms" in e and "median_ms" in up else "-")
            counts = [str(c["servers"][x].get("count", "-")) for x in servers]
            note = counts[0] if len(set(counts)) == 1 else " / ".join(counts)
            if c["case"] == "show":
                note = "-"
            if not c.get("same_result", True):
                note += " (results differ)"
            row.append(note)
            print("| " + " | ".join(row) + " |")
        low = [f"{c['identity']}/{c['case']} {x}: {c['servers'][x]['n']}"
               for c in r["cases"] for x in servers if c["servers"][x]["n"] < r["reps"]]
        if low:
            print(f"\nFewer timed requests (time budget {r['budget_s']:.0f} s per server and case "
                  f"reached): " + ", ".join(low))


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("create", "drop", "fill", "fixture", "explain"):
        p = sub.add_parser(name)
        p.add_argument("--engine", choices=["postgresql", "mysql"], required=True)
        p.add_argument("--db", required=True)
        if name == "fill":
            p.add_argument("--images", type=int, default=100000)
            p.add_argument("--stats")
        if name == "fixture":
            p.add_argument("--out", required=True)
        if name == "explain":
            p.add_argument("--fixture", required=True)
            p.add_argument("--captured")
            p.add_argument("--identities", default="project,admin")
            p.add_argument("--out", required=True)
            p.add_argument("--summary")
            p.add_argument("--proposed", action="store_true",
                           help="also EXPLAIN the proposed form of each page query")
    p = sub.add_parser("url")
    p.add_argument("--engine", choices=["postgresql", "mysql"], required=True)
    p.add_argument("--db", required=True)
    p = sub.add_parser("measure")
    p.add_argument("--fixture", required=True)
    p.add_argument("--url", action="append", required=True, help="LABEL=URL, up to two")
    p.add_argument("--reps", type=int, default=30)
    p.add_argument("--min-reps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--budget", type=float, default=60.0, help="seconds per server and case")
    p.add_argument("--identities", default="project,admin")
    p.add_argument("--cases", default="")
    p.add_argument("--out", required=True)
    p = sub.add_parser("capture")
    p.add_argument("--fixture", required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--identities", default="project,admin")
    p.add_argument("--out", required=True)
    p = sub.add_parser("table")
    p.add_argument("files", nargs="+")
    a = ap.parse_args()
    if a.cmd == "url":
        print(server_url(a.engine, a.db))
        return 0
    return {"create": cmd_create, "drop": cmd_drop, "fill": cmd_fill, "fixture": cmd_fixture,
            "measure": cmd_measure, "capture": cmd_capture, "explain": cmd_explain,
            "table": cmd_table}[a.cmd](a) or 0


if __name__ == "__main__":
    sys.exit(main())
