"""One way to run background work (docs/architecture.md, "Background work").

The row that needs work is the record of that need: a pending payment attempt, an unprocessed webhook
event, a queued e-mail, a card to detach, an export to write. So a broker outage loses nothing:

- beat runs a cheap, indexed sweep that finds the due rows and enqueues one task per row, ids only, on
  commit (`sweep`); a service that creates such a row enqueues it at once, on commit, as a fast path
  (`enqueue`). Enqueueing never raises into a request: a broker failure is logged, the row stays due and
  the next sweep enqueues it;
- the task claims its row with one conditional UPDATE (`claim`: a lease with an expiry), makes its one
  outside call with the idempotency key from the row, settles, and releases (`Claim.release`). Another
  task for the same row (two sweeps, a redelivered message) finds it claimed and does nothing; a claim
  whose worker died expires and the next sweep enqueues the row again;
- transient trouble is retried through Celery with backoff and jitter (`TryLater`, `run_rows`): the row
  is released held back until the retry is due, so a sweep does not take it earlier; a task never sleeps;
- counters change in the UPDATE itself (`F("tries") + 1`), never read-then-write.

Tasks are safe on a threads (or gevent) pool: nothing here keeps state between calls, Django gives each
thread its own database connection, and the claim, not the process, decides who works on a row.
"""

import datetime
import logging
import random
from collections.abc import Callable, Iterable
from itertools import batched

from celery import shared_task
from django.db import connection, models, transaction
from django.db.models import Q
from django.db.models.sql import UpdateQuery
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

logger = logging.getLogger(__name__)

# A request publishing a task waits at most about this long for a broker that does not answer
# (connection refused: at once; unreachable: the transport's socket timeouts, settings.py).
PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
# How many due rows one sweep enqueues; the rest are found by the next sweep.
SWEEP_LIMIT = 500


class Leased(models.Model):
    """A row a task works on. `lease_until`: until when a worker's claim holds it (NULL: free). A row
    released after transient trouble keeps `lease_until` in the future: held back until its retry is due.
    `tries`: counted in the claiming UPDATE (`tries=F("tries") + 1`), or by the job when it sends a
    request; the job gives up at its own maximum."""

    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    tries = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True


def unclaimed(now: datetime.datetime) -> Q:
    """Rows no worker holds at `now` (never claimed, released, or whose claim has expired)."""
    return Q(lease_until__isnull=True) | Q(lease_until__lte=now)


class Claim:
    """A worker's hold on one row until `until`. Its `until` is also its token: release and extend only
    touch the row while it still carries it, so a claim that expired and was taken by another worker
    is never released by the first one."""

    def __init__(self, model: type[models.Model], pk: int, until: datetime.datetime,
                 row: models.Model | None = None):
        self.model, self.pk, self.until = model, pk, until
        self.row = row  # the row as the claim left it (claim(fetch=True)), else None

    def _mine(self):
        return self.model._default_manager.filter(pk=self.pk, lease_until=self.until)

    def extend(self, seconds: float) -> bool:
        """Keep the row longer (a long task's heartbeat). False: the claim was lost; stop working."""
        until = timezone.now() + datetime.timedelta(seconds=seconds)
        if not self._mine().update(lease_until=until):
            return False
        self.until = until
        return True

    def release(self, *, hold: float = 0, **changes) -> bool:
        """Give the row back, writing `changes` in the same UPDATE. `hold`: seconds during which nobody
        may claim it again (the backoff before its retry). False: the claim had been lost."""
        until = timezone.now() + datetime.timedelta(seconds=hold) if hold > 0 else None
        return bool(self._mine().update(lease_until=until, **changes))


