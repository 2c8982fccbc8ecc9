"""Money integrity, randomized: a Hypothesis RuleBasedStateMachine over the services, on PostgreSQL, with
the sandbox processor. Each run is a new merchant account (a shop, a register, a customer with a saved card,
a subscription, online payments on); the rules sell, pay, bill, refund, deliver webhooks and break the
processor in between, in any order Hypothesis picks, and every invariant is checked after every step.

Faults (payments.gateway.sandbox.faults), each on the call that moves money:
- "500": the processor fails before doing anything (a 500, the request lost), every try;
- "timeout": the processor does the work but the answer never comes (an unknown outcome), every try;
- "crash": our process dies between our row and the processor's answer (the exception leaves the
  attempt pending; nothing in this process settles it).
Whatever was left pending is settled by the reconciliation the beat sweep runs (`reconcile` rule), and the
processor's webhooks arrive late, twice, in any order, or forged.

The invariants are the ones the reconciliation (payments.reconciliation.compare) checks, and more:
`check_all(account)` below. `COUNTS` gathers figures for the bench (steps, faults, discrepancies).
"""

import datetime
import json
from collections import Counter, defaultdict

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from accounts.models import AuditEvent
from paylinks.models import PayLink
from paylinks.services import pay_link_send, pay_link_start_payment, paylink_settings_update
from payments import reconciliation
from payments.gateway import sandbox
from payments.models import Payment, PaymentAttempt, Refund, WebhookEvent
from payments.sandbox import services as processor
from payments.sandbox.events import payload_bytes, sign
from payments.sandbox.models import SandboxEvent, SandboxPaymentIntent, SandboxRefund
from payments.services.charges import payment_charge, payment_create
from payments.services.reconciling import payment_reconcile
from payments.services.refunds import refund_create, refund_reconcile, refund_send
from payments.webhook_events import webhook_event_process
from payments.webhooks import BadSignature, deliver_sandbox_event
from posbackoffice.errors import DomainError
from retail.models import Customer, Sale, SalePayment
from retail.services.sales import sale_add_payment, sale_complete, sale_set_customer
from saved_cards.services import saved_card_charge
from subscriptions import billing
from subscriptions.models import Subscription
from tests.factories import AccountFactory
from tests.retail import report_factories as rf
from tests.subscriptions.builders import declines, monthly_box, subs_shop, subscribe, subscriber, succeeds

VISA, DECLINED = "4242424242424242", "4000000000000002"
FAULTS = ("none", "none", "500", "timeout", "crash")
COUNTS: Counter = Counter()


class Crash(Exception):
    """Our process died between our row and the processor's answer."""


def _with_fault(fault: str, operation: str, work):
    """Run `work()` with the fault injected into the processor's `operation`."""
    if fault != "none":
        COUNTS["faults"] += 1
        COUNTS[f"fault:{fault}"] += 1
    if fault == "500":
        with sandbox.faults("before", operation=operation, times=None):
            return work()
    if fault == "timeout":
        with sandbox.faults("after", operation=operation, times=None):
            return work()
    if fault == "crash":
        original = sandbox.SandboxGateway._call

        def die_after(self, name, run):
            result = original(self, name, run)
            if name == operation:
                raise Crash(name)
            return result

        sandbox.SandboxGateway._call = die_after
        try:
            return work()
        except Crash:
            return None
        finally:
            sandbox.SandboxGateway._call = original
    return work()


# ---- the invariants ---------------------------------------------------------------------------------

def billing_ledger_problems(account) -> list[str]:
    """The account's balance with us (billing) is the sum of its append-only ledger, never below zero,
    and each paid invoice was paid exactly: what the balance gave plus what the card paid is its total."""
    from billing.ledger import balance
    from billing.models import Invoice, LedgerEntry

    problems = []
    total = LedgerEntry.objects.filter(account=account).aggregate(total=Sum("amount"))["total"] or 0
    shown = balance(account)
    if shown != total or shown < 0:
        problems.append(f"billing ledger sums to {total}, balance shows {shown}")
    for invoice in Invoice.objects.filter(account=account, status=Invoice.Status.PAID).select_related("payment"):
        by_card = invoice.payment.amount if invoice.payment and invoice.payment.status == "succeeded" else 0
        if invoice.from_balance + by_card != invoice.total:
            problems.append(f"invoice {invoice.number}: {invoice.from_balance} + {by_card} paid of {invoice.total}")
    return problems


