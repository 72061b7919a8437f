#!/usr/bin/env python3
"""Measurements for scripts/bench/run.sh (Python standard library only).

Subcommands:
  freeport                     print a free TCP port on 127.0.0.1 in [20000, 32000)
  measure --url URL --pgid PGID --db FILE --image-file FILE ... --out JSON
                               run the selected measurements against one server
  table JSON [JSON]            print the results (and ours/upstream ratio) as a table

Every loop is bounded (counts or deadlines); every connection goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

ALL_MEASUREMENTS = ["upload", "download", "rss", "inspect", "create", "list", "get"]
PAGE = os.sysconf("SC_PAGE_SIZE")


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes


def group_rss_bytes(pgid: int) -> int:
    """Sum of RSS over every process whose process group is `pgid`."""
    total = 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                stat = f.read().decode("ascii", "replace")
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        # fields[0] = state (field 3), fields[2] = pgrp (5), fields[21] = rss pages (24)
        if len(fields) > 21 and int(fields[2]) == pgid:
            total += int(fields[21]) * PAGE
    return total


def group_pids(pgid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat", "rb") as f:
                    fields = f.read().decode("ascii", "replace").rpartition(")")[2].split()
                if int(fields[2]) == pgid:
                    out.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return out


# ---------------------------------------------------------------- simple HTTP


class Http:
    def __init__(self, url: str):
        u = urlsplit(url)
        self.host, self.port = u.hostname, u.port or 80
        if self.host not in ("127.0.0.1", "localhost"):
            raise SystemExit(f"refusing non-loopback URL {url}")

    def request(self, method: str, path: str, body=None, headers=None, timeout=600):
        c = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            h = {"X-Auth-Token": "x"}
            h.update(headers or {})
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
                h.setdefault("Content-Type", "application/json")
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            return r.status, data
        finally:
            c.close()

    def json(self, method, path, body=None, expect=(200,)):
        st, data = self.request(method, path, body)
        if st not in expect:
            raise RuntimeError(f"{method} {path}: HTTP {st}: {data[:300]!r}")
        return json.loads(data) if data else None

    def create_image(self, name: str, **extra) -> str:
        body = {"name": name, "disk_format": "raw", "container_format": "bare"}
        body.update(extra)
        return self.json("POST", "/v2/images", body, expect=(201,))["id"]


# ---------------------------------------------------------------- asyncio HTTP/1.1 client


class AConn:
    """Minimal keep-alive HTTP/1.1 client connection (reconnects after Connection: close)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.r = self.w = None

    def close(self):
        if self.w is not None:
            self.w.close()
        self.r = self.w = None

    async def request(self, method: str, path: str, body: bytes = b"", headers: dict | None = None):
        hdrs = {"Host": f"{self.host}:{self.port}", "X-Auth-Token": "x",
                "Content-Length": str(len(body))}
        hdrs.update(headers or {})
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items())
        raw = head.encode() + b"\r\n" + body
        for attempt in (0, 1):
            reused = self.w is not None
            if not reused:
                self.r, self.w = await asyncio.open_connection(self.host, self.port)
            try:
                self.w.write(raw)
                await self.w.drain()
                line = await self.r.readline()
                if not line:
                    raise ConnectionResetError("closed before the status line")
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if reused and attempt == 0:
                    continue  # stale keep-alive connection: nothing was answered, retry once
                raise
            return await self._response(method, line)
        raise ConnectionError("unreachable")

    async def _response(self, method: str, status_line: bytes):
        status = int(status_line.split()[1])
        headers = {}
        while True:
            line = await self.r.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            k, _, v = line.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        body = b""
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            pass
        elif "content-length" in headers:
            body = await self.r.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.r.readline()).split(b";")[0].strip(), 16)
                if size == 0:
                    while (await self.r.readline()) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(await self.r.readexactly(size))
                await self.r.readexactly(2)
            body = b"".join(parts)
        else:
            body = await self.r.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, body