def claim(model: type[models.Model], pk: int, *, seconds: float, due: Q, now=None, fetch: bool = False,
          **changes) -> Claim | None:
    """Take row `pk` for `seconds` if it is free and still due, in one statement:

        UPDATE … SET lease_until = now + seconds[, changes] WHERE pk = … AND
               (lease_until IS NULL OR lease_until <= now) AND <due> [RETURNING …]

    `changes` are written by the same UPDATE (`tries=F("tries") + 1`). `fetch`: the same statement
    returns the row, as `Claim.row` (no second statement to read what was claimed). None: another
    worker holds it, it is held back for a retry, or it is done."""
    now = now or timezone.now()
    until = now + datetime.timedelta(seconds=seconds)
    rows = model._default_manager.filter(unclaimed(now) & due, pk=pk)
    if not fetch:
        return Claim(model, pk, until) if rows.update(lease_until=until, **changes) else None
    update = rows.query.chain(UpdateQuery)
    update.add_update_values({"lease_until": until, **changes})
    compiler = update.get_compiler(rows.db)
    compiler.returning_fields = model._meta.concrete_fields
    statement, params = compiler.as_sql()
    # A raw queryset turns the returned columns into the model, through the fields' converters.
    taken = list(model._default_manager.raw(statement, params).using(rows.db))
    return Claim(model, pk, until, row=taken[0]) if taken else None


class BatchClaim:
    """A worker's hold on many rows of one table until `until` (`claim_many`); like Claim, `until` is its
    token, and releasing touches only the rows that still carry it."""

    def __init__(self, model: type[models.Model], pks: list[int], until: datetime.datetime):
        self.model, self.pks, self.until = model, pks, until

    def release(self, pks: Iterable[int] | None = None, *, hold: float = 0) -> int:
        """Give back `pks` (all the claimed rows by default), held back `hold` seconds. Returns how many
        were still ours."""
        pks = self.pks if pks is None else list(pks)
        if not pks:
            return 0
        until = timezone.now() + datetime.timedelta(seconds=hold) if hold > 0 else None
        return self.model._default_manager.filter(pk__in=pks, lease_until=self.until).update(lease_until=until)


def claim_many(model: type[models.Model], pks: Iterable[int], *, seconds: float, due: Q, now=None) -> BatchClaim:
    """Take the rows among `pks` that are free and still due, in one statement (a batched job):

        UPDATE … SET lease_until = now + seconds WHERE pk IN (
            SELECT pk … WHERE pk = ANY(…) AND (lease_until IS NULL OR lease_until <= now) AND <due>
            ORDER BY pk FOR UPDATE SKIP LOCKED) RETURNING pk

    A row another transaction is writing is skipped rather than waited for (its next sweep finds it).
    The claim's `pks` are the rows taken, in pk order."""
    now = now or timezone.now()
    until = now + datetime.timedelta(seconds=seconds)
    pks = sorted(set(pks))
    if not pks:
        return BatchClaim(model, [], until)
    due_rows = model._default_manager.filter(unclaimed(now) & due, pk__in=pks).order_by("pk").values("pk")
    select, params = due_rows.query.sql_with_params()
    table, pk_column = connection.ops.quote_name(model._meta.db_table), connection.ops.quote_name(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET lease_until = %s WHERE {pk_column} IN "
                       f"({select} FOR UPDATE SKIP LOCKED) RETURNING {pk_column}", [until, *params])
        taken = sorted(row[0] for row in cursor.fetchall())
    return BatchClaim(model, taken, until)


def backoff(tries: int, *, base: float, cap: float) -> float:
    """Seconds before try number `tries` + 1: doubling from `base` up to `cap`, with jitter (half of it
    random) so that rows failing together do not come back together."""
    ceiling = min(cap, base * 2 ** max(tries - 1, 0))
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # jitter, not a secret  # nosec B311


class ClaimLost(Exception):
    """A long task found, at its heartbeat (`Claim.extend`), that its claim had expired and been taken
    by another worker: it stops without writing anything more."""


class TryLater(Exception):
    """Raised by a row's work after transient trouble (the row already released, held back for
    `countdown` seconds): the task retries that row through Celery after the countdown."""

    def __init__(self, countdown: float):
        super().__init__(f"try again in {countdown:.0f} s")
        self.countdown = countdown


# ---- enqueueing --------------------------------------------------------------------------------------

# Broker priorities. With Redis, 0 is served first (kombu keeps one list per step, 0, 3, 6, 9, and a
# worker asks for them in that order); a message without a priority is 0. The filesystem broker of
# `make run` ignores them. AFTER is for work that may wait behind the rest without anyone waiting on it.
FIRST, AFTER = 0, 3


