"""Saved payment methods of customers (seed 004): the shop's switch and terms acceptance, the processor
customer of each retail customer, the saved cards themselves, the card setups in progress, and the
invitations that let a customer type their own card on their phone (QR code) or from an e-mailed link.

Never stored: a card number, a CVC or a postcode. A saved card keeps the processor's ids, brand, last 4,
expiry and fingerprint, who added it and when — nothing else of the card.
"""

import calendar
import datetime

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel, User
from posbackoffice.jobs import Leased

MAX_CARDS_PER_CUSTOMER = 5


class SavedCardSettings(TenantModel):
    """Setup › General › Saved payment method: on or off, and who accepted the terms of use, when."""

    enabled = models.BooleanField(_("saved payment methods enabled"), default=False)
    terms_version = models.CharField(max_length=20, blank=True)
    terms_accepted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    terms_accepted_at = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("saved payment method settings")
        constraints = [models.UniqueConstraint(fields=["account"], name="saved_card_settings_one_per_account")]

    def __str__(self):
        return f"saved payment method settings of {self.account_id}"


class CardCustomer(TenantModel, Leased):
    """The processor's customer for one of our customers, created once (idempotency key from this row).
    Its name and e-mail at the processor follow ours: a change of them bumps `details_version` in the
    changing transaction, and the worker (saved_cards.tasks.sync_processor_customer, swept until done)
    sends the current details and records the version it sent as `synced_version`."""

    MAX_TRIES = 10

    customer = models.ForeignKey("retail.Customer", on_delete=models.PROTECT, related_name="+")
    processor = models.CharField(max_length=20)
    processor_customer_id = models.CharField(max_length=100, blank=True)  # empty until the processor answered
    details_version = models.PositiveIntegerField(default=0)
    synced_version = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("processor customer")
        constraints = [models.UniqueConstraint(fields=["customer", "processor"], name="card_customer_once")]
        indexes = [models.Index(fields=["created_at"], condition=Q(synced_version__lt=F("details_version")),
                                name="card_customer_sync_due")]

    def __str__(self):
        return self.processor_customer_id or f"processor customer of {self.customer_id} (pending)"


def last_day_of(year: int, month: int) -> datetime.date:
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


class SavedCard(TenantModel):
    class Source(models.TextChoices):
        PROFILE = "profile", _("Staff, on the customer profile")
        SALE = "sale", _("Staff, during a sale")
        QR_INVITE = "qr_invite", _("The customer, by QR code")
        UPDATE_LINK = "update_link", _("The customer, by e-mailed link")

    customer = models.ForeignKey("retail.Customer", on_delete=models.PROTECT, related_name="saved_cards")
    processor = models.CharField(max_length=20)
    processor_customer_id = models.CharField(max_length=100)
    payment_method_id = models.CharField(max_length=100)
    brand = models.CharField(_("brand"), max_length=20)
    last4 = models.CharField(_("last 4 digits"), max_length=4)
    exp_month = models.PositiveSmallIntegerField(_("expiry month"))
    exp_year = models.PositiveSmallIntegerField(_("expiry year"))
    # The last day the card can be used (end of its expiry month): what the expiry queries compare.
    expires_on = models.DateField(_("expires on"))
    fingerprint = models.CharField(max_length=64, blank=True)  # the processor's: the same card, the same value
    is_default = models.BooleanField(_("default card"), default=False)
    # Set by the daily task once the expiry month is over; pages also compare expires_on with today.
    is_expired = models.BooleanField(_("expired"), default=False)
    source = models.CharField(max_length=20, choices=Source.choices)
    added_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("saved card")
        ordering = ["-is_default", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["processor", "payment_method_id"], name="saved_card_method_once"),
            models.UniqueConstraint(fields=["customer"], condition=Q(is_default=True), name="saved_card_one_default"),
        ]
        indexes = [
            models.Index(fields=["account", "expires_on"], name="saved_card_default_expiry",
                         condition=Q(is_default=True)),
            models.Index(fields=["is_expired", "expires_on"], name="saved_card_to_expire"),
        ]

    def __str__(self):
        return f"{self.brand_label} •••• {self.last4}"

    @property
    def brand_label(self) -> str:
        return {"amex": "American Express", "mastercard": "Mastercard", "visa": "Visa", "diners": "Diners Club",
                "jcb": "JCB", "unionpay": "UnionPay", "discover": "Discover"}.get(self.brand, self.brand.title())

    @property
    def expiry(self) -> str:
        return f"{self.exp_month:02d}/{self.exp_year % 100:02d}"

    def expired_on(self, today: datetime.date) -> bool:
        return self.is_expired or self.expires_on < today


class CardSetup(TenantModel):
    """A card being saved: our row first, then the processor's setup under a key derived from it; the
    browser confirms it with the processor, then we record the card."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Waiting for the card")
        SAVED = "saved", _("Card saved")
        FAILED = "failed", _("Failed")

    customer = models.ForeignKey("retail.Customer", on_delete=models.PROTECT, related_name="+")
    invite = models.ForeignKey("CardInvite", null=True, blank=True, on_delete=models.PROTECT, related_name="setups")
    source = models.CharField(max_length=20, choices=SavedCard.Source.choices)
    consent = models.BooleanField(default=False)  # the customer authorised saving the card
    processor = models.CharField(max_length=20)
    processor_customer_id = models.CharField(max_length=100, blank=True)
    processor_setup_id = models.CharField(max_length=100, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    failure_code = models.CharField(max_length=60, blank=True)
    saved_card = models.ForeignKey(SavedCard, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    started_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("card setup")

    def __str__(self):
        return f"card setup {self.pk} ({self.outcome})"


class CardInvite(TenantModel):
    """A single-use, expiring link to /card/…: the customer types their own card on their phone (QR
    code on the staff screen) or from an e-mail (card-update link). The URL carries `key` signed."""

    class Kind(models.TextChoices):
        QR = "qr", _("QR code")
        EMAIL = "email", _("E-mailed link")

    customer = models.ForeignKey("retail.Customer", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    key = models.CharField(max_length=40, unique=True)
    sent_to = models.EmailField(blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)  # card setups started from this link
    used_at = models.DateTimeField(null=True, blank=True)
    saved_card = models.ForeignKey(SavedCard, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("card invitation")

    def __str__(self):
        return f"card invitation {self.pk} ({self.kind})"


class CardDetachment(TenantModel, Leased):
    """A card to detach from the processor (deleted, replaced or refused here), so it can never be charged
    again: written in the transaction that let the card go, then done by the worker
    (saved_cards.tasks.detach_card) and swept until done; after MAX_TRIES it stays here, not detached,
    visible in the admin with its last error code."""

    MAX_TRIES = 10

    processor = models.CharField(max_length=20)
    payment_method_id = models.CharField(max_length=100)
    last_error = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    detached_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("card to detach")
        verbose_name_plural = _("cards to detach")
        indexes = [models.Index(fields=["created_at"], condition=Q(detached_at__isnull=True),
                                name="card_detachment_due")]

    def __str__(self):
        return f"detach {self.payment_method_id}"
