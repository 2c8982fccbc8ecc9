"""State changes of saved payment methods: the shop's switch and terms, the processor customer, saving a
card (from the profile, during a sale, or by the customer through an invitation), the default card,
deleting, and charging a saved card in a sale.

Processor calls happen outside our transactions, with idempotency keys derived from our rows (the
processor customer from its CardCustomer row, a card setup from its CardSetup row); detaching a card
at the processor is a CardDetachment row written with the deletion, done by the worker once committed
(saved_cards.tasks.detach_card, which runs saved_cards.upkeep: the work of a task never lives in the module
that queues it) and swept until done.
"""

from collections.abc import Collection
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import audit_record, require_owner_or_admin, snapshot
from accounts.tenancy import scoped
from payments.card_setups import CardSetupFailed, card_setup_result
from payments.gateway import MERCHANT, get_gateway
from payments.gateway.base import CardDetails
from payments.gateway.errors import GatewayError, ProcessorUnavailable
from payments.ids import payment_method_id_clean
from payments.models import Payment
from payments.services.charges import payment_charge, payment_create
from posbackoffice import jobs
from posbackoffice.errors import DomainError
from retail.models import Customer, Sale
from saved_cards import protection, selectors
from saved_cards.models import (
    MAX_CARDS_PER_CUSTOMER,
    CardCustomer,
    CardDetachment,
    CardInvite,
    CardSetup,
    SavedCard,
    SavedCardSettings,
    last_day_of,
)
from saved_cards.tasks import detach_card, sync_processor_customer

TERMS_VERSION = "2026-1"
SETTINGS_FIELDS = ("enabled", "terms_version", "terms_accepted_by", "terms_accepted_at")
CARD_FIELDS = ("customer", "brand", "last4", "exp_month", "exp_year", "is_default", "is_expired", "source",
               "added_by")


class FeatureOff(DomainError):
    def __init__(self):
        super().__init__(_("Saved payment methods are turned off for this shop. An Owner or Admin can turn them "
                           "on in Setup › General."), code="feature_off")


def limit_message() -> str:
    return _("This customer already has %(max)d saved cards, the most a profile can keep. Delete one before "
             "adding another.") % {"max": MAX_CARDS_PER_CUSTOMER}


def used_message() -> str:
    return _("This link has already been used: the card was added. Ask the shop for a new link to add another "
             "card.")


def consent_message() -> str:
    return _("Tick the box to confirm the customer authorised saving this card.")


def _unavailable(error: GatewayError) -> str:
    if isinstance(error, ProcessorUnavailable):
        return _("The card processor is not answering. Try again in a moment.")
    return _("The card processor refused the request.")


def require_enabled(account) -> None:
    if not selectors.feature_enabled(account):
        raise FeatureOff()


def lock_customer(account, customer_id: int) -> Customer:
    customer = scoped(Customer, account).select_for_update().filter(pk=customer_id).first()
    if customer is None:
        raise DomainError(_("This customer does not exist."))
    return customer


def _detach_later(account, processor: str, payment_method_id: str) -> None:
    """The card is let go in the caller's transaction: record that the processor must detach it."""
    detachment = CardDetachment.objects.create(account=account, processor=processor,
                                               payment_method_id=payment_method_id)
    jobs.enqueue(detach_card, detachment.pk)


# ---- the shop's switch --------------------------------------------------------------------------

def _require_owner_or_admin(actor, account) -> None:
    require_owner_or_admin(actor, account,
                           _("Only the Owner and Admin roles can turn saved payment methods on or off."))


def _lock_settings(account) -> SavedCardSettings:
    SavedCardSettings.objects.get_or_create(account=account)
    return scoped(SavedCardSettings, account).select_for_update().get()


@transaction.atomic
def saved_cards_enable(*, actor, account, accept_terms: bool, now=None) -> SavedCardSettings:
    """Turn the feature on; the Owner or an Admin accepts the terms of use (who and when are kept)."""
    now = now or timezone.now()
    _require_owner_or_admin(actor, account)
    if not accept_terms:
        raise DomainError(_("Accept the terms of use to turn saved payment methods on."))
    settings = _lock_settings(account)
    if settings.enabled:
        raise DomainError(_("Saved payment methods are already on."))
    before = snapshot(settings, SETTINGS_FIELDS)
    settings.enabled, settings.terms_version = True, TERMS_VERSION
    settings.terms_accepted_by, settings.terms_accepted_at, settings.changed_at = actor, now, now
    settings.save()
    audit_record(account=account, actor=actor, action="saved_cards.enabled", target=settings, before=before,
                 after=snapshot(settings, SETTINGS_FIELDS), at=now)
    return settings


