"""Thin tasks of saved cards: plain values in, a service call, retries on transient processor trouble."""

from celery import shared_task

from payments.gateway.errors import ProcessorUnavailable
from saved_cards.upkeep import processor_card_detach, saved_cards_mark_expired


@shared_task(autoretry_for=(ProcessorUnavailable,), retry_backoff=5, retry_backoff_max=600, max_retries=10)
def detach_card(*, processor: str, payment_method_id: str) -> None:
    processor_card_detach(processor=processor, payment_method_id=payment_method_id)


@shared_task
def mark_expired_cards() -> int:
    """Beat, daily: cards whose expiry month is over are marked expired."""
    return saved_cards_mark_expired()
