"""Builders for the saved-card tests: the feature turned on through its service, cards saved the way
the browser saves them (a real sandbox setup confirmed with a test card), rows written straight for
states that are slow to reach, and a snapshot of everything a refused action must leave untouched."""

import datetime
import itertools

from django.utils import timezone

from accounts.models import AuditEvent
from payments.gateway.sandbox import SandboxGateway
from payments.models import Payment
from payments.sandbox import services as processor
from payments.sandbox.models import SandboxPaymentMethod
from saved_cards import invites, services
from saved_cards.models import CardCustomer, CardInvite, CardSetup, SavedCard, SavedCardSettings, last_day_of
from tests.factories import owner_of

VISA = "4242424242424242"
MASTERCARD = "5555555555554444"
DECLINES_WHEN_CHARGED = "4000000000000341"
NEEDS_AUTHENTICATION = "4000002500003155"
DECLINED = "4000000000000002"

_numbers = itertools.count(1)


def luhn_number(prefix: str, length: int = 16) -> str:
    """A card number that passes the Luhn check (a different card for each prefix), succeeding at the
    sandbox like 4242424242424242."""
    body = prefix.ljust(length - 1, "0")
    total = 0
    for position, char in enumerate(reversed(body)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return body + str((10 - total % 10) % 10)


def enable(account):
    """The owner turns the feature on and accepts the terms."""
    return services.saved_cards_enable(actor=owner_of(account), account=account, accept_terms=True)


def confirm_in_browser(client_secret: str, number: str = VISA, expiry: str = "12/40") -> str:
    """What the card-entry module does with a setup's client secret: tokenize the card at the sandbox
    and confirm the setup (answering the bank's question when it asks). The payment method id."""
    method = processor.payment_method_create(number=number, expiry=expiry, cvc="123")["id"]
    setup_id = client_secret.split("_secret_")[0]
    setup = processor.setup_intent_confirm(setup_id=setup_id, client_secret=client_secret, payment_method_id=method)
    if setup["status"] == "requires_action":
        processor.setup_intent_authenticate(setup_id=setup_id, client_secret=client_secret, approve=True)
    return method


def save_card(customer, *, number: str = VISA, expiry: str = "12/40", actor=None,
              source=SavedCard.Source.PROFILE) -> SavedCard:
    """A card saved from the profile, through the services and the sandbox (the feature must be on)."""
    actor = actor or owner_of(customer.account)
    started = services.card_setup_start(actor=actor, account=customer.account, customer_id=customer.pk, consent=True,
                                        source=source)
    confirm_in_browser(started.client_secret, number, expiry)
    return services.card_setup_finish(account=customer.account, setup_id=started.setup.pk)


def card_row(customer, *, last4: str = "4242", exp: tuple[int, int] = (12, 2040), is_default: bool = False,
             created_at=None, **fields) -> SavedCard:
    """A saved card written straight (no processor behind it): for listing, ordering and access tests."""
    number = next(_numbers)
    values = {"processor": "sandbox", "processor_customer_id": f"cus_row_{customer.pk}",
              "payment_method_id": f"pm_row_{number}", "brand": "visa", "last4": last4, "exp_month": exp[0],
              "exp_year": exp[1], "expires_on": last_day_of(exp[1], exp[0]), "fingerprint": f"fp{number}",
              "is_default": is_default, "source": SavedCard.Source.PROFILE, "added_by": owner_of(customer.account),
              "created_at": created_at or timezone.now()}
    values.update(fields)
    return SavedCard.objects.create(account=customer.account, customer=customer, **values)


def qr_invite(customer, *, kind=CardInvite.Kind.QR) -> CardInvite:
    return invites.card_invite_create(actor=owner_of(customer.account), account=customer.account,
                                      customer_id=customer.pk, kind=kind)


def invite_row(customer, *, kind=CardInvite.Kind.QR, expires_in=datetime.timedelta(minutes=20), **fields):
    """An invitation written straight (works with the feature off: the URL walk's samples)."""
    now = timezone.now()
    values = {"kind": kind, "key": f"key-{next(_numbers)}-{customer.pk}", "created_by": owner_of(customer.account),
              "created_at": now, "expires_at": now + expires_in}
    values.update(fields)
    return CardInvite.objects.create(account=customer.account, customer=customer, **values)


def setup_row(customer, **fields) -> CardSetup:
    values = {"source": SavedCard.Source.PROFILE, "consent": True, "processor": "sandbox",
              "processor_customer_id": "cus_row", "processor_setup_id": f"seti_row_{next(_numbers)}"}
    values.update(fields)
    return CardSetup.objects.create(account=customer.account, customer=customer, **values)


def cards_state(account) -> dict:
    """Everything of saved cards an action could change, for "a refused action changed nothing"."""
    return {
        "settings": list(SavedCardSettings.objects.filter(account=account).values_list(
            "enabled", "terms_accepted_by", "terms_accepted_at")),
        "cards": list(SavedCard.objects.filter(account=account).order_by("pk").values_list(
            "pk", "customer_id", "payment_method_id", "is_default", "is_expired")),
        "setups": list(CardSetup.objects.filter(account=account).order_by("pk").values_list("pk", "outcome")),
        "invites": list(CardInvite.objects.filter(account=account).order_by("pk").values_list(
            "pk", "used_at", "attempts")),
        "card_customers": CardCustomer.objects.filter(account=account).count(),
        "payments": list(Payment.objects.filter(account=account).order_by("pk").values_list("pk", "status")),
        "attached": sorted(SandboxPaymentMethod.objects.filter(customer__isnull=False).values_list("pk", flat=True)),
        "audit": AuditEvent.objects.filter(account=account).count(),
    }


def sandbox_cards(processor_customer_id: str) -> list[str]:
    return [card.id for card in SandboxGateway().list_cards(processor_customer_id)]