async def _run_fixed(host, port, conc, n, make_request):
    """Run requests 0..n-1 over `conc` connections; returns (ok, errors, seconds)."""
    counter = iter(range(n))
    ok = err = 0
    statuses: dict[int, int] = {}

    async def worker():
        nonlocal ok, err
        c = AConn(host, port)
        try:
            for i in counter:
                method, path, body, headers, expect = make_request(i)
                try:
                    st, _ = await c.request(method, path, body, headers)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    err += 1
                    c.close()
                    continue
                statuses[st] = statuses.get(st, 0) + 1
                if st in expect:
                    ok += 1
                else:
                    err += 1
        finally:
            c.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(conc)))
    return ok, err, time.perf_counter() - t0, statuses


async def _run_for(host, port, conc, seconds, method, path):
    """Closed-loop load for `seconds` over `conc` connections; returns (ok, errors, seconds)."""
    deadline = time.perf_counter() + seconds
    ok = err = 0

    async def worker():
        nonlocal ok, err
        c = AConn(host, port)
        try:
            while time.perf_counter() < deadline:
                try:
                    st, _ = await c.request(method, path)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    err += 1
                    c.close()
                    continue
                if st == 200:
                    ok += 1
                else:
                    err += 1
        finally:
            c.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(conc)))
    return ok, err, time.perf_counter() - t0


# ---------------------------------------------------------------- measurements


def curl_bin() -> str:
    c = shutil.which("curl")
    if not c:
        raise SystemExit("curl is required")
    return c


