"""Our records against the processor's: every Payment and Refund compared with what the processor lists
(the gateway port's `list_payments` / `list_refunds`), each difference named. `manage.py reconcile` runs it
and stores each account's result (`reconciliation_run`), shown to the owner in Finance › Payments; the
randomized money-integrity test (tests/integrity/) checks after every step that it finds nothing.

What matches:
- a payment we record as succeeded (or refunded) is a succeeded payment at the processor, for the same
  amount and currency, refunded exactly as much as our succeeded refunds (or, while a refund of ours is
  still pending, up to that much more: its answer may have been lost);
- a payment we record as failed is not a succeeded one there;
- a pending payment is in flight: its outcome is not known yet, the reconciliation task settles it;
- a succeeded refund of ours is a succeeded refund there, for the same amount, on that payment;
- the processor holds no succeeded payment that names one of our payments (metadata) we do not know as
  its own, never two succeeded payments for one of ours (a double charge), and no succeeded payment or
  refund at all that we do not know of.
Each processor account is read once: payees sharing one (the sandbox serves both) are compared together.
"""

import datetime
from collections import defaultdict
from dataclasses import asdict, dataclass, field

from django.db import transaction
from django.utils import timezone

from accounts.services import audit_record
from accounts.tenancy import scoped
from payments.gateway import PAYEES, get_gateway
from payments.gateway.base import PaymentStatus
from payments.gateway.errors import NotFound
from payments.models import Payment, ReconciliationReport, Refund

MONEY_MOVED = (Payment.Status.SUCCEEDED, Payment.Status.PARTIALLY_REFUNDED, Payment.Status.REFUNDED)


class Kind:
    """What differs (stored with each discrepancy; the page reads `LABELS` in payments.messages)."""

    MISSING_AT_PROCESSOR = "missing_at_processor"  # we say paid; the processor has no such payment
    NOT_PAID_AT_PROCESSOR = "not_paid_at_processor"  # we say paid; the processor's did not succeed
    PAID_AT_PROCESSOR = "paid_at_processor"  # we say failed; the processor took the money
    AMOUNT = "amount"  # amount or currency differ
    REFUNDED = "refunded"  # refunded amounts differ
    CHARGED_TWICE = "charged_twice"  # more than one succeeded processor payment for one of ours
    UNKNOWN_PAYMENT = "unknown_payment"  # a succeeded processor payment we have no record of
    REFUND_MISSING = "refund_missing"  # a succeeded refund of ours the processor does not have
    REFUND_DIFFERS = "refund_differs"  # amount, payment or status differ
    UNKNOWN_REFUND = "unknown_refund"  # a succeeded processor refund we have no record of


@dataclass(frozen=True)
class Discrepancy:
    kind: str
    account_id: int | None  # None: the processor's object names no account of ours
    processor_id: str = ""
    payment_id: int | None = None
    refund_id: int | None = None
    ours: str = ""  # what we record, in a few words ("succeeded 12.00 EUR refunded 3.00")
    theirs: str = ""  # what the processor says

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Result:
    payments_checked: int = 0
    refunds_checked: int = 0
    in_flight: int = 0  # pending payments and refunds whose outcome is not known yet
    discrepancies: list[Discrepancy] = field(default_factory=list)

    def for_account(self, account_id: int) -> "Result":
        """This account's part. The counts are the whole run's: they say how much was looked at."""
        return Result(self.payments_checked, self.refunds_checked, self.in_flight,
                      [found for found in self.discrepancies if found.account_id == account_id])


def _describe_ours(payment: Payment) -> str:
    return f"{payment.status} {payment.amount} {payment.currency} refunded {payment.amount_refunded}"


def _describe_theirs(found) -> str:
    return f"{found.status} {found.amount} {found.currency} refunded {found.amount_refunded}"


def _payment_ref(found) -> int | None:
    value = (found.metadata or {}).get("payment", "")
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() else None


def _account_ref(found) -> int | None:
    value = (found.metadata or {}).get("account", "")
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() else None


def compare(*, account=None, since: datetime.datetime | None = None) -> Result:
    """Compare our payments and refunds (of `account`, or of every account; created at or after `since`)
    with the processor's. Reads only; raises the gateway's ProcessorUnavailable when a list cannot be read."""
    result = Result()
    gateways: dict[int, tuple[object, list[str]]] = {}
    for payee in PAYEES:
        gateway = get_gateway(payee)
        gateways.setdefault(id(gateway), (gateway, []))[1].append(payee)
    for gateway, payees in gateways.values():
        _compare_one(gateway, payees, account=account, since=since, result=result)
    return result


def _ours(model, payees: list[str], account, since, payee_field: str):
    rows = (scoped(model, account) if account is not None else model.objects).filter(**{f"{payee_field}__in": payees})
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    return rows


