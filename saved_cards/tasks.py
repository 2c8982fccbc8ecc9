"""Thin tasks of saved cards: plain values in, a service call, retries on transient processor trouble."""

from celery import shared_task

from payments.gateway.errors import ProcessorUnavailable


@shared_task(autoretry_for=(ProcessorUnavailable,), retry_backoff=5, retry_backoff_max=600, max_retries=10)
def detach_card(*, processor: str, payment_method_id: str) -> None:
    from saved_cards.services import processor_card_detach

    processor_card_detach(processor=processor, payment_method_id=payment_method_id)


@shared_task(autoretry_for=(ProcessorUnavailable,), retry_backoff=5, retry_backoff_max=600, max_retries=10)
def sync_processor_customer(*, account_id: int, customer_id: int) -> int:
    """A customer's name or e-mail changed: the processor's copy follows."""
    from accounts.models import Account
    from saved_cards.services import card_customer_sync

    return card_customer_sync(account=Account.objects.get(pk=account_id), customer_id=customer_id)


@shared_task
def mark_expired_cards() -> int:
    """Beat, daily: cards whose expiry month is over are marked expired."""
    from saved_cards.services import saved_cards_mark_expired

    return saved_cards_mark_expired()