@transaction.atomic
def saved_cards_disable(*, actor, account, now=None) -> SavedCardSettings:
    """Turn the feature off: saved cards disappear from every page and nothing can use them; they stay
    saved, ready for when the feature is on again (staff delete those a customer wants gone)."""
    now = now or timezone.now()
    _require_owner_or_admin(actor, account)
    settings = _lock_settings(account)
    if not settings.enabled:
        raise DomainError(_("Saved payment methods are already off."))
    before = snapshot(settings, SETTINGS_FIELDS)
    settings.enabled, settings.changed_at = False, now
    settings.save(update_fields=["enabled", "changed_at"])
    audit_record(account=account, actor=actor, action="saved_cards.disabled", target=settings, before=before,
                 after=snapshot(settings, SETTINGS_FIELDS), at=now)
    return settings


# ---- the processor customer ---------------------------------------------------------------------

# What the processor's copy of a customer holds: a change to these fields is sent to it.
PROCESSOR_CUSTOMER_FIELDS = frozenset({"first_name", "last_name", "company", "email"})


def card_customer_ensure(*, account, customer_id: int) -> str:
    """The processor's customer id for this customer, created once: our CardCustomer row first, then the
    processor call keyed by it, so a crash or a retry never makes a second processor customer."""
    gateway = get_gateway(MERCHANT)
    with transaction.atomic():
        customer = lock_customer(account, customer_id)
        link, created = CardCustomer.objects.get_or_create(account=account, customer=customer,
                                                           processor=gateway.name)
        if created:
            audit_record(account=account, actor=None, action="card_customer.created", target=customer,
                         after={"processor": gateway.name})
    if link.processor_customer_id:
        return link.processor_customer_id
    made = gateway.create_customer(
        **selectors.processor_customer_details(customer), idempotency_key=f"card-customer-{link.pk}",
        metadata={"customer": str(customer.pk), "account": str(account.pk)})
    CardCustomer.objects.filter(pk=link.pk).update(processor_customer_id=made.id)
    return made.id


def card_customer_follow(*, account, customer: Customer, changed: frozenset[str]) -> None:
    """retail's customer_update changed a customer (retail.customer_extensions), inside its transaction:
    when the processor keeps a copy of them and its name or e-mail changed, the copy is due to be sent
    again (its `details_version` moves on) and the worker sends it once committed."""
    if not changed & PROCESSOR_CUSTOMER_FIELDS:
        return
    copies = scoped(CardCustomer, account).filter(customer=customer).exclude(processor_customer_id="")
    due = list(copies.order_by("pk").values_list("pk", flat=True))
    if due:
        CardCustomer.objects.filter(pk__in=due).update(details_version=F("details_version") + 1, tries=0)
        for pk in due:
            jobs.enqueue(sync_processor_customer, pk)


# ---- saving a card --------------------------------------------------------------------------------

