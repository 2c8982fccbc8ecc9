"""Thin tasks of saved cards: ids in, a call of their work in saved_cards.upkeep (posbackoffice.jobs)."""

from celery import shared_task
from django.utils import timezone

from posbackoffice import jobs
from saved_cards.upkeep import (
    card_customer_sync,
    card_customers_to_sync,
    card_detachment_run,
    card_detachments_due,
    saved_cards_mark_expired,
)


@jobs.job_task()
def detach_card(self, *detachment_ids: int) -> None:
    """Detach let-go cards at the processor (saved_cards.upkeep.card_detachment_run), each claimed on
    its own; transient processor trouble is retried with backoff."""
    jobs.run_rows(self, detachment_ids, lambda pk: card_detachment_run(detachment_id=pk))


@shared_task
def sweep_card_detachments() -> int:
    """Beat: enqueue the detachments not done yet (their task was lost, or their retry was)."""
    return jobs.sweep(detach_card, card_detachments_due(timezone.now()))


@jobs.job_task()
def sync_processor_customer(self, *card_customer_ids: int) -> None:
    """A customer's name or e-mail changed: the processor's copy follows (saved_cards.upkeep.card_customer_sync),
    each claimed on its own; transient processor trouble is retried with backoff."""
    jobs.run_rows(self, card_customer_ids, lambda pk: card_customer_sync(card_customer_id=pk))


@shared_task
def sweep_processor_customers() -> int:
    """Beat: enqueue the processor customers whose new details were not sent yet."""
    return jobs.sweep(sync_processor_customer, card_customers_to_sync(timezone.now()))


@shared_task
def mark_expired_cards() -> int:
    """Beat, daily: cards whose expiry month is over are marked expired. A sweep whose work is a local
    update (no outside call) does it in place, on the indexed rows; a missed day is caught the next."""
    return saved_cards_mark_expired()