def check_all(account, since=None) -> list[str]:
    """Every invariant of the money of `account` (made since `since`: the processor's list is read from
    then); the problems found (empty: all hold)."""
    problems = [f"{found.kind}: payment {found.payment_id} {found.ours} / {found.theirs}"
                for found in reconciliation.compare(account=account, since=since).discrepancies]
    payments = list(Payment.objects.filter(account=account))
    keys = [attempt.idempotency_key for attempt in PaymentAttempt.objects.filter(account=account)]
    # At most one processor charge per idempotency key (the processor's own record).
    twice = (SandboxPaymentIntent.objects.filter(idempotency_key__in=keys).values("idempotency_key")
             .annotate(n=Count("id")).filter(n__gt=1))
    problems += [f"key {row['idempotency_key']} charged {row['n']} times" for row in twice]
    refunds = defaultdict(list)
    for refund in Refund.objects.filter(account=account).only("payment_id", "amount", "status"):
        refunds[refund.payment_id].append(refund)
    audited = defaultdict(set)
    for object_type, object_id, action in AuditEvent.objects.filter(
            account=account, object_type__in=["payments.payment", "retail.sale"]).values_list(
            "object_type", "object_id", "action"):
        audited[object_type, object_id].add(action)
    intents = {intent.pk: intent for intent in SandboxPaymentIntent.objects.filter(
        pk__in=[payment.processor_payment_id for payment in payments if payment.processor_payment_id])}
    for payment in payments:
        refunded = sum(refund.amount for refund in refunds[payment.pk] if refund.status == Refund.Status.SUCCEEDED)
        if not 0 <= payment.amount_refunded == refunded <= payment.amount:
            problems.append(f"payment {payment.pk}: refunded {payment.amount_refunded} (refunds {refunded}) "
                            f"of {payment.amount}")
        intent = intents.get(payment.processor_payment_id)
        if intent is not None and intent.amount_refunded > intent.amount:
            problems.append(f"processor payment {intent.pk} refunded more than paid")
        # Audit rows for every state change of the payment.
        expected = {"payment.created"}
        if payment.status != Payment.Status.PENDING:
            expected.add("payment.succeeded" if payment.status != Payment.Status.FAILED else "payment.failed")
        if refunds[payment.pk]:
            expected.add("payment.refund_requested")
        expected |= {f"payment.refund_{refund.status}" for refund in refunds[payment.pk]
                     if refund.status != Refund.Status.PENDING}
        if missing := expected - audited["payments.payment", str(payment.pk)]:
            problems.append(f"payment {payment.pk} ({payment.status}): no audit row {sorted(missing)}")
    for sale in Sale.objects.filter(account=account, status=Sale.Status.COMPLETED).annotate(
            paid=Sum("payments__amount")):
        if (sale.paid or 0) != sale.total - sale.returned_total or (sale.paid or 0) != sale.paid_total:
            problems.append(f"completed sale {sale.pk}: payments {sale.paid}, paid {sale.paid_total}, "
                            f"total {sale.total}")
        if "sale.completed" not in audited["retail.sale", str(sale.pk)]:
            problems.append(f"completed sale {sale.pk}: no audit row")
    for row in SalePayment.objects.filter(account=account, processor_payment_id__isnull=False):
        payment = next((p for p in payments if p.pk == row.processor_payment_id), None)
        if payment is None or payment.status == Payment.Status.FAILED or payment.amount != row.amount:
            problems.append(f"sale payment {row.pk} is not backed by a succeeded payment of the same amount")
    # The customers' on-account balances are what their on-account sales still owe.
    owed = dict(Sale.objects.filter(account=account, status=Sale.Status.ON_ACCOUNT).values("customer_id")
                .annotate(owed=Sum("total") - Sum("paid_total") - Sum("returned_total"))
                .values_list("customer_id", "owed"))
    for customer_id, balance in Customer.objects.filter(account=account).filter(
            Q(balance__gt=0) | Q(pk__in=list(owed))).values_list("pk", "balance"):
        if balance != owed.get(customer_id, 0):
            problems.append(f"customer {customer_id}: balance {balance}, on-account sales owe {owed.get(customer_id)}")
    return problems + billing_ledger_problems(account)