def _keep_card(*, account, customer: Customer, processor: str, processor_customer_id: str, payment_method_id: str,
               card: CardDetails, source: str, added_by, make_default: bool, now) -> tuple[SavedCard | None, str]:
    """Record a card the processor saved for this customer (locked by the caller). The same card saved
    again (same fingerprint) replaces the old entry. Refused (feature off, five cards already): the card
    is detached from the processor once committed, and (None, why) is returned."""
    payment_method_id = payment_method_id_clean(payment_method_id)
    cards = scoped(SavedCard, account).select_for_update().filter(customer=customer).order_by("pk")
    existing = [saved for saved in cards if card.fingerprint and saved.fingerprint == card.fingerprint]
    refusal = ""
    if not selectors.feature_enabled(account):
        refusal = str(FeatureOff().message)
    elif not existing and len(cards) >= MAX_CARDS_PER_CUSTOMER:
        refusal = limit_message()
    if refusal:
        _detach_later(account, processor, payment_method_id)
        audit_record(account=account, actor=added_by, action="saved_card.not_kept", target=customer,
                     after={"brand": card.brand, "last4": card.last4, "source": source, "reason": refusal}, at=now)
        return None, refusal
    replaced = existing[0] if existing else None
    before = snapshot(replaced, CARD_FIELDS) if replaced else None
    if replaced is not None:
        make_default = make_default or replaced.is_default
        replaced.delete()
        if replaced.payment_method_id != payment_method_id:
            _detach_later(account, replaced.processor, replaced.payment_method_id)
    has_default = any(saved.is_default for saved in cards if saved is not replaced)
    if make_default and has_default:
        cards.filter(is_default=True).update(is_default=False)
    expires_on = last_day_of(card.exp_year, card.exp_month)
    saved = SavedCard.objects.create(
        account=account, customer=customer, processor=processor, processor_customer_id=processor_customer_id,
        payment_method_id=payment_method_id, brand=card.brand or "unknown", last4=card.last4,
        exp_month=card.exp_month, exp_year=card.exp_year, expires_on=expires_on, fingerprint=card.fingerprint,
        is_default=make_default or not has_default, is_expired=expires_on < selectors.shop_today(account, now),
        source=source, added_by=added_by if getattr(added_by, "pk", None) else None, created_at=now)
    after = snapshot(saved, CARD_FIELDS)
    if replaced is not None:
        audit_record(account=account, actor=added_by, action="saved_card.replaced", target=saved, before=before,
                     after=after, at=now)
    else:
        audit_record(account=account, actor=added_by, action="saved_card.added", target=saved, after=after, at=now)
    return saved, ""


@dataclass(frozen=True)
class StartedSetup:
    setup: CardSetup
    client_secret: str  # for the browser's card-entry module (confirmSetup); never stored


def card_setup_start(*, actor, account, customer_id: int, consent: bool, source: str,
                     invite_id: int | None = None, now=None) -> StartedSetup:
    """Before the card is typed: check the shop, the consent and the limit, write our CardSetup, then ask
    the processor for a setup the browser confirms with the card (number and CVC never reach us)."""
    now = now or timezone.now()
    gateway = get_gateway(MERCHANT)
    with transaction.atomic():
        require_enabled(account)
        customer = lock_customer(account, customer_id)
        if not consent:
            raise DomainError(consent_message())
        if scoped(SavedCard, account).filter(customer=customer).count() >= MAX_CARDS_PER_CUSTOMER:
            raise DomainError(limit_message())
        invite = None
        if invite_id is not None:
            invite = scoped(CardInvite, account).select_for_update().get(pk=invite_id, customer=customer)
            invite_check(invite, now)
            invite.attempts += 1
            invite.save(update_fields=["attempts"])
        setup = CardSetup.objects.create(
            account=account, customer=customer, invite=invite, source=source, consent=True, processor=gateway.name,
            started_by=actor if getattr(actor, "pk", None) else None, created_at=now)
        audit_record(account=account, actor=actor, action="card_setup.started", target=customer,
                     after={"setup": setup.pk, "source": source, "consent": True, "invite": invite_id}, at=now)
    try:
        processor_customer_id = card_customer_ensure(account=account, customer_id=customer.pk)
        started = gateway.start_card_setup(customer_id=processor_customer_id, idempotency_key=f"card-setup-{setup.pk}",
                                           metadata={"card_setup": str(setup.pk), "account": str(account.pk)})
    except GatewayError as error:
        CardSetup.objects.filter(pk=setup.pk).update(outcome=CardSetup.Outcome.FAILED, failure_code=error.code[:60],
                                                     finished_at=timezone.now())
        raise DomainError(_unavailable(error)) from None
    CardSetup.objects.filter(pk=setup.pk).update(processor_customer_id=processor_customer_id,
                                                 processor_setup_id=started.id)
    setup.refresh_from_db()
    return StartedSetup(setup=setup, client_secret=started.client_secret)


def card_setup_finish(*, account, setup_id: int, invite_id: int | None = None, now=None) -> SavedCard:
    """The browser says the card is confirmed: ask the processor, then record the card it saved. A repeat
    answers the card already recorded."""
    require_enabled(account)
    setup = scoped(CardSetup, account).filter(pk=setup_id).first()
    if setup is None or setup.invite_id != invite_id:
        raise DomainError(_("This card setup does not exist."))
    if setup.outcome == CardSetup.Outcome.SAVED and setup.saved_card_id:
        return setup.saved_card
    if setup.outcome == CardSetup.Outcome.FAILED or not setup.processor_setup_id:
        raise DomainError(_("This card setup has ended. Start again."))
    try:
        method = card_setup_result(payee=MERCHANT, setup_id=setup.processor_setup_id,
                                   customer_id=setup.processor_customer_id)
    except GatewayError as error:
        raise DomainError(_unavailable(error)) from None
    except CardSetupFailed as failed:
        CardSetup.objects.filter(pk=setup.pk, outcome=CardSetup.Outcome.PENDING).update(
            outcome=CardSetup.Outcome.FAILED, failure_code=failed.failure_code[:60], finished_at=timezone.now())
        raise
    return _setup_keep(setup_id=setup.pk, payment_method_id=method.id, card=method.card, now=now or timezone.now())


