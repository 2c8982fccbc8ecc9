"""Load the demo shop. Safe to run again: each app's demo module finds what exists and adds only
what is missing."""

from django.core.management.base import BaseCommand
from django.db import transaction

import accounts.demo
import billing.demo
import paylinks.demo
import payments.demo
import retail.demo
import saved_cards.demo
import subscriptions.demo
import terminal.demo


class Command(BaseCommand):
    help = "Create (or complete) the demo shop and a second account that shows tenant isolation."

    def add_arguments(self, parser):
        parser.add_argument("--small", action="store_true",
                            help="Give the demo shop the reduced data set too (a handful of products and "
                                 "customers, a few days of sales): quick, for tests.")

    @transaction.atomic
    def handle(self, *args, **options):
        shop, other = accounts.demo.load()
        retail.demo.load(shop, small=options["small"])
        retail.demo.load(other, small=True)
        accounts.demo.load_integrations(shop)  # after retail's: it posts closures and sales
        payments.demo.load(shop)
        saved_cards.demo.load(shop)
        terminal.demo.load(shop)
        paylinks.demo.load(shop)
        subscriptions.demo.load(shop)
        billing.demo.load(shop)
        logins = ", ".join(email for email, _name, _role in accounts.demo.STAFF)
        self.stdout.write(self.style.SUCCESS(
            f"Demo shop ready. Logins: {logins}; other shop: {accounts.demo.OTHER_OWNER[0]} — "
            f"password “{accounts.demo.DEMO_PASSWORD}”."
        ))