def _compare_one(gateway, payees: list[str], *, account, since, result: Result) -> None:
    listed_payments = gateway.list_payments(created_since=since)
    listed_refunds = gateway.list_refunds(created_since=since)
    payments = list(_ours(Payment, payees, account, since, "payee").order_by("pk"))
    refunds = list(_ours(Refund, payees, account, since, "payment__payee").select_related("payment").order_by("pk"))
    # Rows the processor names that fall outside our window (made just before `since`, or refunded since).
    by_processor_id = {payment.processor_payment_id: payment for payment in payments if payment.processor_payment_id}
    by_pk = {payment.pk: payment for payment in payments}
    outside_ids = {found.id for found in listed_payments if found.id not in by_processor_id}
    outside_ids |= {refund.payment_id for refund in listed_refunds if refund.payment_id not in by_processor_id}
    outside_pks = {pk for found in listed_payments if (pk := _payment_ref(found)) and pk not in by_pk}
    known = Payment.objects.filter(payee__in=payees).filter(
        processor_payment_id__in=outside_ids) if outside_ids else Payment.objects.none()
    for payment in known:
        by_processor_id.setdefault(payment.processor_payment_id, payment)
    for payment in Payment.objects.filter(payee__in=payees, pk__in=outside_pks) if outside_pks else ():
        by_pk.setdefault(payment.pk, payment)
    for payment in by_processor_id.values():
        by_pk.setdefault(payment.pk, payment)

    def in_scope(payment: Payment | None, found=None) -> bool:
        if account is None:
            return True
        if payment is not None:
            return payment.account_id == account.pk
        return found is not None and _account_ref(found) == account.pk

    # The processor's payments, grouped by the payment of ours each belongs to.
    theirs_of: dict[int, list] = defaultdict(list)
    processor_payments = {}
    for found in listed_payments:
        processor_payments[found.id] = found
        ours = by_processor_id.get(found.id) or by_pk.get(_payment_ref(found) or 0)
        if ours is not None:
            theirs_of[ours.pk].append(found)
        elif found.status == PaymentStatus.SUCCEEDED and in_scope(None, found):
            result.discrepancies.append(Discrepancy(
                Kind.UNKNOWN_PAYMENT, _account_ref(found), processor_id=found.id, theirs=_describe_theirs(found)))

    pending_refunds = defaultdict(int)
    succeeded_refunds = defaultdict(int)
    for refund in Refund.objects.filter(payment_id__in=[payment.pk for payment in payments]):
        if refund.status == Refund.Status.PENDING:
            pending_refunds[refund.payment_id] += refund.amount
        elif refund.status == Refund.Status.SUCCEEDED:
            succeeded_refunds[refund.payment_id] += refund.amount

    for payment in payments:
        result.payments_checked += 1
        mine = [found for found in theirs_of.get(payment.pk, ()) if found.id == payment.processor_payment_id]
        succeeded = [found for found in theirs_of.get(payment.pk, ()) if found.status == PaymentStatus.SUCCEEDED]
        if len(succeeded) > 1:
            result.discrepancies.append(Discrepancy(
                Kind.CHARGED_TWICE, payment.account_id, processor_id=", ".join(sorted(f.id for f in succeeded)),
                payment_id=payment.pk, ours=_describe_ours(payment), theirs=f"{len(succeeded)} succeeded payments"))
        if payment.status == Payment.Status.PENDING:
            result.in_flight += 1
            continue
        found = mine[0] if mine else (succeeded[0] if succeeded else None)
        if payment.status == Payment.Status.FAILED:
            if succeeded:
                result.discrepancies.append(Discrepancy(
                    Kind.PAID_AT_PROCESSOR, payment.account_id, processor_id=succeeded[0].id, payment_id=payment.pk,
                    ours=_describe_ours(payment), theirs=_describe_theirs(succeeded[0])))
            continue
        if found is None:
            if payment.processor_payment_id and payment.processor_payment_id not in processor_payments:
                found = _retrieve(gateway, payment.processor_payment_id)
            if found is None:
                result.discrepancies.append(Discrepancy(
                    Kind.MISSING_AT_PROCESSOR, payment.account_id, processor_id=payment.processor_payment_id,
                    payment_id=payment.pk, ours=_describe_ours(payment)))
                continue
        _compare_paid(payment, found, pending_refunds[payment.pk], succeeded_refunds[payment.pk], result)

    _compare_refunds(refunds, listed_refunds, by_processor_id, account, result)


def _retrieve(gateway, processor_id: str):
    """A payment of ours inside the window whose processor payment was made before it (clock skew)."""
    try:
        return gateway.retrieve_payment(processor_id)
    except NotFound:
        return None