def _setup_keep(*, setup_id: int, payment_method_id: str, card: CardDetails, now) -> SavedCard:
    with transaction.atomic():
        setup = CardSetup.objects.select_for_update().get(pk=setup_id)
        if setup.outcome == CardSetup.Outcome.SAVED and setup.saved_card_id:
            return setup.saved_card
        account = setup.account
        customer = lock_customer(account, setup.customer_id)
        invite = CardInvite.objects.select_for_update().get(pk=setup.invite_id) if setup.invite_id else None
        actor = setup.started_by or (invite.created_by if invite else None)
        if invite is not None and invite.used_at is not None:
            # Single use: another card was saved through this link meanwhile (a second tab).
            _detach_later(account, setup.processor, payment_method_id)
            saved, refusal = None, used_message()
        else:
            saved, refusal = _keep_card(
                account=account, customer=customer, processor=setup.processor,
                processor_customer_id=setup.processor_customer_id, payment_method_id=payment_method_id, card=card,
                source=setup.source, added_by=actor, make_default=setup.source == SavedCard.Source.UPDATE_LINK,
                now=now)
        setup.outcome = CardSetup.Outcome.SAVED if saved else CardSetup.Outcome.FAILED
        setup.failure_code, setup.saved_card, setup.finished_at = ("" if saved else "refused"), saved, now
        setup.save(update_fields=["outcome", "failure_code", "saved_card", "finished_at"])
        if saved and invite is not None:
            invite.used_at, invite.saved_card = now, saved
            invite.save(update_fields=["used_at", "saved_card"])
            audit_record(account=account, actor=None, action="card_invite.used", target=invite,
                         after={"card": saved.pk}, at=now)
    if refusal:
        raise DomainError(refusal)
    return saved


def saved_card_record_from_payment(*, payment: Payment, card: CardDetails, now=None) -> SavedCard | None:
    """A sale's card payment, made with "Save payment details for future purchases", succeeded and the
    processor saved the card: record it for the sale's customer (called by payments.card_saving, inside
    the settling transaction). Refused, the card is detached again and the payment stands."""
    now = now or timezone.now()
    with transaction.atomic():
        customer = lock_customer(payment.account, payment.customer_id)
        saved, _refusal = _keep_card(
            account=payment.account, customer=customer, processor=payment.processor,
            processor_customer_id=payment.processor_customer_id, payment_method_id=payment.payment_method_id,
            card=card, source=SavedCard.Source.SALE, added_by=payment.created_by, make_default=False, now=now)
    return saved


# ---- the default card, deleting: the profile's "Save changes" ------------------------------------

@dataclass(frozen=True)
class CardChanges:
    """What `customer_cards_update` changed: the new default card (None: unchanged) and the cards deleted."""

    default: SavedCard | None
    deleted: list[SavedCard]
    promoted: SavedCard | None  # the card that became the default because the default one was deleted


