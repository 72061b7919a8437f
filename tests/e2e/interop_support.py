"""Support for test_upstream_interop.py: fresh databases on the machine's PostgreSQL
and MariaDB, upstream Glance 33.0.0 (scripts/testbed/upstream-glance-*.sh) and our
glance-api on one database and one pair of filesystem store directories, and a small
HTTP client with identity headers.

Environment:
  GLANCE_TEST_POSTGRES_URL  admin URL (default postgresql://postgres@127.0.0.1:5432/postgres)
  GLANCE_TEST_MYSQL_URL     admin URL (default mysql://root@127.0.0.1:3306/mysql)
                            (both printed by scripts/testbed/databases-check.sh)
  UPSTREAM_GLANCE_VENV      upstream's venv (default $GLANCE_TESTBED_HOME/glance-venv,
                            GLANCE_TESTBED_HOME defaulting to ~/.cache/glance-rs-testbed),
                            made by `UPSTREAM_GLANCE_DB_DRIVERS=1
                            scripts/testbed/upstream-glance-setup.sh`
  GLANCE_API_BIN / CARGO_TARGET_DIR  our binary, as for the other e2e tests
  CI                        when set, a missing upstream or database server fails
                            instead of skipping
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
TESTBED = REPO / "scripts" / "testbed"

# Identities (trusted identity headers on both servers).
OWNER = "a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0"  # the writer's project
MEMBER_OK = "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1"  # member that accepts
MEMBER_PENDING = "c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2"  # member that never answers
OUTSIDER = "d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3"  # project with no membership


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(reason: str):
    """Fail under CI, skip otherwise."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set, so this fails instead of skipping)", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------
# databases
# --------------------------------------------------------------------------

ENGINES = ("postgres", "mysql")


