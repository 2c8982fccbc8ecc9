"""Real Redis servers and real Celery workers for the tests of posbackoffice.jobs: each test starts its own
redis-server on a free port (stopping it disturbs nothing else) and its workers as subprocesses pointed at
that Redis and at the test database (transactional tests, so the rows are committed and visible to them)."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from django.db import connection

from posbackoffice.celery import app

ROOT = Path(__file__).resolve().parents[2]
REDIS_PACKAGE_HINT = ("redis-server is not installed: the worker and Redis fault tests start their own. "
                      "Install the Debian package redis-server (apt-get install -y redis-server).")


def subprocess_database_url() -> str:
    """The session's DATABASE_URL, pointed at the test database this test writes to (for subprocesses)."""
    return urlsplit(os.environ["DATABASE_URL"])._replace(path="/" + connection.settings_dict["NAME"]).geturl()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def eventually(check, *, timeout: float = 30, what: str = "the condition", logs=()):
    """Poll `check()` until it answers something true; fail with the workers' logs after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    tails = "\n".join(f"--- {log}:\n{Path(log).read_text()[-3000:]}" for log in logs if Path(log).exists())
    raise AssertionError(f"{what} did not happen within {timeout} s\n{tails}")


class RedisServer:
    """A redis-server of this test's own, without persistence: stop() and start() again on the same port
    are an outage and a recovery with an empty server."""

    def __init__(self, workdir: Path):
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(REDIS_PACKAGE_HINT)
        self.binary, self.workdir, self.port = binary, workdir, free_port()
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir), "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        eventually(self.answers, timeout=10, what=f"redis-server answering on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@contextmanager
def celery_app_on(broker_url: str):
    """This process publishes to `broker_url`, for real (not eagerly), inside the block."""
    # Celery reads the CELERY_BROKER_URL environment variable before its configuration.
    saved = os.environ.get("CELERY_BROKER_URL"), app.conf.broker_url, app.conf.task_always_eager
    os.environ["CELERY_BROKER_URL"] = app.conf.broker_url = broker_url
    app.conf.task_always_eager = False
    _forget_producers()
    try:
        yield app
    finally:
        if saved[0] is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved[0]
        app.conf.broker_url, app.conf.task_always_eager = saved[1:]
        _forget_producers()


def _forget_producers() -> None:
    # The app keeps the producer pool of the broker address it first used: look it up again (kombu
    # keeps one pool per address).
    app._pool = None
    app.amqp._producer_pool = None


class WorkerProcess:
    """`celery worker` as production runs it (a threads pool by default: processor-bound tasks; prefork for
    CPU-bound work such as bench/paylinks.py's PDFs), on the test's Redis and database. `knobs` are
    environment variables read by tests/jobs/worker_app.py."""

    def __init__(self, redis: RedisServer, workdir: Path, *, concurrency: int = 4, pool: str = "threads",
                 **knobs: str):
        self.name = f"jobs-{uuid.uuid4().hex[:8]}"
        self.log = workdir / f"{self.name}.log"
        self.mail_dir = workdir / "mail"
        workdir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "DATABASE_URL": subprocess_database_url(), "CELERY_BROKER_URL": redis.url(1),
               "REDIS_URL": redis.url(0), "CELERY_TASK_ALWAYS_EAGER": "false", "VAR_DIR": str(workdir / "var"),
               "EMAIL_URL": f"outbox://{self.mail_dir}", "LOG_LEVEL": "WARNING", **knobs}
        celery = Path(sys.executable).parent / "celery"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [str(celery), "-A", "tests.jobs.worker_app", "worker", "--pool", pool,
                 f"--concurrency={concurrency}", "--without-gossip", "--without-mingle", "--without-heartbeat",
                 "--loglevel=WARNING", f"--hostname={self.name}@%h"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        """kill -9: the worker dies mid-task, acknowledging nothing."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