def _upload(ctx, image_id: str) -> float:
    """PUTs the big file to the image with curl; returns the seconds curl reports."""
    h: Http = ctx["http"]
    f, size = ctx["image_file"], ctx["image_size"]
    cmd = [curl_bin(), "-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_total}",
           "-T", f, "-X", "PUT", "-H", "Content-Type: application/octet-stream",
           "-H", "Expect:", "-H", "X-Auth-Token: x", "--max-time", str(ctx["max_time"]),
           f"{ctx['url']}/v2/images/{image_id}/file"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    code, secs = (out.stdout.split() + ["000", "0"])[:2]
    if code != "204":
        raise RuntimeError(f"upload: HTTP {code} {out.stderr.strip()}")
    img = h.json("GET", f"/v2/images/{image_id}")
    if img["status"] != "active" or img["size"] != size:
        raise RuntimeError(f"upload: image is {img['status']} size {img['size']}, want active/{size}")
    if ctx.get("image_md5") and img["checksum"] != ctx["image_md5"]:
        raise RuntimeError(f"upload: checksum {img['checksum']} != {ctx['image_md5']}")
    return float(secs)


def m_upload(ctx, res):
    size = ctx["image_size"]
    ctx["big_id"] = ctx["http"].create_image("bench-big")
    secs = _upload(ctx, ctx["big_id"])
    res["upload_mbps"] = size / secs / 1e6
    log(f"upload {size >> 20} MiB: {float(secs):.2f} s, {res['upload_mbps']:.1f} MB/s")


def m_inspect(ctx, res):
    """The cost of format inspection: the same upload into a bare image (inspected)
    and an ovf one (not inspected, on both servers), interleaved, median of each."""
    h: Http = ctx["http"]
    size = ctx["image_size"]
    rates = {"bare": [], "ovf": []}
    for _ in range(ctx["inspect_reps"]):
        for container in ("bare", "ovf"):
            image_id = h.create_image(f"bench-inspect-{container}", container_format=container)
            rates[container].append(size / _upload(ctx, image_id) / 1e6)
            h.request("DELETE", f"/v2/images/{image_id}")  # frees the disk for the next one
    res["upload_inspected_mbps"] = statistics.median(rates["bare"])
    res["upload_uninspected_mbps"] = statistics.median(rates["ovf"])
    log(f"upload {size >> 20} MiB inspected (bare) {res['upload_inspected_mbps']:.1f} MB/s, "
        f"not inspected (ovf) {res['upload_uninspected_mbps']:.1f} MB/s "
        f"(median of {ctx['inspect_reps']} each)")


def _need_big(ctx):
    if "big_id" not in ctx:
        m_upload(ctx, ctx["res"])  # download/rss need the uploaded image


def m_download(ctx, res):
    _need_big(ctx)
    size = ctx["image_size"]
    best = []
    for _ in range(ctx["dl_reps"]):
        cmd = [curl_bin(), "-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_total} %{size_download}",
               "-H", "X-Auth-Token: x", "--max-time", str(ctx["max_time"]),
               f"{ctx['url']}/v2/images/{ctx['big_id']}/file"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        code, secs, got = (out.stdout.split() + ["000", "0", "0"])[:3]
        if code != "200" or int(got) != size:
            raise RuntimeError(f"download: HTTP {code}, {got} of {size} bytes {out.stderr.strip()}")
        best.append(size / float(secs) / 1e6)
    res["download_mbps"] = statistics.median(best)
    log(f"download {size >> 20} MiB: {res['download_mbps']:.1f} MB/s (median of {len(best)})")


def m_rss(ctx, res):
    pgid = ctx["pgid"]
    res["idle_rss_mib"] = ctx["idle_rss"] / 2**20
    _need_big(ctx)
    conc, size = ctx["dl_conc"], ctx["image_size"]
    procs = []
    peak = group_rss_bytes(pgid)
    t0 = time.perf_counter()
    deadline = time.monotonic() + ctx["max_time"] + 5
    for _ in range(conc):
        procs.append(subprocess.Popen(
            [curl_bin(), "-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
             "-H", "X-Auth-Token: x", "--max-time", str(ctx["max_time"]),
             f"{ctx['url']}/v2/images/{ctx['big_id']}/file"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    samples = 0
    while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
        peak = max(peak, group_rss_bytes(pgid))
        samples += 1
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    bad = []
    for p in procs:
        if p.poll() is None:
            p.kill()
        out, err = p.communicate()
        code, got = (out.split() + ["000", "0"])[:2]
        if code != "200" or int(got) != size:
            bad.append(f"HTTP {code} {got} bytes {err.strip()}")
    if bad:
        raise RuntimeError(f"concurrent downloads failed: {bad[:3]}")
    res["peak_rss_mib"] = peak / 2**20
    res["concurrent_dl_mbps"] = conc * size / wall / 1e6
    log(f"idle RSS {res['idle_rss_mib']:.1f} MiB; peak RSS during {conc} downloads "
        f"{res['peak_rss_mib']:.1f} MiB ({samples} samples); aggregate {res['concurrent_dl_mbps']:.1f} MB/s")


def m_create(ctx, res):
    n, conc = ctx["create_n"], ctx["create_conc"]
    tag = uuid.uuid4().hex[:8]

    def make(i):
        body = json.dumps({"name": f"bench-create-{tag}-{i}", "disk_format": "raw",
                           "container_format": "bare"}).encode()
        return "POST", "/v2/images", body, {"Content-Type": "application/json"}, (201,)

    h: Http = ctx["http"]
    ok, err, secs, statuses = asyncio.run(_run_fixed(h.host, h.port, conc, n, make))
    res["create_per_s"] = ok / secs
    res["create_errors"] = err
    log(f"create: {ok} images in {secs:.2f} s with {conc} clients = {res['create_per_s']:.1f}/s "
        f"({err} errors, statuses {statuses})")
    if ok == 0:
        raise RuntimeError("create: no image was created")


def _fmt_dt(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S.%f")


def seed(db: str, count: int, nprops: int, ntags: int) -> None:
    if not os.path.exists(db):
        raise RuntimeError(f"database file {db} does not exist")
    con = sqlite3.connect(db, timeout=30)
    try:
        con.execute("PRAGMA busy_timeout = 30000")
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        missing = {"images", "image_properties", "image_tags"} - tables
        if missing:
            raise RuntimeError(f"{db}: missing tables {sorted(missing)}")
        base = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(seconds=count + 60)
        rnd = random.Random(1234)
        images, props, tags = [], [], []
        for i in range(count):
            iid = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
            ts = _fmt_dt(base + timedelta(seconds=i, microseconds=rnd.randrange(1000000)))
            md5 = "%032x" % rnd.getrandbits(128)
            sha = "%0128x" % rnd.getrandbits(512)
            images.append((iid, f"seed-{i:06d}", 1024 * (i + 1), "active", ts, ts, None, 0,
                           "raw", "bare", md5, None, 0, 0, 0, None, "public", 0, "sha512", sha))
            for j in range(nprops):
                props.append((iid, f"seed_prop_{j}", f"value-{i}-{j}", ts, ts, None, 0))
            for j in range(ntags):
                tags.append((iid, f"seed-tag-{j}", ts, ts, None, 0))
        with con:
            con.executemany(
                "INSERT INTO images (id, name, size, status, created_at, updated_at, deleted_at, "
                "deleted, disk_format, container_format, checksum, owner, min_disk, min_ram, "
                "protected, virtual_size, visibility, os_hidden, os_hash_algo, os_hash_value) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", images)
            con.executemany(
                "INSERT INTO image_properties (image_id, name, value, created_at, updated_at, "
                "deleted_at, deleted) VALUES (?,?,?,?,?,?,?)", props)
            con.executemany(
                "INSERT INTO image_tags (image_id, value, created_at, updated_at, deleted_at, "
                "deleted) VALUES (?,?,?,?,?,?)", tags)
    finally:
        con.close()


def m_list(ctx, res):
    h: Http = ctx["http"]
    n, nprops = ctx["list_images"], ctx["list_props"]
    t0 = time.perf_counter()
    seed(ctx["db"], n, nprops, ctx["list_tags"])
    log(f"seeded {n} images x {nprops} properties into {ctx['db']} in {time.perf_counter() - t0:.1f} s")
    want = min(1000, n)
    path = "/v2/images?limit=1000"
    times = []
    for i in range(ctx["list_reps"] + ctx["warmup"]):
        t = time.perf_counter()
        st, data = h.request("GET", path)
        dt = time.perf_counter() - t
        if st != 200:
            raise RuntimeError(f"list: HTTP {st}: {data[:200]!r}")
        got = len(json.loads(data)["images"])
        if got < want:
            raise RuntimeError(f"list: {got} images in the response, want >= {want} "
                               "(were the seeded rows not seen?)")
        if i >= ctx["warmup"]:
            times.append(dt)
    res["list_ms"] = statistics.median(times) * 1000
    res["list_images"] = n
    log(f"GET {path}: median {res['list_ms']:.1f} ms over {len(times)} "
        f"(min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f})")


def m_get(ctx, res):
    h: Http = ctx["http"]
    conns, secs = ctx["get_conns"], ctx["get_seconds"]
    extra = {f"bench_prop_{j}": f"value-{j}" for j in range(10)}
    image_id = h.create_image("bench-get", **extra)
    path = f"/v2/images/{image_id}"
    for _ in range(ctx["warmup"]):
        h.json("GET", path)
    wrk = shutil.which("wrk") if ctx["client"] in ("auto", "wrk") else None
    if ctx["client"] == "wrk" and not wrk:
        raise RuntimeError("wrk not found")
    if wrk:
        threads = max(1, min(conns, os.cpu_count() or 1))
        cmd = [wrk, f"-t{threads}", f"-c{conns}", f"-d{secs}s", "--timeout", "10s",
               "-H", "X-Auth-Token: x", ctx["url"] + path]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=secs + 60)
        text = out.stdout + out.stderr
        m = re.search(r"Requests/sec:\s+([\d.]+)", text)
        if out.returncode != 0 or not m:
            raise RuntimeError(f"wrk failed: {text[-500:]}")
        non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
        sockerr = re.search(r"Socket errors:.*", text)
        res["get_rps"] = float(m.group(1))
        res["get_errors"] = int(non2xx.group(1)) if non2xx else 0
        res["get_client"] = "wrk"
        lat = re.search(r"Latency\s+(\S+)", text)
        log(f"GET {path}: {res['get_rps']:.1f} req/s with wrk, {conns} connections, {secs} s "
            f"(avg latency {lat.group(1) if lat else '?'}; non-2xx {res['get_errors']}"
            f"{'; ' + sockerr.group(0) if sockerr else ''})")
    else:
        ok, err, wall = asyncio.run(_run_for(h.host, h.port, conns, secs, "GET", path))
        res["get_rps"] = ok / wall
        res["get_errors"] = err
        res["get_client"] = "python-asyncio"
        log(f"GET {path}: {res['get_rps']:.1f} req/s with the asyncio client, {conns} connections "
            f"({err} errors)")


MEASURE = {"upload": m_upload, "download": m_download, "rss": m_rss, "inspect": m_inspect,
           "create": m_create,
           "list": m_list, "get": m_get}


def cmd_measure(a):
    want = [m for m in a.measure.split(",") if m]
    bad = [m for m in want if m not in MEASURE]
    if bad:
        raise SystemExit(f"unknown measurement(s) {bad}; known: {','.join(ALL_MEASUREMENTS)}")
    res = {"label": a.label, "image_mb": a.image_size / 2**20, "dl_conc": a.dl_conc,
           "create_conc": a.create_conc, "create_n": a.create_n, "list_images": a.list_images,
           "list_props": a.list_props, "get_conns": a.get_conns, "get_seconds": a.get_seconds}
    ctx = {
        "url": a.url.rstrip("/"), "http": Http(a.url), "pgid": a.pgid, "db": a.db,
        "image_file": a.image_file, "image_size": os.path.getsize(a.image_file) if a.image_file else 0,
        "image_md5": a.image_md5, "max_time": a.max_time, "dl_reps": a.dl_reps,
        "dl_conc": a.dl_conc, "create_n": a.create_n, "create_conc": a.create_conc,
        "list_images": a.list_images, "list_props": a.list_props, "list_tags": a.list_tags,
        "list_reps": a.list_reps, "get_conns": a.get_conns, "get_seconds": a.get_seconds,
        "client": a.client, "warmup": a.warmup, "inspect_reps": a.inspect_reps, "res": res,
    }
    # Idle RSS first: after start-up and a few light requests, before any data moved.
    for _ in range(3):
        ctx["http"].request("GET", "/versions")
        ctx["http"].request("GET", "/v2/images?limit=1")
    time.sleep(1.0)
    ctx["idle_rss"] = group_rss_bytes(a.pgid)
    res["idle_rss_mib"] = ctx["idle_rss"] / 2**20
    res["processes"] = len(group_pids(a.pgid))
    log(f"{a.label}: {res['processes']} processes in group {a.pgid}, idle RSS {res['idle_rss_mib']:.1f} MiB")
    failed = []
    # Fixed order: data-path first (upload -> download -> rss), then metadata.
    for m in ALL_MEASUREMENTS:
        if m in want:
            try:
                MEASURE[m](ctx, res)
            except Exception as e:  # noqa: BLE001 - report and go on with the rest
                log(f"{a.label}: {m} FAILED: {e}")
                failed.append(m)
                res[f"{m}_failed"] = str(e)[:300]
    res["failed"] = failed
    with open(a.out, "w") as f:
        json.dump(res, f, indent=1)
    return 1 if failed else 0


# ---------------------------------------------------------------- table

ROWS = [
    # key, label, unit, higher_is_better
    ("upload_mbps", "upload {mb} MiB (curl -T)", "MB/s", True),
    ("upload_inspected_mbps", "upload {mb} MiB into a bare image (inspected)", "MB/s", True),
    ("upload_uninspected_mbps", "upload {mb} MiB into an ovf image (not inspected)", "MB/s", True),
    ("download_mbps", "download {mb} MiB (curl -o /dev/null)", "MB/s", True),
    ("concurrent_dl_mbps", "{dlc} concurrent downloads, aggregate", "MB/s", True),
    ("create_per_s", "create images, {cc} clients, N={cn}", "images/s", True),
    ("list_ms", "GET /v2/images?limit=1000, {li} images x {lp} props (median)", "ms", False),
    ("get_rps", "GET /v2/images/{{id}}, {gc} connections ({client})", "req/s", True),
    ("idle_rss_mib", "idle RSS (process group)", "MiB", False),
    ("peak_rss_mib", "peak RSS during {dlc} downloads", "MiB", False),
]


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    return f"{v:,.1f}" if v < 100000 else f"{v:,.0f}"


def cmd_table(a):
    results = []
    for p in a.files:
        with open(p) as f:
            results.append(json.load(f))
    by = {r["label"]: r for r in results}
    labels = [lbl for lbl in ("ours", "upstream") if lbl in by] + [
        lbl for lbl in by if lbl not in ("ours", "upstream")]
    params = dict(results[0])
    params.update(a.params or {})
    fmtargs = dict(mb=int(params.get("image_mb", 0)), dlc=params.get("dl_conc", "?"),
                   cc=params.get("create_conc", "?"), cn=params.get("create_n", "?"),
                   li=params.get("list_images", "?"), lp=params.get("list_props", "?"),
                   gc=params.get("get_conns", "?"),
                   client=next((r.get("get_client") for r in results if r.get("get_client")), "wrk"))
    ratio = "ours" in by and "upstream" in by
    head = ["measurement", "unit"] + labels + (["ours/upstream"] if ratio else [])
    lines = []
    for key, label, unit, hib in ROWS:
        if not any(key in r for r in results):
            continue
        vals = [by[lbl].get(key) for lbl in labels]
        row = [label.format(**fmtargs), unit + (" ↑" if hib else " ↓")] + [fmt(v) for v in vals]
        if ratio:
            o, u = by["ours"].get(key), by["upstream"].get(key)
            row.append(f"{o / u:.2f}x" if o is not None and u else "-")
        lines.append(row)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *lines)]
    out = []

    def emit(cells):
        out.append("  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w)
                             for i, (c, w) in enumerate(zip(cells, widths))).rstrip())

    emit(head)
    emit(["-" * w for w in widths])
    for row in lines:
        emit(row)
    print("\n".join(out))
    print("(↑ higher is better, ↓ lower is better; MB = 10^6 bytes; RSS summed over the "
          "server's process group)")
    for r in results:
        extra = []
        if r.get("processes"):
            extra.append(f"{r['processes']} processes")
        for k in ("create_errors", "get_errors"):
            if r.get(k):
                extra.append(f"{k.replace('_', ' ')}: {r[k]}")
        for m in r.get("failed", []):
            extra.append(f"{m} FAILED: {r.get(m + '_failed', '')}")
        if extra:
            print(f"{r['label']}: " + "; ".join(extra))


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("freeport")
    m = sub.add_parser("measure")
    m.add_argument("--label", required=True)
    m.add_argument("--url", required=True)
    m.add_argument("--pgid", type=int, required=True)
    m.add_argument("--db", required=True)
    m.add_argument("--image-file")
    m.add_argument("--image-md5")
    m.add_argument("--measure", default=",".join(ALL_MEASUREMENTS))
    m.add_argument("--max-time", type=int, default=900)
    m.add_argument("--dl-reps", type=int, default=1)
    m.add_argument("--inspect-reps", type=int, default=3)
    m.add_argument("--dl-conc", type=int, default=8)
    m.add_argument("--create-n", type=int, default=400)
    m.add_argument("--create-conc", type=int, default=8)
    m.add_argument("--list-images", type=int, default=10000)
    m.add_argument("--list-props", type=int, default=10)
    m.add_argument("--list-tags", type=int, default=0)
    m.add_argument("--list-reps", type=int, default=5)
    m.add_argument("--get-conns", type=int, default=16)
    m.add_argument("--get-seconds", type=int, default=10)
    m.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    m.add_argument("--warmup", type=int, default=2)
    m.add_argument("--out", required=True)
    t = sub.add_parser("table")
    t.add_argument("--params", type=json.loads)
    t.add_argument("files", nargs="+")
    a = ap.parse_args()
    if a.cmd == "freeport":
        import socket
        rnd = random.Random()
        for _ in range(200):
            port = rnd.randrange(20000, 32000)
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
            print(port)
            return 0
        raise SystemExit("no free port found")
    if a.cmd == "measure":
        if a.image_file:
            a.image_size = os.path.getsize(a.image_file)
        else:
            a.image_size = 0
        return cmd_measure(a)
    if a.cmd == "table":
        return cmd_table(a)
    return 2


if __name__ == "__main__":
    sys.exit(main())
