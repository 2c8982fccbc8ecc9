"""The real web stack of the web-side fault scripts (redis_outage.py, webhooks.py): gunicorn serving
posbackoffice.wsgi on a free port, a `celery worker` and `celery beat`, all on the private PostgreSQL and
Redis of bench/faults/servers.py; and `Browser`, a requests session that drives it as a browser does
(cookies, the CSRF token, htmx's header), recording every request it makes.

    with PrivatePostgres() as pg, PrivateRedis() as redis:
        env = stack_environment(pg, redis, "faults", workdir)
        setup_django_on(env)                   # this process: migrations, the shop, the checks
        with WebStack(env, workdir) as web:
            browser = Browser(web.base_url, tally)
            browser.login(email, password)
"""

import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter

from bench.faults.servers import _port_open, _wait, free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Every request waits at most this long for its page; a request still unanswered then counts as a hang.
REQUEST_TIMEOUT = 30
SLOW_SECONDS = 2
PASSWORD = "pass-word-123"  # tests.factories.UserFactory's


def stack_environment(pg, redis, database: str, workdir: Path, *, redis_databases: tuple[int, int] = (0, 1)) -> dict:
    """The environment of every process of the stack (and of this one): the private servers (the cache and
    the broker on `redis_databases`), a real broker, e-mails delivered as files into workdir/mail."""
    return {
        "SECRET_KEY": "faults-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "DEBUG": "false",
        "HTTPS": "false",
        "STATIC_MANIFEST": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "DATABASE_URL": pg.url(database),
        "REDIS_URL": redis.url(redis_databases[0]),
        "CELERY_BROKER_URL": redis.url(redis_databases[1]),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_URL": f"outbox://{workdir / 'mail'}",
        "PAYMENTS_GATEWAY": "sandbox",
        "PLATFORM_PAYMENTS_GATEWAY": "sandbox",
        "VAR_DIR": str(workdir / "var"),
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "posbackoffice.settings",
    }


def setup_django_on(env: dict) -> None:
    """This process uses the stack's database and broker (set before Django reads its settings)."""
    os.environ.update(env)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


class WebStack:
    """gunicorn (`workers` processes × `threads`), one `celery worker` (threads pool) and `celery beat`, as
    subprocesses with their logs in workdir; all killed on exit."""

    def __init__(self, env: dict, workdir: Path, *, workers: int = 2, threads: int = 4, beat: bool = True):
        self.env, self.workdir, self.port = {**os.environ, **env}, workdir, free_port()
        self.workers, self.threads, self.beat = workers, threads, beat
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.processes: dict[str, subprocess.Popen] = {}

    def log(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def _start(self, name: str, command: list[str]) -> None:
        with open(self.log(name), "ab") as log:
            self.processes[name] = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def __enter__(self) -> "WebStack":
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._start(
            "gunicorn",
            [
                str(BIN / "gunicorn"),
                "posbackoffice.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
                "--timeout",
                "120",
                # The application is imported before the port opens and the workers fork from it: ready at once,
                # so the first requests do not wait (30 s at a load average of 20) for workers still importing it.
                "--preload",
                "--log-level",
                "warning",
                # Each request's status and server time (seconds), to tell a slow server from a lost answer.
                "--access-logfile",
                str(self.log("access")),
                "--access-logformat",
                '%(t)s "%(r)s" %(s)s %(L)s',
            ],
        )
        self._start(
            "worker",
            [
                str(BIN / "celery"),
                "-A",
                "posbackoffice",
                "worker",
                "--pool",
                "threads",
                "--concurrency",
                "4",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "WARNING",
                "--hostname",
                f"faults-{self.port}@%h",
            ],
        )
        if self.beat:
            self._start(
                "beat",
                [
                    str(BIN / "celery"),
                    "-A",
                    "posbackoffice",
                    "beat",
                    "--loglevel",
                    "WARNING",
                    "--schedule",
                    str(self.workdir / "celerybeat-schedule"),
                ],
            )
        _wait(lambda: _port_open(self.port), 120, "gunicorn listening")
        _wait(self._answers, 120, "gunicorn answering")
        return self

    def _answers(self) -> bool:
        try:
            return requests.get(self.base_url + "/login/", timeout=REQUEST_TIMEOUT).status_code == 200
        except requests.RequestException:
            return False

    def alive(self) -> dict[str, bool]:
        return {name: process.poll() is None for name, process in self.processes.items()}

    def __exit__(self, *exc) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, 9)
                process.wait(timeout=30)

    def log_lines(self, name: str, pattern: str) -> int:
        text = self.log(name).read_text(errors="replace") if self.log(name).exists() else ""
        return len(re.findall(pattern, text))


@dataclass
class Tally:
    """Every request of every browser: made, answered with a page (any status but 5xx), 5xx, no answer."""

    made: int = 0
    answered: int = 0
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    slowest: float = 0.0
    # (when it started: time.monotonic(), seconds, "METHOD path") of every request slower than SLOW_SECONDS
    slow: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, status: int | None, seconds: float, error: str = "", *, what: str = "") -> None:
        with self.lock:
            self.made += 1
            self.slowest = max(self.slowest, seconds)
            if seconds > SLOW_SECONDS:
                self.slow.append((time.monotonic() - seconds, seconds, what))
            if status is None:
                self.errors[error] += 1
                return
            self.statuses[status] += 1
            if status < 500:
                self.answered += 1


class _FromAddress(HTTPAdapter):
    """Connections from one loopback address (127.0.0.N): each customer is a client of its own for the pay
    pages' per-address rate limit, as on the internet."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        return super().init_poolmanager(*args, **kwargs)


class Browser:
    def __init__(self, base_url: str, tally: Tally, *, address: str = "127.0.0.1"):
        self.base_url, self.tally = base_url, tally
        self.session = requests.Session()
        self.session.mount("http://", _FromAddress(address))

    def request(self, method: str, path: str, *, hx: bool = False, **kwargs) -> requests.Response | None:
        """The response, or None when none came within REQUEST_TIMEOUT (counted as not answered)."""
        headers = kwargs.pop("headers", {})
        if method == "POST" and "csrftoken" in self.session.cookies:
            headers["X-CSRFToken"] = self.session.cookies["csrftoken"]
        if hx:
            headers["HX-Request"] = "true"
        started = time.monotonic()
        try:
            response = self.session.request(
                method, self.base_url + path, headers=headers, timeout=REQUEST_TIMEOUT, allow_redirects=False, **kwargs
            )
        except requests.RequestException as error:
            self.tally.record(None, time.monotonic() - started, type(error).__name__, what=f"{method} {path}")
            return None
        self.tally.record(response.status_code, time.monotonic() - started, what=f"{method} {path}")
        return response

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: dict, **kwargs):
        return self.request("POST", path, data=data, **kwargs)

    def login(self, login_path: str, email: str, password: str = PASSWORD) -> None:
        self.get(login_path)
        response = self.post(
            login_path,
            {"username": email, "password": password, "csrfmiddlewaretoken": self.session.cookies.get("csrftoken", "")},
        )
        if response is None or response.status_code != 302:
            raise RuntimeError(f"{email} could not log in: {response and response.status_code}")


def input_value(html: str, element_id: str) -> str | None:
    """The value of the input with this id in a page (the amount the sell screen offers to take)."""
    tag = re.search(rf'<input[^>]*id="{re.escape(element_id)}"[^>]*>', html)
    value = re.search(r'value="([^"]*)"', tag.group(0)) if tag else None
    return value.group(1) if value else None