@transaction.atomic
def customer_cards_update(*, actor, account, customer_id: int, default_card_id: int | None = None,
                          delete_card_ids: Collection[int] = (), now=None) -> CardChanges:
    """Apply what was chosen on the profile's saved cards before "Save changes": the card to make the
    default and the cards to delete, all or nothing. The default changes first, so a default card whose
    customer owes a balance can go once another card is the default. A card something relies on is
    refused, saying why (saved_cards.protection). When the default card goes and none was chosen, the
    most recent valid card becomes the default. Deleted cards are detached from the processor once
    committed."""
    now = now or timezone.now()
    require_enabled(account)
    lock_customer(account, customer_id)
    cards = list(scoped(SavedCard, account).select_for_update().filter(customer_id=customer_id)
                 .select_related("customer").order_by("pk"))
    by_id = {card.pk: card for card in cards}
    delete_ids = set(delete_card_ids)
    if any(card_id not in by_id for card_id in delete_ids | ({default_card_id} - {None})):
        raise DomainError(_("This saved card does not exist."))
    today = selectors.shop_today(account, now)
    previous = next((card for card in cards if card.is_default), None)
    chosen = by_id.get(default_card_id) if default_card_id is not None else None
    if chosen is previous:
        chosen = None  # already the default: nothing to change
    if chosen is not None:
        if chosen.pk in delete_ids:
            raise DomainError(_("A card chosen to be deleted cannot also be the default card."))
        if chosen.expired_on(today):
            raise DomainError(_("An expired card cannot be the default card."))
        if previous is not None:
            previous.is_default = False
            previous.save(update_fields=["is_default"])
        chosen.is_default = True
        chosen.save(update_fields=["is_default"])
        audit_record(account=account, actor=actor, action="saved_card.default_set", target=chosen,
                     before={"default": previous.pk if previous else None}, after={"default": chosen.pk}, at=now)
    deleted = [card for card in cards if card.pk in delete_ids]
    remaining = [card for card in cards if card.pk not in delete_ids]
    for card in deleted:
        reasons = protection.reasons(card)
        if reasons:
            raise DomainError(" ".join(reasons), code="protected")
        card_id, before = card.pk, snapshot(card, CARD_FIELDS)
        card.delete()
        _detach_later(account, card.processor, card.payment_method_id)
        audit_record(account=account, actor=actor, action="saved_card.deleted", target=card.customer, before=before,
                     after={"card": card_id}, at=now)
    promoted = None
    if deleted and not any(card.is_default for card in remaining):
        valid = [card for card in remaining if not card.expired_on(today)]
        promoted = max(valid, key=lambda card: (card.created_at, card.pk), default=None)
        if promoted is not None:
            promoted.is_default = True
            promoted.save(update_fields=["is_default"])
            audit_record(account=account, actor=actor, action="saved_card.default_set", target=promoted,
                         before={"default": None}, after={"default": promoted.pk}, at=now)
    return CardChanges(default=chosen, deleted=deleted, promoted=promoted)


# ---- a sale paid with a saved card --------------------------------------------------------------

def saved_card_charge(*, actor, account, sale_id: int, card_id: int, amount: int, now=None) -> Payment:
    """Charge the sale's customer's saved card (off-session): our Payment first, then the processor
    (payments.services); a decline leaves the sale open, a success pays it (the cashier completes it)."""
    now = now or timezone.now()
    require_enabled(account)
    sale = scoped(Sale, account).select_related("register").filter(pk=sale_id).first()
    if sale is None or sale.customer_id is None:
        raise DomainError(_("Attach the customer to the sale first."))
    card = scoped(SavedCard, account).filter(customer_id=sale.customer_id, pk=card_id).first()
    if card is None:
        raise DomainError(_("Choose one of the customer's saved cards."))
    if card.expired_on(selectors.shop_today(account, now)):
        raise DomainError(_("This card has expired. Choose another card, or ask the customer for a new one."))
    if card.processor != get_gateway(MERCHANT).name:
        raise DomainError(_("This card was saved with another card processor and cannot be charged."))
    payment = payment_create(
        actor=actor, account=account, amount=amount, currency=sale.currency, method=Payment.Method.SAVED_CARD,
        mode=Payment.Mode.INTEGRATED, sale_id=sale.pk, payment_method_id=card.payment_method_id,
        processor_customer_id=card.processor_customer_id,
        description=_("Sale on %(register)s") % {"register": sale.register.name})
    return payment_charge(payment_id=payment.pk)


# ---- invitations: the customer types their own card (created in saved_cards.invites) ---------------

MAX_INVITE_ATTEMPTS = 5


class InviteUnusable(DomainError):
    """codes: used, expired, attempts, feature_off."""


def invite_check(invite: CardInvite, now) -> None:
    """Refuse an invitation that cannot save a card any more, saying why."""
    if invite.used_at is not None:
        raise InviteUnusable(used_message(), code="used")
    if invite.expires_at <= now:
        raise InviteUnusable(_("This link has expired. Ask the shop for a new one."), code="expired")
    if invite.attempts >= MAX_INVITE_ATTEMPTS:
        raise InviteUnusable(_("Too many attempts were made with this link. Ask the shop for a new one."),
                             code="attempts")
    if not selectors.feature_enabled(invite.account):
        raise InviteUnusable(_("This shop no longer saves payment methods."), code="feature_off")
