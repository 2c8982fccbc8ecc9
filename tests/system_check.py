"""What the test suite needs from the machine besides the locked Python packages, checked before any test
runs: one message naming everything missing and the Debian package (or the command) that brings it.

`make test` runs `python -m tests.system_check` first; tests/conftest.py checks the services again when
pytest is started on its own. README.md ("Quick start") and .ci/run list the same packages."""

import os
import shutil
import socket
import subprocess
import sys
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"  # the browser the journeys drive (tests/conftest.py)
PANGO_PACKAGES = "libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0"
# WeasyPrint loads Pango and HarfBuzz when imported; rendering one page proves the libraries and a font.
RENDER_ONE_PDF = "import weasyprint; assert weasyprint.HTML(string='<p>ok</p>').write_pdf().startswith(b'%PDF')"


def _program_problems() -> list[str]:
    problems = []
    gettext = [name for name in ("msgfmt", "msgattrib", "xgettext") if shutil.which(name) is None]
    if gettext:
        problems.append(f"{', '.join(gettext)} (translations): apt-get install -y gettext")
    if not os.access(CHROMIUM, os.X_OK):
        problems.append(f"{CHROMIUM} (browser journeys): apt-get install -y chromium")
    if shutil.which("redis-server") is None:
        problems.append("redis-server (worker tests start their own Redis): apt-get install -y redis-server")
    return problems


def _pango_problems() -> list[str]:
    try:
        result = subprocess.run([sys.executable, "-c", RENDER_ONE_PDF], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return ["WeasyPrint did not render a PDF within 60 s (Pango libraries)"]
    if result.returncode == 0:
        return []
    last_line = (result.stderr.strip().splitlines() or ["no output"])[-1]
    return [f"WeasyPrint cannot render a PDF ({last_line}): apt-get install -y {PANGO_PACKAGES}"]


def _reachable(url: str, default_port: int) -> tuple[bool, str]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or default_port
    try:
        with socket.create_connection((host, port), timeout=3):
            return True, f"{host}:{port}"
    except OSError:
        return False, f"{host}:{port}"


def service_problems() -> list[str]:
    """PostgreSQL and Redis at the addresses the tests use, answering."""
    problems = []
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith("postgres"):
        ok, where = _reachable(database_url, 5432)
        if not ok:
            problems.append(f"PostgreSQL is not reachable at {where} (DATABASE_URL). Install it "
                            "(apt-get install -y postgresql) or start it: "
                            "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start")
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        url = os.environ.get(name, "")
        if url.startswith("redis"):
            ok, where = _reachable(url, 6379)
            if not ok:
                problems.append(f"Redis is not reachable at {where} ({name}). Install it "
                                "(apt-get install -y redis-server) or start it: redis-server --daemonize yes")
                break
    return problems


def problems() -> list[str]:
    return _program_problems() + _pango_problems() + service_problems()


def apply_pytest_env_defaults() -> None:
    """The defaults pytest-env gives the tests (pyproject.toml's `D:` entries), where the environment has none,
    so the services are looked for where the tests will look."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for entry in config["tool"]["pytest"]["ini_options"]["env"]:
        if entry.startswith("D:"):
            name, _, value = entry[2:].partition("=")
            os.environ.setdefault(name, value)


def main() -> int:
    apply_pytest_env_defaults()
    missing = problems()
    if not missing:
        return 0
    print("The tests need, and this machine lacks:", *(f"  - {line}" for line in missing), sep="\n", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
