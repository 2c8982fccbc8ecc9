"""`make run`'s processes (web, worker and beat from the Procfile, under honcho) started the way `make run`
starts them (`make serve`), on a free port with a temporary VAR_DIR: the web answers at the address served
and at SITE_URL's host, and one Ctrl-C or SIGTERM stops every process within seconds, none left behind.

Run alone with `.venv/bin/pytest -m make_run`."""

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 90  # a loaded machine: three Django processes importing at once
STOP_SECONDS = 15  # honcho sends SIGKILL to what is left 5 s after the first process stopped

pytestmark = pytest.mark.make_run


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _started_with(var_dir: Path) -> dict[int, str]:
    """Every live process whose environment names this VAR_DIR (all that `make serve` started): pid → command."""
    needle = f"VAR_DIR={var_dir}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue  # exited; only its parent has not read its status yet
            found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue  # gone meanwhile, or not ours to read (then not started by this test either)
    return found


def _status(port: int, host: str) -> int | None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/login/", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as refused:
        return refused.code
    except OSError:  # not listening yet
        return None


@pytest.mark.parametrize("stop, to_group", [(signal.SIGINT, True), (signal.SIGTERM, False)],
                         ids=["ctrl-c to the terminal's process group", "sigterm to make"])
def test_one_signal_stops_web_worker_and_beat(tmp_path, stop, to_group):
    port = _free_port()
    site_url = f"http://192.168.1.20:{port}"  # as README.md's "on the local network"
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", str(tmp_path)), "VAR_DIR": str(tmp_path)}
    log = tmp_path / "make-serve.log"
    with open(log, "wb") as output:
        make = subprocess.Popen(["make", "--no-print-directory", "serve", "HOST=127.0.0.1", f"PORT={port}",
                                 f"SITE_URL={site_url}"], cwd=ROOT, env=env, stdout=output,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + START_SECONDS
        while not ("celery@" in log.read_text() and " ready." in log.read_text()
                   and "beat: Starting" in log.read_text() and _status(port, f"127.0.0.1:{port}") == 200):
            assert make.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert _status(port, f"192.168.1.20:{port}") == 200  # SITE_URL's host is served
        assert _status(port, "elsewhere.example") == 400
        running = _started_with(tmp_path)
        for name in ("honcho start", "manage.py runserver", "posbackoffice worker", "posbackoffice beat"):
            assert any(name in command for command in running.values()), running

        os.killpg(make.pid, stop) if to_group else make.send_signal(stop)
        deadline = time.monotonic() + STOP_SECONDS
        while (left := _started_with(tmp_path)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert left == {}, log.read_text()
        make.wait(timeout=5)
        assert log.read_text().count("Warm shutdown") == 1  # once, not a flood of re-sent signals
    finally:
        for pid in _started_with(tmp_path):  # never leave one running, even when the test fails
            os.kill(pid, signal.SIGKILL)
