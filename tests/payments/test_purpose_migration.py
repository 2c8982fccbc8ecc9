"""payments 0005 gives the payments made before it their purpose: a sale's card payment (sale set) pays
that sale; one without a sale pays for nothing. Every one of them was the shop's."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from payments.models import Payment
from tests.payments.builders import completed_sale, payment

BEFORE = [("payments", "0004_job_leases")]


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_existing_payments_pay_their_sale_or_nothing(account):
    for_sale = payment(account, sale=completed_sale(account))
    standalone = payment(account)

    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)  # the rows stay; their purpose and payee columns go
    executor.loader.build_graph()
    executor.migrate(latest())

    assert dict(Payment.objects.values_list("pk", "purpose")) == {for_sale.pk: "sale", standalone.pk: "none"}
    assert set(Payment.objects.values_list("payee", flat=True)) == {"merchant"}
