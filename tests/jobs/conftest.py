import pytest

from tests.jobs.workers import REDIS_PACKAGE_HINT, RedisServer, WorkerProcess


@pytest.fixture
def private_redis(tmp_path):
    """A redis-server of this test's own on a free port, stopped at teardown."""
    try:
        server = RedisServer(tmp_path / "redis")
    except RuntimeError:
        pytest.fail(REDIS_PACKAGE_HINT, pytrace=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def start_worker(private_redis, tmp_path):
    """Start `celery worker` subprocesses on the private Redis and the test database; all are killed at
    teardown (nothing of theirs is needed any more), before the test database is flushed."""
    started = []

    def start(**options) -> WorkerProcess:
        worker = WorkerProcess(private_redis, tmp_path / "workers", **options)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()
