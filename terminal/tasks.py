"""Thin tasks of the card readers' driver (terminal.driver): ids in, one driver step each. No task waits
on a reader: the sweep finds the actions whose answer is late and checks them once."""

from celery import shared_task
from django.utils import timezone

from posbackoffice import jobs


@jobs.job_task()
def send_reader_action(self, *action_ids: int) -> None:
    """Hand queued actions to their readers (the request usually did; this is the fallback)."""
    from terminal.driver import action_send

    jobs.run_rows(self, action_ids, lambda pk: action_send(action_id=pk, inline=False))


@jobs.job_task()
def check_reader_action(self, *action_ids: int) -> None:
    """Ask the processor how the reader is doing with each action; settle what ended, time out what the
    reader stopped answering about, send what was never sent."""
    from terminal.driver import action_check

    jobs.run_rows(self, action_ids, lambda pk: action_check(action_id=pk))


@shared_task
def check_reader_actions() -> int:
    """Beat, every 30 seconds: the open actions nobody asked about lately (a lost webhook, a closed sell
    screen, a reader gone offline)."""
    from terminal.driver import actions_due

    return jobs.sweep(check_reader_action, actions_due(timezone.now()))