def publish(task, *args, countdown: float | None = None, priority: int = FIRST) -> bool:
    """Send `task(*args)` to the broker now. False when the broker is unavailable (logged, not raised)."""
    try:
        task.apply_async(args, countdown=countdown, priority=priority, retry=True, retry_policy=PUBLISH_RETRY_POLICY)
    except BrokerUnavailable as error:
        logger.warning("%s%r not queued, the broker is unavailable (%s): the next sweep queues it",
                       task.name, args, type(error.__cause__ or error).__name__)
        return False
    return True


def enqueue(task, *args, priority: int = FIRST) -> None:
    """Queue `task(*args)` once the caller's transaction commits (at once outside one): the fast path
    after a service wrote a due row. Never raises a broker failure into the caller."""
    transaction.on_commit(lambda: publish(task, *args, priority=priority))


def sweep(task, ids: Iterable[int], *, batch: int = 1) -> int:
    """Enqueue `task` for each due row id found by the caller's indexed query (one task per row, or
    `batch` ids per task when throughput needs it: each row is still claimed on its own). On commit; the
    first broker failure stops this sweep (logged once), the rows stay due for the next one. Returns
    how many rows were due."""
    ids = list(ids)

    def send() -> None:
        for chunk in batched(ids, batch):
            if not publish(task, *chunk):
                return

    if ids:
        transaction.on_commit(send)
    return len(ids)


# ---- the task side -----------------------------------------------------------------------------------

def job_task(**options):
    """A Celery task over rows: `task(self, *ids)`. acks_late with reject_on_worker_lost (a message is
    acknowledged once its work is done; a killed worker's message comes back, see settings.py), no retry
    limit of Celery's own (the row counts its tries and decides when to give up)."""
    defaults = {"bind": True, "acks_late": True, "reject_on_worker_lost": True, "max_retries": None,
                "ignore_result": True}
    return shared_task(**(defaults | options))


def run_rows(task, ids: Iterable[int], work: Callable[[int], object]) -> None:
    """Run `work(pk)` for each id, each row on its own: the rows that raise TryLater are retried together
    by one Celery retry after the longest countdown; a row failing unexpectedly is logged and left to its
    claim's expiry and the next sweep, the other rows go on, and the first such error is raised at the end
    (so the task is recorded as failed)."""
    later: dict[int, float] = {}
    failure = None
    for pk in ids:
        try:
            work(pk)
        except TryLater as trouble:
            later[pk] = trouble.countdown
        except Exception as error:
            logger.exception("%s: row %s failed; its claim expires and the next sweep takes it again",
                             task.name, pk)
            failure = failure or error
    if later and not getattr(getattr(task, "request", None), "is_eager", False):
        # Run inline (tests' eager mode) there is no countdown: the rows wait, held back, for the sweep.
        raise task.retry(args=list(later), countdown=max(later.values()))
    if failure is not None:
        raise failure


# ---- batched writes ----------------------------------------------------------------------------------

def update_rows(model: type[models.Model], rows: list[models.Model], fields: list[str]) -> int:
    """Write `fields` of many rows (already read, changed in Python) with one statement:

        UPDATE t SET f = v.f, … FROM (VALUES (pk, f, …), …) AS v(pk, f, …) WHERE t.pk = v.pk

    What Django's bulk_update does with a CASE per row and field, whose expressions cost a batched job
    more CPU than the statements it saves. Runs in the caller's transaction, with the rows it locked."""
    if not rows:
        return 0
    quote = connection.ops.quote_name
    pk = model._meta.pk
    columns = [pk, *(model._meta.get_field(name) for name in fields)]
    params, values = [], []
    for index, row in enumerate(rows):
        cells = []
        for field in columns:
            params.append(field.get_db_prep_save(getattr(row, field.attname), connection))
            cells.append(f"%s::{field.db_type(connection)}" if index == 0 else "%s")
        values.append(f"({', '.join(cells)})")
    names = ", ".join(quote(field.column) for field in columns)
    assignments = ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in columns[1:])
    table = quote(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join(values)}) AS v ({names}) "
                       f"WHERE {table}.{quote(pk.column)} = v.{quote(pk.column)}", params)
        return cursor.rowcount