def _compare_paid(payment: Payment, found, pending: int, refunded: int, result: Result) -> None:
    if found.status != PaymentStatus.SUCCEEDED:
        result.discrepancies.append(Discrepancy(
            Kind.NOT_PAID_AT_PROCESSOR, payment.account_id, processor_id=found.id, payment_id=payment.pk,
            ours=_describe_ours(payment), theirs=_describe_theirs(found)))
        return
    if (found.amount, found.currency) != (payment.amount, payment.currency):
        result.discrepancies.append(Discrepancy(
            Kind.AMOUNT, payment.account_id, processor_id=found.id, payment_id=payment.pk,
            ours=_describe_ours(payment), theirs=_describe_theirs(found)))
        return
    ours_consistent = payment.amount_refunded == refunded
    within = payment.amount_refunded <= found.amount_refunded <= payment.amount_refunded + pending
    if not (ours_consistent and within):
        result.discrepancies.append(Discrepancy(
            Kind.REFUNDED, payment.account_id, processor_id=found.id, payment_id=payment.pk,
            ours=_describe_ours(payment) + (f" (refunds {refunded}, pending {pending})" if pending or not
                                            ours_consistent else ""),
            theirs=_describe_theirs(found)))


def _compare_refunds(refunds: list[Refund], listed_refunds, by_processor_id: dict, account, result: Result) -> None:
    theirs = {refund.id: refund for refund in listed_refunds}
    known_ids = set(Refund.objects.filter(processor_refund_id__in=list(theirs)).values_list(
        "processor_refund_id", flat=True)) if theirs else set()
    # A payment with a refund of ours in flight, or settled without the processor's id (after the
    # processor's idempotency window, by comparing totals): its unmatched refunds are the payment check's.
    loose = set(Refund.objects.filter(payment__processor_payment_id__in={r.payment_id for r in listed_refunds})
                .filter(status=Refund.Status.PENDING).values_list("payment__processor_payment_id", flat=True))
    loose |= set(Refund.objects.filter(payment__processor_payment_id__in={r.payment_id for r in listed_refunds},
                                       status=Refund.Status.SUCCEEDED, processor_refund_id="")
                 .values_list("payment__processor_payment_id", flat=True))
    for refund in refunds:
        result.refunds_checked += 1
        if refund.status == Refund.Status.PENDING:
            result.in_flight += 1
            continue
        if refund.status != Refund.Status.SUCCEEDED or not refund.processor_refund_id:
            continue
        found = theirs.get(refund.processor_refund_id)
        if found is None:
            result.discrepancies.append(Discrepancy(
                Kind.REFUND_MISSING, refund.account_id, processor_id=refund.processor_refund_id,
                payment_id=refund.payment_id, refund_id=refund.pk, ours=f"succeeded {refund.amount}"))
        elif (found.amount, found.payment_id, found.status) != (
                refund.amount, refund.payment.processor_payment_id, "succeeded"):
            result.discrepancies.append(Discrepancy(
                Kind.REFUND_DIFFERS, refund.account_id, processor_id=found.id, payment_id=refund.payment_id,
                refund_id=refund.pk, ours=f"succeeded {refund.amount} on {refund.payment.processor_payment_id}",
                theirs=f"{found.status} {found.amount} on {found.payment_id}"))
    for found in listed_refunds:
        if found.status != "succeeded" or found.id in known_ids or found.payment_id in loose:
            continue
        payment = by_processor_id.get(found.payment_id)
        if account is not None and (payment is None or payment.account_id != account.pk):
            continue
        result.discrepancies.append(Discrepancy(
            Kind.UNKNOWN_REFUND, payment.account_id if payment else None, processor_id=found.id,
            payment_id=payment.pk if payment else None, theirs=f"{found.status} {found.amount} on {found.payment_id}"))


# ---- the stored result ------------------------------------------------------------------------------

def reconciliation_run(*, account=None, since: datetime.datetime | None = None) -> Result:
    """Compare (above), then store each account's result: the last one is what Finance › Payments shows
    its owner. With `account`, that account only; otherwise every account that has payments."""
    from accounts.models import Account

    result = compare(account=account, since=since)
    now = timezone.now()
    accounts = [account] if account is not None else list(
        Account.objects.filter(pk__in=Payment.objects.values("account_id").distinct()).order_by("pk"))
    for each in accounts:
        reconciliation_record(account=each, result=result.for_account(each.pk), since=since, now=now)
    return result


@transaction.atomic
def reconciliation_record(*, account, result: Result, since: datetime.datetime | None, now) -> ReconciliationReport:
    report = ReconciliationReport.objects.create(
        account=account, ran_at=now, since=since, payments_checked=result.payments_checked,
        refunds_checked=result.refunds_checked, in_flight=result.in_flight,
        discrepancies=[found.as_dict() for found in result.discrepancies])
    audit_record(account=account, actor=None, action="payment.reconciled", target=report,
                 after={"discrepancies": len(result.discrepancies), "since": since.isoformat() if since else None})
    return report
