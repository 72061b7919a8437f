"""End-to-end fixtures: a real `glance-api` server and the real OpenStack clients.

The session fixture `server` starts the `glance-api` binary (env GLANCE_API_BIN,
default `$CARGO_TARGET_DIR/debug/glance-api`, `./target` when CARGO_TARGET_DIR is
unset) on a free loopback port with a generated glance-api.conf and a fresh data
dir, waits until `GET /versions` answers and kills it at the end of the session.
If GLANCE_E2E_URL is set, that already running server is used instead (for
example upstream Glance started by scripts/testbed/upstream-glance-start.sh).

The clients (`glance`, `openstack`) are taken from the directory of the Python
interpreter running pytest (the venv made by scripts/testbed/clients-setup.sh),
or from GLANCE_E2E_CLIENTS_BIN.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = float(os.environ.get("GLANCE_E2E_START_TIMEOUT", "60"))
CLI_TIMEOUT = float(os.environ.get("GLANCE_E2E_CLI_TIMEOUT", "300"))
MIB = 1024 * 1024


# --------------------------------------------------------------------------
# server
# --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api_bin() -> Path:
    env = os.environ.get("GLANCE_API_BIN")
    if env:
        p = Path(env)
    else:
        target = Path(os.environ.get("CARGO_TARGET_DIR") or "target")
        p = target / "debug" / "glance-api"
    if not p.is_absolute():
        p = REPO / p
    return p


def _versions_ok(url: str) -> bool:
    try:
        r = requests.get(url + "/versions", timeout=2)
    except requests.RequestException:
        return False
    return r.status_code in (200, 300) and b"versions" in r.content


def _write_conf(path: Path, port: int, data_dir: Path) -> None:
    # Same store/import layout as the upstream reference deployment
    # (scripts/testbed/upstream-glance-start.sh): one filesystem store "fs".
    path.write_text(
        "[DEFAULT]\n"
        "bind_host = 127.0.0.1\n"
        f"bind_port = {port}\n"
        "enabled_backends = fs:file\n"
        "enabled_import_methods = [glance-direct,web-download,copy-image]\n"
        "\n"
        "[glance_store]\n"
        "default_backend = fs\n"
        "\n"
        "[fs]\n"
        f"filesystem_store_datadir = {data_dir / 'images'}/\n"
    )


@dataclass
class Server:
    url: str
    external: bool
    log_path: Path | None = None
    data_dir: Path | None = None

    def log_tail(self, n: int = 40) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(lines[-n:])


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    # The server was started in its own session: signal exactly that group.
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    ext = os.environ.get("GLANCE_E2E_URL")
    if ext:
        url = ext.rstrip("/")
        if not _versions_ok(url):
            pytest.fail(f"GLANCE_E2E_URL={url}: GET /versions does not answer")
        yield Server(url=url, external=True)
        return

    binary = _api_bin()
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        pytest.fail(
            f"glance-api binary not found at {binary}: build it with "
            "`cargo build -p glance-server --bin glance-api`, or set GLANCE_API_BIN "
            "(or GLANCE_E2E_URL to test a running server)"
        )

    last_error = ""
    for _attempt in range(3):  # a free port can be taken between probe and bind
        base = tmp_path_factory.mktemp("glance-api")
        data_dir = base / "data"
        data_dir.mkdir()
        conf = base / "glance-api.conf"
        port = _free_port()
        _write_conf(conf, port, data_dir)
        log_path = base / "glance-api.log"
        url = f"http://127.0.0.1:{port}"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [str(binary), "--config-file", str(conf), "--data-dir", str(data_dir)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=str(base),
                start_new_session=True,
            )
        srv = Server(url=url, external=False, log_path=log_path, data_dir=data_dir)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            if _versions_ok(url):
                break
            time.sleep(0.2)
        if proc.poll() is None and _versions_ok(url):
            _STARTED.append(srv)
            try:
                yield srv
            finally:
                _stop(proc)
            return
        exited = proc.returncode is not None and proc.returncode >= 0
        _stop(proc)
        why = (
            f"exited with status {proc.returncode} before answering"
            if exited
            else f"did not answer within {START_TIMEOUT:.0f} s"
        )
        last_error = (
            f"glance-api ({binary}) {why} GET {url}/versions; log {log_path}:\n"
            + srv.log_tail()
        )
    pytest.fail(last_error)


@pytest.fixture(scope="session")
def api(server):
    """A requests session bound to the server; `api.image(id)` returns the JSON."""
    return Api(server.url)


class Api:
    def __init__(self, url: str):
        self.url = url
        self.s = requests.Session()
        self.s.headers["X-Auth-Token"] = "x"

    def get(self, path: str, **kw) -> requests.Response:
        return self.s.get(self.url + path, timeout=60, **kw)

    def image(self, image_id: str) -> dict:
        r = self.get(f"/v2/images/{image_id}")
        assert r.status_code == 200, f"GET image {image_id}: {r.status_code} {r.text[:300]}"
        return r.json()

    def image_status_code(self, image_id: str) -> int:
        return self.get(f"/v2/images/{image_id}").status_code

    def members(self, image_id: str) -> list[dict]:
        r = self.get(f"/v2/images/{image_id}/members")
        assert r.status_code == 200, f"GET members: {r.status_code} {r.text[:300]}"
        return r.json()["members"]

    def delete(self, image_id: str) -> int:
        return self.s.delete(f"{self.url}/v2/images/{image_id}", timeout=60).status_code


# --------------------------------------------------------------------------
# clients
# --------------------------------------------------------------------------


def _clients_bin() -> Path:
    env = os.environ.get("GLANCE_E2E_CLIENTS_BIN")
    if env:
        return Path(env)
    here = Path(sys.executable).parent
    if (here / "glance").exists():
        return here
    found = shutil.which("glance")
    if found:
        return Path(found).parent
    raise RuntimeError("glance CLI not found: run scripts/testbed/clients-setup.sh")


def _client_env() -> dict:
    # OS_* variables (OS_CLOUD, OS_AUTH_URL, ...) would switch the clients back to
    # Keystone auth; clouds.yaml files would be merged in: point the lookup away.
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["PYTHONWARNINGS"] = "ignore"
    env["OS_CLIENT_CONFIG_FILE"] = os.devnull
    return env


@dataclass
class Result:
    args: list
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __str__(self) -> str:
        return (
            f"$ {' '.join(map(str, self.args))}\n(exit {self.returncode})\n"
            f"--- stdout\n{self.stdout[-3000:]}\n--- stderr\n{self.stderr[-3000:]}"
        )


class Cli:
    def __init__(self, url: str):
        self.url = url
        self.bin = _clients_bin()
        self.env = _client_env()

    def run(self, args: list, check: bool = True) -> Result:
        # stdin must be a terminal. glanceclient and openstackclient treat any
        # non-tty stdin (even /dev/null) as image data for image-create; and a
        # closed stdin (`<&-`) is not reliable: the next file or socket the CLI
        # opens takes fd 0, and then it crashes on sys.stdin being None
        # (seen with `openstack image create` without --file).  Nothing is
        # ever written to the pseudo-terminal, so nothing can be read from it.
        master, slave = os.openpty()
        try:
            p = subprocess.run(
                [str(a) for a in args],
                stdin=slave,
                capture_output=True,
                text=True,
                env=self.env,
                timeout=CLI_TIMEOUT,
            )
        finally:
            os.close(slave)
            os.close(master)
        res = Result(args, p.returncode, p.stdout, p.stderr)
        if check:
            assert res.returncode == 0, f"command failed:\n{res}"
        return res

    def glance(self, *args, check: bool = True) -> Result:
        return self.run(
            [
                self.bin / "glance",
                "--os-image-api-version", "2",
                "--os-image-url", self.url,
                "--os-auth-token", "x",
                *args,
            ],
            check=check,
        )

    def ours(self, *args, check: bool = True) -> Result:
        """Our own `glance` binary (crate glance-cli), beside the glance-api under test,
        with the same options `glance()` gives python-glanceclient."""
        binary = Path(os.environ["GLANCE_API_BIN"]).with_name("glance")
        return self.run(
            [
                binary,
                "--os-image-api-version", "2",
                "--os-image-url", self.url,
                "--os-auth-token", "x",
                *args,
            ],
            check=check,
        )

    def glance_v1(self, *args, check: bool = True) -> Result:
        """python-glanceclient's legacy v1 commands (`--os-image-api-version 1`)."""
        return self.run(
            [
                self.bin / "glance",
                "--os-image-api-version", "1",
                "--os-image-url", self.url,
                "--os-auth-token", "x",
                *args,
            ],
            check=check,
        )

    def openstack(self, *args, check: bool = True) -> Result:
        return self.run(
            [
                self.bin / "openstack",
                "--os-auth-type", "none",
                "--os-endpoint", self.url,
                *args,
            ],
            check=check,
        )


