"""The sandbox processor's own state, shaped like Stripe's objects and kept apart from merchant records
(no account, no foreign key to our Payment). It lives in the database so the web process, the Celery
worker and the tests all see the same processor.

Never stored: a card number or a CVC. A payment method keeps what Stripe would show us (brand, last 4,
expiry, fingerprint) plus the behaviour its test number asked for.
"""

from django.db import models
from django.utils import timezone


class CardBehaviour(models.TextChoices):
    """What a card does at the processor, from Stripe's documented test numbers."""

    SUCCEED = "succeed"
    GENERIC_DECLINE = "generic_decline"  # 4000000000000002
    INSUFFICIENT_FUNDS = "insufficient_funds"  # 4000000000009995
    EXPIRED_CARD = "expired_card"  # 4000000000000069
    INCORRECT_CVC = "incorrect_cvc"  # 4000000000000127
    CHARGE_FAILS = "charge_fails"  # 4000000000000341: saves fine, every charge is declined
    AUTHENTICATION_REQUIRED = "authentication_required"  # 4000002500003155, 4000002760003184


class SandboxCustomer(models.Model):
    id = models.CharField(primary_key=True, max_length=40)
    email = models.CharField(max_length=254, blank=True)
    name = models.CharField(max_length=200, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.id


class SandboxPaymentMethod(models.Model):
    id = models.CharField(primary_key=True, max_length=40)
    brand = models.CharField(max_length=20)
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()
    fingerprint = models.CharField(max_length=32)  # a keyed hash: the same card gives the same value
    # Stripe's billing_details.address.postal_code, when the card form asked for it (the bank's address check).
    billing_postal_code = models.CharField(max_length=10, blank=True)
    behaviour = models.CharField(max_length=30, choices=CardBehaviour.choices, default=CardBehaviour.SUCCEED)
    type = models.CharField(max_length=20, default="card")  # "card_present": read by a Terminal reader
    customer = models.ForeignKey(SandboxCustomer, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="payment_methods")
    attached_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["customer", "-attached_at"], name="sbx_pm_customer")]

    def __str__(self):
        return f"{self.id} ({self.brand} •••• {self.last4})"


class SandboxSetupIntent(models.Model):
    class Status(models.TextChoices):
        REQUIRES_PAYMENT_METHOD = "requires_payment_method"
        REQUIRES_ACTION = "requires_action"
        SUCCEEDED = "succeeded"
        CANCELED = "canceled"

    id = models.CharField(primary_key=True, max_length=40)
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.REQUIRES_PAYMENT_METHOD)
    client_secret = models.CharField(max_length=100)
    customer = models.ForeignKey(SandboxCustomer, on_delete=models.PROTECT, related_name="setup_intents")
    payment_method = models.ForeignKey(SandboxPaymentMethod, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="setup_intents")
    # Stripe's last_setup_error: code (card_declined, setup_intent_authentication_failure...), decline_code.
    failure_code = models.CharField(max_length=60, blank=True)
    decline_code = models.CharField(max_length=60, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.id


class SandboxPaymentIntent(models.Model):
    class Status(models.TextChoices):
        REQUIRES_PAYMENT_METHOD = "requires_payment_method"
        REQUIRES_ACTION = "requires_action"
        PROCESSING = "processing"
        SUCCEEDED = "succeeded"
        CANCELED = "canceled"

    id = models.CharField(primary_key=True, max_length=40)
    status = models.CharField(max_length=30, choices=Status.choices)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    amount_refunded = models.BigIntegerField(default=0)
    client_secret = models.CharField(max_length=100)
    payment_method = models.ForeignKey(SandboxPaymentMethod, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="payment_intents")
    customer = models.ForeignKey(SandboxCustomer, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="payment_intents")
    off_session = models.BooleanField(default=False)
    # Stripe's setup_future_usage: "off_session" saves the card to the customer once the payment succeeds.
    setup_future_usage = models.CharField(max_length=20, blank=True)
    description = models.CharField(max_length=500, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # Stripe's last_payment_error: code (card_declined, expired_card...), decline_code, message.
    failure_code = models.CharField(max_length=60, blank=True)
    decline_code = models.CharField(max_length=60, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    idempotency_key = models.CharField(max_length=255, blank=True, db_index=True)
    # Stripe's payment_method_types: "card" (typed or saved) or "card_present" (a Terminal reader takes it).
    payment_method_type = models.CharField(max_length=20, default="card")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.id


class SandboxRefund(models.Model):
    id = models.CharField(primary_key=True, max_length=40)
    payment_intent = models.ForeignKey(SandboxPaymentIntent, on_delete=models.PROTECT, related_name="refunds")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, default="succeeded")
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.id


class SandboxIdempotencyKey(models.Model):
    """Stripe's idempotency contract: the first completed request under a key is stored (its answer or
    the card error it raised) and replayed for every repeat; a repeat with other parameters is refused."""

    key = models.CharField(max_length=255, unique=True)
    operation = models.CharField(max_length=40)
    request_hash = models.CharField(max_length=64)
    response = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.key


class SandboxEvent(models.Model):
    """An event the sandbox emitted, in Stripe's shape, and whether it reached our webhook handler."""

    event_id = models.CharField(max_length=40, unique=True)  # "evt_sbx_…"; the auto id keeps emission order
    type = models.CharField(max_length=60)
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    delivery_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["delivered_at", "id"], name="sbx_event_undelivered")]

    def __str__(self):
        return f"{self.event_id} {self.type}"


class SandboxLocation(models.Model):
    """Stripe Terminal's Location."""

    id = models.CharField(primary_key=True, max_length=40)
    display_name = models.CharField(max_length=100)
    address = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.id


class SandboxReader(models.Model):
    """A simulated WisePOS E, server-driven: it does what the API asks (`action`, Stripe's reader.action
    as JSON, or None) and is online while its device keeps in touch (`last_seen_at`, the heartbeat)."""

    id = models.CharField(primary_key=True, max_length=40)
    label = models.CharField(max_length=100, blank=True)
    serial_number = models.CharField(max_length=40)
    device_type = models.CharField(max_length=40, default="simulated_wisepos_e")
    location = models.ForeignKey(SandboxLocation, on_delete=models.PROTECT, related_name="readers")
    metadata = models.JSONField(default=dict, blank=True)
    action = models.JSONField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    deleted = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.id
