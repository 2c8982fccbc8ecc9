"""Private PostgreSQL and Redis servers for the fault scripts (issue 13, "Faults with real processes").

The fault scripts stop, kill and restart their servers, so they never use the shared ones on 5432/6379:
each run starts a PostgreSQL cluster (initdb in a temporary directory, a free port) and a redis-server (a
free port), both on 127.0.0.1, and removes them at the end.

    with PrivatePostgres() as pg, PrivateRedis() as redis:
        env = {"DATABASE_URL": pg.url("faults"), "REDIS_URL": redis.url(0), "CELERY_BROKER_URL": redis.url(1)}
        ...
        pg.restart()            # a fast shutdown and a start, same port and data
        redis.stop(); redis.start()

PostgreSQL refuses to run as root, so when this process is root the cluster runs as the `postgres` user
(its directory handed over to it); trust authentication on 127.0.0.1 only.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not happen within {timeout:.0f} s")


class PrivatePostgres:
    def __init__(self, *, max_connections: int = 200, durable: bool = False, options: str = ""):
        """`durable`: PostgreSQL's own defaults for the disk (fsync, synchronous commits), as the shared
        server has them, for a benchmark; otherwise off, for fault runs that only count rows."""
        self.port = free_port()
        self.max_connections = max_connections
        self.durable = durable
        self.options = options  # more `-c name=value` for the server
        self.directory = Path(tempfile.mkdtemp(prefix="pbo-faults-pg-"))
        self.data = self.directory / "data"
        self.log = self.directory / "postgres.log"

    def _as_owner(self, *command: str) -> list[str]:
        # initdb and postgres refuse root; the cluster is then owned by the postgres user.
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *command]
        return list(command)

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def __enter__(self) -> "PrivatePostgres":
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        subprocess.run(
            self._as_owner(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                           "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"),
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.start()
        return self

    def start(self) -> None:
        options = (f"-c port={self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='{self.directory}' "
                   f"-c max_connections={self.max_connections}")
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        if self.options:
            options += " " + self.options
        subprocess.run(
            self._as_owner(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
                           "-w", "-t", "60", "start"),
            check=True, stdout=subprocess.DEVNULL,
        )
        _wait(lambda: _port_open(self.port), 30, "PostgreSQL accepting connections")

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(self._as_owner(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"),
                       check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def restart(self) -> None:
        self.stop()
        self.start()

    def create_database(self, name: str) -> None:
        subprocess.run([str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name],
                       check=True)

    def __exit__(self, *exc) -> None:
        self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)


class PrivateRedis:
    def __init__(self):
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="pbo-faults-redis-"))
        self.process: subprocess.Popen | None = None

    def url(self, database: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{database}"

    def __enter__(self) -> "PrivateRedis":
        self.start()
        return self

    def start(self) -> None:
        # No persistence: a stopped Redis comes back empty, the harder case (the broker's queue is gone).
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(self.directory), "--logfile", str(self.directory / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        _wait(lambda: _port_open(self.port), 30, "redis-server listening")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        shutil.rmtree(self.directory, ignore_errors=True)