def _admin_url(engine: str) -> str:
    if engine == "postgres":
        return os.environ.get(
            "GLANCE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        )
    return os.environ.get("GLANCE_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/mysql")


@dataclass
class Database:
    """A database glance_interop_<unique> created for one scenario."""

    engine: str
    name: str
    admin: urllib.parse.SplitResult

    @property
    def url(self) -> str:
        """The `[database] connection` both servers get (upstream's SQLAlchemy form)."""
        a = self.admin
        # The admin URL's user info as it is written (percent-encoded).
        cred = a.netloc.rsplit("@", 1)[0] + "@" if "@" in a.netloc else ""
        host = f"{a.hostname or '127.0.0.1'}:{a.port or (5432 if self.engine == 'postgres' else 3306)}"
        if self.engine == "postgres":
            return f"postgresql+psycopg2://{cred}{host}/{self.name}"
        # The charset upstream's install guide uses; upstream's tables are utf8 (3-byte).
        return f"mysql+pymysql://{cred}{host}/{self.name}?charset=utf8"

    def _run(self, sql: str, database: str | None = None) -> str:
        a = self.admin
        if self.engine == "postgres":
            url = a._replace(path="/" + (database or a.path.lstrip("/") or "postgres")).geturl()
            cmd = ["psql", "-v", "ON_ERROR_STOP=1", "-qAt", url, "-c", sql]
            env = dict(os.environ)
        else:
            cmd = [
                "mariadb" if shutil.which("mariadb") else "mysql",
                f"--host={a.hostname or '127.0.0.1'}",
                f"--port={a.port or 3306}",
                f"--user={urllib.parse.unquote(a.username or 'root')}",
                "--batch",
                "--skip-column-names",
                "-e",
                sql,
            ]
            if database:
                cmd.insert(1, f"--database={database}")
            env = dict(os.environ)
            if a.password:
                env["MYSQL_PWD"] = urllib.parse.unquote(a.password)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
        if p.returncode != 0:
            raise RuntimeError(f"{cmd[0]} {sql!r}: exit {p.returncode}: {p.stderr.strip()}")
        return p.stdout

    def query(self, sql: str) -> str:
        """Runs SQL in this database (read-only checks only)."""
        return self._run(sql, database=self.name)

    @classmethod
    def create(cls, engine: str) -> "Database":
        tool = "psql" if engine == "postgres" else ("mariadb" if shutil.which("mariadb") else "mysql")
        if not shutil.which(tool):
            unavailable(f"{tool} not found: the {engine} interop scenarios need its client")
        admin = urllib.parse.urlsplit(_admin_url(engine))
        name = f"glance_interop_{engine}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        db = cls(engine, name, admin)
        create = (
            f"CREATE DATABASE {name}"
            if engine == "postgres"
            else f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
        )
        try:
            db._run(create)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            unavailable(
                f"{engine} server at {_admin_url(engine)} not usable "
                f"(scripts/testbed/databases-check.sh starts it): {e}"
            )
        return db

    def drop(self) -> None:
        if self.engine == "postgres":
            self._run(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
        else:
            self._run(f"DROP DATABASE IF EXISTS {self.name}")


# --------------------------------------------------------------------------
# servers
# --------------------------------------------------------------------------


def upstream_venv() -> Path:
    env = os.environ.get("UPSTREAM_GLANCE_VENV")
    if env:
        return Path(env)
    home = os.environ.get("GLANCE_TESTBED_HOME") or str(Path.home() / ".cache" / "glance-rs-testbed")
    return Path(home) / "glance-venv"


_UPSTREAM_OK: list[Path] = []


def check_upstream() -> Path:
    """The upstream venv, or fail (CI) / skip with the reason it cannot be used."""
    if _UPSTREAM_OK:
        return _UPSTREAM_OK[0]
    venv = upstream_venv()
    how = "run `UPSTREAM_GLANCE_DB_DRIVERS=1 scripts/testbed/upstream-glance-setup.sh` (or set UPSTREAM_GLANCE_VENV)"
    if not (venv / "bin" / "uwsgi").exists() or not (venv / "bin" / "python").exists():
        unavailable(f"upstream Glance not installed at {venv}: {how}")
    p = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-W",
            "ignore",
            "-c",
            "import importlib.metadata as m, psycopg2, pymysql; print(m.version('glance'))",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if p.returncode != 0:
        unavailable(
            f"upstream venv {venv} lacks glance or the database drivers "
            f"(psycopg2, pymysql): {how}: {p.stderr.strip()[-300:]}"
        )
    version = p.stdout.strip()
    if version != "33.0.0":
        unavailable(f"upstream venv {venv} has glance {version}, not 33.0.0: {how}")
    _UPSTREAM_OK.append(venv)
    return venv


def _tail(path: Path | None, n: int = 30) -> str:
    if not path or not path.exists():
        return ""
    lines = path.read_text(errors="replace").splitlines()
    return f"--- {path} (last {n} lines)\n" + "\n".join(lines[-n:])


def _stores_conf(store: Path, store2: Path) -> str:
    return (
        "[DEFAULT]\n"
        "enabled_backends = fs:file,fs2:file\n"
        "show_multiple_locations = true\n"
        "show_image_direct_url = true\n"
        "\n"
        "[glance_store]\n"
        "default_backend = fs\n"
        "\n"
        "[fs]\n"
        f"filesystem_store_datadir = {store}/\n"
        "\n"
        "[fs2]\n"
        f"filesystem_store_datadir = {store2}/\n"
    )


class Upstream:
    """Upstream Glance under uWSGI (scripts/testbed/upstream-glance-start.sh)."""

    kind = "upstream"

    def __init__(self, base: Path, db: Database, store: Path, store2: Path, sync: bool):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data = base / "upstream"
        self.env = dict(os.environ)
        self.env.update(
            {
                "UPSTREAM_GLANCE_VENV": str(upstream_venv()),
                "UPSTREAM_GLANCE_DATA": str(self.data),
                "UPSTREAM_GLANCE_AUTH": "headers",
                # One worker starts in half the time of two; the test is sequential.
                "UPSTREAM_GLANCE_WORKERS": os.environ.get("UPSTREAM_GLANCE_WORKERS", "1"),
                "UPSTREAM_GLANCE_DB_URL": db.url,
                "UPSTREAM_GLANCE_STORE_DIR": str(store),
                "UPSTREAM_GLANCE_DB_SYNC": "1" if sync else "0",
                "UPSTREAM_GLANCE_METADEFS": "0",
                "UPSTREAM_GLANCE_CONF_EXTRA": _stores_conf(store, store2),
            }
        )
        self.started = False

    def start(self) -> None:
        p = subprocess.run(
            [str(TESTBED / "upstream-glance-start.sh"), str(self.port)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        self.started = True  # a half-started server is stopped through its pid file
        if p.returncode != 0:
            raise AssertionError(
                f"upstream-glance-start.sh {self.port} failed (exit {p.returncode}):\n"
                f"{p.stderr[-3000:]}\n{self.log_tail()}"
            )
        self.start_log = p.stderr

    def stop(self) -> None:
        if not self.started:
            return
        subprocess.run(
            [str(TESTBED / "upstream-glance-stop.sh"), str(self.port)],
            env=self.env,
            capture_output=True,
            timeout=60,
        )
        self.started = False

    def log_tail(self, n: int = 30) -> str:
        return _tail(self.data / "glance-api.log", n) + "\n" + _tail(self.data / "uwsgi.log", 10)


class Ours:
    """Our glance-api on the same database and stores, identity from trusted headers."""

    kind = "ours"

    def __init__(self, base: Path, binary: Path, db: Database, store: Path, store2: Path):
        self.binary = binary
        self.base = base / "ours"
        self.base.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.base / "glance-api.log"
        self.conf = self.base / "glance-api.conf"
        self.conf.write_text(
            "[DEFAULT]\n"
            "bind_host = 127.0.0.1\n"
            f"bind_port = {self.port}\n"
            "\n"
            "[database]\n"
            f"connection = {db.url}\n"
            "\n"
            "[paste_deploy]\n"
            "flavor = trusted-auth\n"
            "\n" + _stores_conf(store, store2)
        )
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [str(self.binary), "--config-file", str(self.conf), "--data-dir", str(self.base / "data")],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=str(self.base),
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"our glance-api exited with status {self.proc.returncode} before answering:\n"
                    + self.log_tail()
                )
            try:
                if requests.get(self.url + "/versions", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise AssertionError(f"our glance-api did not answer within {timeout} s:\n" + self.log_tail())

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def log_tail(self, n: int = 30) -> str:
        return _tail(self.log_path, n)


# --------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------


def identity(project: str, roles: str = "member,reader") -> dict:
    return {
        "X-Identity-Status": "Confirmed",
        "X-Project-Id": project,
        "X-User-Id": "user-" + project[:8],
        "X-Roles": roles,
    }


ADMIN = identity(OWNER, "admin,member,reader")


class Client:
    """requests against one server, as one identity by default."""

    def __init__(self, server, headers: dict | None = None):
        self.server = server
        self.url = server.url
        self.headers = dict(headers or ADMIN)

    def as_(self, headers: dict) -> "Client":
        return Client(self.server, headers)

    def request(self, method: str, path: str, expect: int | None = None, **kw) -> requests.Response:
        headers = {**self.headers, **kw.pop("headers", {})}
        r = requests.request(method, self.url + path, headers=headers, timeout=60, **kw)
        if expect is not None and r.status_code != expect:
            raise AssertionError(
                f"{self.server.kind}: {method} {path} -> {r.status_code}, expected {expect}: "
                f"{r.text[:500]}\n{self.server.log_tail(15)}"
            )
        return r

    def get(self, path: str, expect: int | None = 200, **kw) -> requests.Response:
        return self.request("GET", path, expect, **kw)

    def json(self, path: str) -> dict:
        return self.get(path).json()

    def create(self, body: dict) -> dict:
        return self.request("POST", "/v2/images", 201, json=body).json()

    def patch(self, image_id: str, ops: list) -> dict:
        return self.request(
            "PATCH",
            f"/v2/images/{image_id}",
            200,
            json=ops,
            headers={"Content-Type": "application/openstack-images-v2.1-json-patch"},
        ).json()

    def upload(self, image_id: str, data: bytes) -> None:
        self.request(
            "PUT",
            f"/v2/images/{image_id}/file",
            204,
            data=data,
            headers={"Content-Type": "application/octet-stream"},
        )