# ---- the machine ------------------------------------------------------------------------------------

class MoneyMachine(RuleBasedStateMachine):
    @initialize()
    def shop(self):
        COUNTS["runs"] += 1
        self.started = timezone.now()
        self.account = AccountFactory(name="Integrity")
        self.shop = subs_shop(self.account)
        rf.open_register(self.shop)
        paylink_settings_update(actor=self.shop.actor, account=self.account, online_payments_enabled=True,
                                reminder_days=None)
        self.item = rf.product(self.shop, sku="ART-1", name="Article", price=1250, rate_bp=2000)
        self.customer = subscriber(self.shop)
        self.plan = monthly_box(self.shop, ships=False, customer_type_name=None)
        self.subscription = None
        self.clock = None
        self.first_event = (SandboxEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0)

    def _open_sale(self) -> Sale | None:
        return Sale.objects.filter(account=self.account, register=self.shop.register, status=Sale.Status.OPEN).first()

    def _busy(self) -> bool:
        """The register's sale in progress waits for a card payment's outcome: the cashier cannot go on."""
        sale = self._open_sale()
        return sale is not None and Payment.objects.filter(sale=sale, status=Payment.Status.PENDING).exists()

    def _sale(self, quantity: int, *, customer: bool = False) -> Sale:
        """The register's sale in progress (one a declined card left unpaid, or a new one) with `quantity` more."""
        sale = rf.leave_in_progress(self.shop, [(self.item, quantity)])
        if customer:
            sale_set_customer(actor=self.shop.actor, account=self.account, sale_id=sale.pk,
                              customer_id=self.customer.pk)
        return Sale.objects.get(pk=sale.pk)

    def _complete_if_paid(self, sale_id: int) -> None:
        sale = Sale.objects.get(pk=sale_id)
        if sale.status == Sale.Status.OPEN and sale.balance_due == 0:
            sale_complete(actor=self.shop.actor, account=self.account, sale_id=sale.pk)

    # -- sales --
    @precondition(lambda self: not self._busy())
    @rule(quantity=st.integers(1, 3))
    def cash_sale(self, quantity):
        sale = self._sale(quantity)
        sale_add_payment(actor=self.shop.actor, account=self.account, sale_id=sale.pk,
                         payment_type_id=self.shop.cash.pk, amount=sale.balance_due)
        sale_complete(actor=self.shop.actor, account=self.account, sale_id=sale.pk)

    @precondition(lambda self: not self._busy())
    @rule(quantity=st.integers(1, 3), number=st.sampled_from([VISA, VISA, DECLINED]), fault=st.sampled_from(FAULTS))
    def card_sale(self, quantity, number, fault):
        sale = self._sale(quantity)
        method = processor.payment_method_create(number=number, expiry="12/40", cvc="123")["id"]
        payment = payment_create(actor=self.shop.actor, account=self.account, amount=sale.balance_due,
                                 currency="EUR", method=Payment.Method.CARD_NOT_PRESENT,
                                 mode=Payment.Mode.INTEGRATED, sale_id=sale.pk, payment_method_id=method)
        _with_fault(fault, "create_card_payment", lambda: payment_charge(payment_id=payment.pk))
        self._complete_if_paid(sale.pk)

    @precondition(lambda self: not self._busy())
    @rule(quantity=st.integers(1, 3), fault=st.sampled_from(FAULTS))
    def saved_card_sale(self, quantity, fault):
        sale = self._sale(quantity, customer=True)
        _with_fault(fault, "charge_saved_card", lambda: saved_card_charge(
            actor=self.shop.actor, account=self.account, sale_id=sale.pk, card_id=self.customer.card.pk,
            amount=sale.balance_due))
        self._complete_if_paid(sale.pk)

    @precondition(lambda self: self._open_sale() is None)
    @rule(quantity=st.integers(1, 3), paid_now=st.booleans())
    def on_account_sale(self, quantity, paid_now):
        buyer = rf.customer(self.shop, first_name="Léa", email="lea@example.test")
        total = self.item.price * quantity
        payments = [(self.shop.cash, total // 2)] if paid_now else []
        rf.sell(self.shop, [(self.item, quantity)], payments=payments, buyer=buyer, on_account=True)

    @precondition(lambda self: Sale.objects.filter(account=self.account, status=Sale.Status.ON_ACCOUNT).exists())
    @rule(number=st.sampled_from([VISA, VISA, DECLINED]), fault=st.sampled_from(FAULTS))
    def pay_link_payment(self, number, fault):
        sale = Sale.objects.filter(account=self.account, status=Sale.Status.ON_ACCOUNT).order_by("pk").first()
        link = PayLink.objects.filter(sale=sale, status=PayLink.Status.ACTIVE).first() or pay_link_send(
            actor=self.shop.actor, account=self.account, sale_id=sale.pk, email="lea@example.test", language="fr")
        method = processor.payment_method_create(number=number, expiry="12/40", cvc="123")["id"]
        try:
            payment = pay_link_start_payment(link_id=link.pk, amount=link.amount, payment_method_id=method)
        except DomainError:
            return  # a payment of this invoice is still pending: the customer is told to wait
        _with_fault(fault, "create_card_payment", lambda: payment_charge(payment_id=payment.pk))

    # -- subscriptions --
    @rule(declining=st.booleans(), days=st.sampled_from([3, 31]), fault=st.sampled_from(FAULTS))
    def subscription_cycle(self, declining, days, fault):
        (declines if declining else succeeds)(self.customer.card)
        if self.subscription is None:
            self.subscription = subscribe(self.shop, self.customer, self.plan)
            self.clock = self.subscription.due_at
        else:
            self.clock += datetime.timedelta(days=days)
        _with_fault(fault, "charge_saved_card", lambda: billing.bill(self.subscription.pk, now=self.clock))

    # -- refunds --
    @precondition(lambda self: Payment.objects.filter(
        account=self.account, status__in=reconciliation.MONEY_MOVED[:2]).exists())
    @rule(share=st.sampled_from([1, 2, 4]), pick=st.integers(0, 50), fault=st.sampled_from(FAULTS))
    def refund(self, share, pick, fault):
        payments = list(Payment.objects.filter(account=self.account, status__in=reconciliation.MONEY_MOVED[:2])
                        .order_by("pk"))
        payment = payments[pick % len(payments)]
        try:
            refund = refund_create(actor=self.shop.actor, account=self.account, payment_id=payment.pk,
                                   amount=max(payment.refundable // share, 1))
        except DomainError:
            return  # what is left is held by a pending refund
        _with_fault(fault, "refund", lambda: refund_send(refund_id=refund.pk))

    @precondition(lambda self: Payment.objects.filter(
        account=self.account, status__in=reconciliation.MONEY_MOVED[:2]).exists())
    @rule()
    def refund_too_much(self):
        payment = Payment.objects.filter(account=self.account, status__in=reconciliation.MONEY_MOVED[:2]).first()
        with transaction.atomic():
            try:
                refund_create(actor=self.shop.actor, account=self.account, payment_id=payment.pk,
                              amount=payment.refundable + 1)
            except DomainError:
                return
        raise AssertionError("a refund above what remains was accepted")

    # -- what the beat sweep and the late answers do --
    @rule()
    def reconcile(self):
        for payment_id in Payment.objects.filter(account=self.account, status=Payment.Status.PENDING).values_list(
                "pk", flat=True):
            payment_reconcile(payment_id=payment_id)
        for refund_id in Refund.objects.filter(account=self.account, status=Refund.Status.PENDING).values_list(
                "pk", flat=True):
            refund_reconcile(refund_id=refund_id)
        for sale_id in Sale.objects.filter(account=self.account, status=Sale.Status.OPEN).values_list("pk", flat=True):
            self._complete_if_paid(sale_id)

    def _events(self):
        return SandboxEvent.objects.filter(pk__gt=self.first_event)

    @rule(data=st.data())
    def webhooks(self, data):
        """Deliver the processor's events: the undelivered ones in any order, some twice, a few already
        delivered once more; then handle what was stored."""
        pending = list(self._events().filter(delivered_at__isnull=True).order_by("pk")[:40])
        delivered = list(self._events().filter(delivered_at__isnull=False).order_by("-pk")[:10])
        order = data.draw(st.permutations(pending)) if pending else []
        again = data.draw(st.lists(st.sampled_from(pending + delivered), max_size=4)) if pending + delivered else []
        for event in [*order, *again]:
            COUNTS["webhooks"] += 1
            deliver_sandbox_event(payload_bytes(event), sign(payload_bytes(event), _secret()))
            SandboxEvent.objects.filter(pk=event.pk).update(delivered_at=event.created_at)
        for stored in WebhookEvent.objects.filter(processed_at__isnull=True, event_id__in=[
                event.event_id for event in [*order, *again]]).order_by("?"):
            webhook_event_process(event_id=stored.pk)
        for sale_id in Sale.objects.filter(account=self.account, status=Sale.Status.OPEN).values_list("pk", flat=True):
            self._complete_if_paid(sale_id)

    @precondition(lambda self: self._events().exists())
    @rule(pick=st.integers(0, 50), how=st.sampled_from(["wrong secret", "tampered", "unsigned", "stale"]))
    def forged_webhook(self, pick, how):
        events = list(self._events().order_by("pk"))
        event = events[pick % len(events)]
        body = dict(event.payload, id=event.payload["id"] + "_forged")
        obj = dict(body["data"]["object"])
        obj.update(status="succeeded", amount=obj.get("amount", 1) * 2 if isinstance(obj.get("amount"), int) else 1)
        body["data"] = {"object": obj}
        payload = json.dumps(body).encode()
        signature = {"wrong secret": sign(payload, "not-the-secret"),
                     "tampered": sign(payload_bytes(event), _secret()),  # the real event's signature, another body
                     "unsigned": "",
                     "stale": sign(payload, _secret(), timestamp=int(event.created_at.timestamp()) - 3600)}[how]
        before = WebhookEvent.objects.count()
        COUNTS["forged"] += 1
        try:
            with transaction.atomic():
                deliver_sandbox_event(payload, signature)
        except BadSignature:
            pass
        else:
            raise AssertionError(f"a forged event ({how}) was accepted")
        assert WebhookEvent.objects.count() == before

    # -- after every step --
    @invariant()
    def money_is_right(self):
        if not hasattr(self, "account"):
            return
        COUNTS["steps"] += 1
        problems = check_all(self.account, since=self.started)
        COUNTS["discrepancies"] += len(problems)
        assert not problems, problems

    def teardown(self):
        sandbox.SandboxGateway._call = _ORIGINAL_CALL


_ORIGINAL_CALL = sandbox.SandboxGateway._call


def _secret() -> str:
    from django.conf import settings

    return settings.SANDBOX_WEBHOOK_SECRET


def subscription_state(machine: MoneyMachine) -> str:
    return Subscription.objects.get(pk=machine.subscription.pk).status if machine.subscription else ""


__all__ = ["COUNTS", "MoneyMachine", "SandboxRefund", "check_all"]
