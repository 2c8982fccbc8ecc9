"""`manage.py reconcile [--account ID] [--since DATE]`: compare our payments and refunds with the processor's
records (payments.reconciliation), list each discrepancy, store each account's result (shown to its owner in
Finance › Payments). Exit status 1 when something differs, so a scheduler or a monitor can tell."""

import datetime
import zoneinfo

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime

from accounts.models import Account
from payments.gateway.errors import ProcessorUnavailable
from payments.reconciliation import reconciliation_run


def _since(value: str, tz: zoneinfo.ZoneInfo) -> datetime.datetime:
    """A date (that day's start in `tz`) or an ISO date-time (in `tz` unless it names its offset)."""
    moment = parse_datetime(value) if "T" in value or " " in value else None
    if moment is None:
        day = parse_date(value) if len(value) == 10 else None
        if day is None:
            raise CommandError(f"--since takes a date (2026-12-01) or a date-time (2026-12-01T09:00), not {value!r}.")
        moment = datetime.datetime.combine(day, datetime.time.min)
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


class Command(BaseCommand):
    help = "Compare our payments and refunds with the payment processor's records and list each discrepancy."

    def add_arguments(self, parser):
        parser.add_argument("--account", type=int, help="Only this merchant account (its id).")
        parser.add_argument("--since", help="Only what was created since this date (the account's time zone; "
                                            "UTC without --account), or this ISO date-time.")

    def handle(self, *args, account=None, since=None, **options):
        if account is not None:
            account_id, account = account, Account.objects.filter(pk=account).first()
            if account is None:
                raise CommandError(f"No account with the id {account_id}.")
        tz = zoneinfo.ZoneInfo(account.timezone if account is not None else "UTC")
        since = _since(since, tz) if since else None
        try:
            result = reconciliation_run(account=account, since=since)
        except ProcessorUnavailable:
            raise CommandError("The payment processor did not answer; nothing was stored. Try again.") from None
        for found in result.discrepancies:
            where = f"payment {found.payment_id}" if found.payment_id else "no payment of ours"
            refund = f" refund {found.refund_id}" if found.refund_id else ""
            self.stdout.write(f"{found.kind}: account {found.account_id or '-'}, {where}{refund}, processor "
                              f"{found.processor_id or '-'}; ours: {found.ours or '-'}; theirs: {found.theirs or '-'}")
        summary = (f"{result.payments_checked} payments and {result.refunds_checked} refunds compared, "
                   f"{result.in_flight} in flight, {len(result.discrepancies)} discrepancies.")
        if result.discrepancies:
            self.stdout.write(self.style.ERROR(summary))
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS(summary))