@pytest.fixture(scope="session")
def cli(server):
    return Cli(server.url)


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------


@dataclass
class Payload:
    path: Path
    size: int
    md5: str
    sha512: str
    sha256: str = field(default="")

    def same_as(self, other: Path) -> bool:
        if other.stat().st_size != self.size:
            return False
        return _hashes(other)[1] == self.sha512


def _hashes(path: Path) -> tuple[str, str, str]:
    md5, sha512, sha256 = hashlib.md5(), hashlib.sha512(), hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(MIB)
            if not b:
                break
            md5.update(b)
            sha512.update(b)
            sha256.update(b)
    return md5.hexdigest(), sha512.hexdigest(), sha256.hexdigest()


def _make_payload(path: Path, size: int) -> Payload:
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 4 * MIB)
            f.write(os.urandom(n))
            left -= n
    md5, sha512, sha256 = _hashes(path)
    return Payload(path, size, md5, sha512, sha256)


@pytest.fixture(scope="session")
def small_file(tmp_path_factory) -> Payload:
    # ~3 MiB, deliberately not a multiple of the clients' 1 MiB chunk size.
    return _make_payload(tmp_path_factory.mktemp("payload") / "small.raw", 3 * MIB + 5)


@pytest.fixture(scope="session")
def big_file(tmp_path_factory) -> Payload:
    return _make_payload(tmp_path_factory.mktemp("payload") / "big.raw", 20 * MIB + 3)


@pytest.fixture
def name():
    """A unique name prefix for the images of one test."""
    return f"e2e-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def cleanup(api):
    """Register image ids; they are deleted (best effort) after the test."""
    ids: list[str] = []
    yield ids
    for image_id in ids:
        try:
            api.delete(image_id)
        except requests.RequestException:
            pass


_STARTED: list[Server] = []


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    for srv in _STARTED:
        terminalreporter.write_line(f"glance-api log: {srv.log_path}")
        if exitstatus != 0:
            terminalreporter.section("glance-api log (last 40 lines)")
            terminalreporter.write_line(srv.log_tail(40))


def pytest_report_header(config):
    ext = os.environ.get("GLANCE_E2E_URL")
    if ext:
        return [f"glance e2e: external server {ext}"]
    return [f"glance e2e: binary {_api_bin()}"]
