"""Finance › Payments: the list (search, filters, keyset pages, live search partial, CSV export),
one payment's page (facts, timeline) and its refund form, tenancy and permissions."""

import csv
import io

import pytest
from django.urls import reverse

from accounts import permissions as perms
from accounts.models import AuditEvent
from payments.gateway.errors import InvalidRequest
from payments.models import Payment, Refund
from payments.selectors import PAGE_SIZE
from posbackoffice import exports
from posbackoffice.models import ExportJob
from tests.factories import member, owner_of
from tests.payments.builders import (
    FakeGateway,
    charge_attempt,
    completed_sale,
    page_text,
    paris,
    payment,
    payments_state,
    use_gateway,
    webhook_event,
)
from tests.retail.builders import staff_with
from tests.retail.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(account):
    """The owner, reading the back-office in English (assertions read the English source strings)."""
    user = owner_of(account)
    user.language = "en"
    user.save(update_fields=["language"])
    return user


@pytest.fixture
def staff(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def french_staff(client, account):
    client.force_login(owner_of(account))  # follows the account's language: French
    return client


@pytest.fixture
def gateway(monkeypatch):
    return use_gateway(monkeypatch, FakeGateway())


def listed(response) -> list[int]:
    return [p.pk for p in response.context["page"].rows]


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    delimiter = ";" if text.splitlines()[0].count(";") else ","
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


# ---- List ---------------------------------------------------------------------------------------------

def test_list_shows_every_payment_of_the_account_newest_first(staff, account, other_account):
    buyer = CustomerFactory(account=account, first_name="Léa", last_name="Martin")
    sale = completed_sale(account)
    old = payment(account, at=paris(2026, 3, 1, 10), customer=buyer, sale=sale, amount=4200, amount_refunded=1000,
                  status=Payment.Status.PARTIALLY_REFUNDED, card_brand="mastercard", card_last4="4444")
    new = payment(account, at=paris(2026, 3, 2, 10), mode=Payment.Mode.ONLINE, method=Payment.Method.ONLINE,
                  status=Payment.Status.FAILED, receipt_email="client@exemple.fr")
    payment(other_account, at=paris(2026, 3, 3, 10))

    response = staff.get(reverse("payments:list"))

    assert response.status_code == 200
    assert listed(response) == [new.pk, old.pk]
    text = page_text(response)
    assert "Léa Martin" in text and "client@exemple.fr" in text
    assert f'href="{reverse("retail:sale_detail", args=[sale.pk])}">{sale.receipt}</a>' in text
    assert "Mastercard •••• 4444" in text and "Visa •••• 4242" in text
    assert "€42.00" in text and "€10.00" in text
    assert "Partially refunded" in text
    assert '<span class="badge danger" data-payment-status="failed">Failed</span>' in text
    assert "Card not present" in text and "Online" in text and "Integrated" in text
    assert f'href="{reverse("payments:detail", args=[old.pk])}"' in text


@pytest.mark.parametrize("q", ["martin", "LÉA", "léa martin", "lea.martin@exemple", "4444"])
def test_search_finds_the_customer_and_the_last_four(staff, account, q):
    buyer = CustomerFactory(account=account, first_name="Léa", last_name="Martin", email="lea.martin@exemple.fr")
    wanted = payment(account, customer=buyer, card_last4="4444")
    payment(account, customer=CustomerFactory(account=account, first_name="Hugo", last_name="Bernard"),
            card_last4="1111")

    response = staff.get(reverse("payments:list"), {"q": q})

    assert response.status_code == 200
    assert listed(response) == [wanted.pk]


@pytest.mark.parametrize("q", ["12,50", "12.50", "12,5", "€12.50"])
def test_search_finds_the_exact_amount(staff, account, q):
    wanted = payment(account, amount=1250, card_last4="1111")
    payment(account, amount=1251, card_last4="2222")
    payment(account, amount=125, card_last4="3333")

    assert listed(staff.get(reverse("payments:list"), {"q": q})) == [wanted.pk]


def test_search_finds_the_receipt_e_mail_of_a_payment_without_customer(staff, account):
    wanted = payment(account, receipt_email="acheteur@exemple.fr")
    payment(account, receipt_email="autre@exemple.fr")
    assert listed(staff.get(reverse("payments:list"), {"q": "acheteur"})) == [wanted.pk]


def test_search_reads_a_french_amount_and_the_receipt_number(french_staff, account):
    sale = completed_sale(account)
    by_receipt = payment(account, sale=sale, amount=999, card_last4="1111")
    by_amount = payment(account, amount=123450, card_last4="2222")
    payment(account, amount=777, card_last4="3333")

    assert listed(french_staff.get(reverse("payments:list"), {"q": "1 234,50"})) == [by_amount.pk]
    assert listed(french_staff.get(reverse("payments:list"), {"q": sale.receipt})) == [by_receipt.pk]
    assert listed(french_staff.get(reverse("payments:list"), {"q": "nobody"})) == []


@pytest.mark.parametrize("q", ["²", "１２", "99999999999999999999", "mar\x00tin"])
def test_a_search_that_is_no_receipt_amount_or_name_finds_nothing_and_says_nothing_wrong(staff, account, q):
    payment(account, customer=CustomerFactory(account=account, last_name="Bernard"), card_last4="1111")

    response = staff.get(reverse("payments:list"), {"q": q})

    assert response.status_code == 200 and listed(response) == []


def test_search_never_finds_another_accounts_customer_or_sale(staff, account, other_account):
    theirs = CustomerFactory(account=other_account, last_name="Dupont")
    payment(other_account, customer=theirs)
    payment(account, card_last4="1111")
    assert listed(staff.get(reverse("payments:list"), {"q": "dupont"})) == []


def test_date_range_is_read_in_the_accounts_time_zone(staff, account):
    # 00:30 in Paris on 2 March is still 1 March in UTC.
    just_after_midnight = payment(account, at=paris(2026, 3, 2, 0, 30))
    late_on_the_first = payment(account, at=paris(2026, 3, 1, 23, 50))
    payment(account, at=paris(2026, 3, 3, 9))

    day = staff.get(reverse("payments:list"), {"date_from": "2026-03-02", "date_to": "2026-03-02"})
    assert listed(day) == [just_after_midnight.pk]
    until = staff.get(reverse("payments:list"), {"date_to": "2026-03-01"})
    assert listed(until) == [late_on_the_first.pk]


def test_filters_by_status_mode_and_payout(staff, account):
    succeeded = payment(account, at=paris(2026, 3, 1), payout_status=Payment.Payout.PAID)
    failed = payment(account, at=paris(2026, 3, 2), status=Payment.Status.FAILED)
    recurring = payment(account, at=paris(2026, 3, 3), mode=Payment.Mode.RECURRING, method=Payment.Method.SAVED_CARD)
    standalone = payment(account, at=paris(2026, 3, 4), mode=Payment.Mode.STANDALONE,
                         method=Payment.Method.CARD_PRESENT)
    url = reverse("payments:list")

    assert listed(staff.get(url, {"status": "failed"})) == [failed.pk]
    assert listed(staff.get(url, {"mode": "recurring"})) == [recurring.pk]
    assert listed(staff.get(url, {"mode": "standalone"})) == [standalone.pk]
    assert listed(staff.get(url, {"payout": "paid"})) == [succeeded.pk]
    assert listed(staff.get(url, {"payout": "none"})) == [failed.pk]
    assert listed(staff.get(url, {"payout": "pending"})) == [standalone.pk, recurring.pk]
    assert listed(staff.get(url, {"status": "succeeded", "mode": "integrated"})) == [succeeded.pk]


def test_bad_filters_are_errors_on_the_form(staff, account):
    payment(account)
    response = staff.get(reverse("payments:list"), {"date_from": "2026-03-05", "date_to": "2026-03-01",
                                                     "status": "stolen"})
    assert response.status_code == 400
    assert "The end date is before the start date." in page_text(response)
    assert set(response.context["form"].errors) == {"date_to", "status"}


def test_pages_of_fifty_follow_a_cursor_even_when_times_are_equal(staff, account):
    moment = paris(2026, 3, 1, 12)
    rows = [payment(account, at=moment) for _n in range(PAGE_SIZE + 1)]
    newest_first = [p.pk for p in sorted(rows, key=lambda p: p.pk, reverse=True)]

    first = staff.get(reverse("payments:list"), {"status": "succeeded"})
    assert listed(first) == newest_first[:PAGE_SIZE]
    cursor = first.context["page"].next_cursor
    assert cursor and "status=succeeded&amp;after=" in first.content.decode()

    second = staff.get(reverse("payments:list"), {"status": "succeeded", "after": cursor})
    assert listed(second) == newest_first[PAGE_SIZE:]
    assert second.context["page"].next_cursor is None
    assert "Back to the newest payments" in page_text(second)


def test_live_search_answers_only_the_results(staff, account):
    payment(account, card_last4="4444")
    payment(account, card_last4="1111")

    response = staff.get(reverse("payments:list"), {"q": "4444"}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "•••• 4444" in html and "•••• 1111" not in html
    restore = staff.get(reverse("payments:list"), HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in restore.content.decode()


# ---- CSV export ---------------------------------------------------------------------------------------

def test_export_has_the_lists_filters_and_the_readers_number_format(french_staff, account, other_account):
    buyer = CustomerFactory(account=account, first_name="Léa", last_name="Martin")
    sale = completed_sale(account)
    payment(account, at=paris(2026, 3, 2, 0, 30), customer=buyer, sale=sale, amount=123450, amount_refunded=450,
            status=Payment.Status.PARTIALLY_REFUNDED, processor_payment_id="pi_one")
    payment(account, at=paris(2026, 3, 1, 9), status=Payment.Status.FAILED)
    payment(other_account, at=paris(2026, 3, 2, 9))

    response = french_staff.get(reverse("payments:export"), {"status": "partially_refunded"})

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = csv_rows(response)
    assert len(rows) == 2
    assert rows[1][0] == "2026-03-02 00:30:00"  # the shop's time, not UTC
    assert rows[1][4:11] == ["Léa Martin", sale.receipt, "Visa", "4242", "1234,50", "4,50", "EUR"]
    assert rows[1][-2:] == ["sandbox", "pi_one"]


def test_export_header_follows_the_readers_language_and_the_search(staff, account):
    payment(account, amount=1250, card_last4="1111")
    payment(account, amount=999, card_last4="2222")
    rows = csv_rows(staff.get(reverse("payments:export"), {"q": "12.50"}))
    assert rows[0][:4] == ["Date", "Status", "Method", "Mode"]
    assert [row[7] for row in rows[1:]] == ["1111"]
    assert rows[1][8] == "12.50"


def test_a_large_export_goes_to_the_worker_with_the_amount_already_read(staff, account, monkeypatch):
    monkeypatch.setattr(exports, "INLINE_LIMIT", 1)
    payment(account, amount=1250)
    payment(account, amount=1250)

    response = staff.get(reverse("payments:export"), {"q": "12.50", "mode": "integrated"})

    job = ExportJob.objects.get(account=account)
    assert response.status_code == 302 and response["Location"] == reverse("export_job", args=[job.pk])
    assert job.kind == "payments"
    assert {k: v for k, v in job.params.items() if k != "_language"} == {"q": "12.50", "q_amount": 1250,
                                                                         "mode": "integrated"}


def test_the_worker_writes_the_same_rows_in_the_readers_language(french_staff, account, monkeypatch):
    from posbackoffice.export_runs import export_job_run

    monkeypatch.setattr(exports, "INLINE_LIMIT", 0)
    payment(account, at=paris(2026, 3, 2, 0, 30), amount=1250, card_last4="1111")
    payment(account, at=paris(2026, 3, 1, 23, 0), amount=1250, card_last4="2222")
    payment(account, at=paris(2026, 3, 2, 9), amount=999, card_last4="3333")

    french_staff.get(reverse("payments:export"), {"q": "12,50", "date_from": "2026-03-02"})
    job = export_job_run(job_id=ExportJob.objects.get(account=account).pk)

    assert job.status == ExportJob.Status.DONE and job.rows_written == 1
    text = (exports.export_dir(account.pk) / job.file_name).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[1][0] == "2026-03-02 00:30:00" and rows[1][7:9] == ["1111", "12,50"]


def test_export_link_and_export_need_the_export_permission(client, account):
    payment(account)
    viewer = staff_with(account, "view_payments")
    client.force_login(viewer)

    page = client.get(reverse("payments:list"))
    assert page.status_code == 200 and reverse("payments:export") not in page.content.decode()
    assert client.get(reverse("payments:export")).status_code == 403

    client.force_login(staff_with(account, "export_data", name="Exports only"))
    assert client.get(reverse("payments:export")).status_code == 403  # the export shows payments: it needs both
    assert not ExportJob.objects.exists()

    client.force_login(member(account, perms.MANAGER, language="en"))
    page = client.get(reverse("payments:list"))
    assert reverse("payments:export") in page.content.decode()
    assert client.get(reverse("payments:export")).status_code == 200


# ---- Tenancy and permissions ----------------------------------------------------------------------------

def test_a_cashier_cannot_see_payments(client, account):
    paid = payment(account)
    client.force_login(member(account, perms.CASHIER, language="en"))
    assert client.get(reverse("payments:list")).status_code == 403
    assert client.get(reverse("payments:detail", args=[paid.pk])).status_code == 403
    assert client.post(reverse("payments:refund", args=[paid.pk]), {"amount": "1"}).status_code == 403


def test_another_accounts_payment_is_not_found(staff, account, other_account, gateway):
    theirs = payment(other_account)
    before = payments_state(other_account)

    assert staff.get(reverse("payments:detail", args=[theirs.pk])).status_code == 404
    assert staff.post(reverse("payments:refund", args=[theirs.pk]), {"amount": "1"}).status_code == 404
    assert payments_state(other_account) == before and not gateway.calls


# ---- Detail -------------------------------------------------------------------------------------------

def test_detail_shows_the_payments_facts(staff, account, owner):
    buyer = CustomerFactory(account=account, first_name="Léa", last_name="Martin")
    sale = completed_sale(account)
    paid = payment(account, customer=buyer, sale=sale, amount=4200, card_brand="visa", card_last4="4242",
                   card_exp_month=3, card_exp_year=2031, processor_payment_id="pi_abc", processor_customer_id="cus_1",
                   payment_method_id="pm_1")

    response = staff.get(reverse("payments:detail", args=[paid.pk]))

    text = page_text(response)
    assert response.status_code == 200
    assert "Payment of €42.00" in text and "EUR" in text and "Succeeded" in text
    assert "Card not present" in text and "Integrated" in text
    assert "Visa •••• 4242" in text and "expires 03/2031" in text
    assert "pi_abc" in text and "cus_1" in text and "pm_1" in text
    assert "Léa Martin" in text and f'href="{reverse("retail:sale_detail", args=[sale.pk])}"' in text
    assert str(owner) in text


def test_a_failed_payment_shows_why_in_the_readers_language(staff, account):
    failed = payment(account, status=Payment.Status.FAILED, failure_code="insufficient_funds")

    text = page_text(staff.get(reverse("payments:detail", args=[failed.pk])))
    assert "The card was declined: insufficient funds." in text and "insufficient_funds" in text
    assert 'id="refund-form"' not in text


def test_the_timeline_merges_attempts_events_refunds_and_audit_rows_in_time_order(staff, account, owner):
    paid = payment(account, at=paris(2026, 3, 1, 10, 0))
    charge_attempt(paid, at=paris(2026, 3, 1, 10, 1), tries=2)
    AuditEvent.objects.create(account=account, actor=owner, action="payment.succeeded", object_type="payments.payment",
                              object_id=str(paid.pk), after={"source": "webhook"}, created_at=paris(2026, 3, 1, 10, 2))
    webhook_event(paid, at=paris(2026, 3, 1, 10, 3))
    Refund.objects.create(account=account, payment=paid, amount=300, comment="Abîmé", status=Refund.Status.SUCCEEDED,
                          created_by=owner, created_at=paris(2026, 3, 1, 10, 4))
    AuditEvent.objects.create(account=account, actor=owner, action="payment.created", object_type="payments.payment",
                              object_id=str(paid.pk), created_at=paris(2026, 3, 1, 10, 0))

    response = staff.get(reverse("payments:detail", args=[paid.pk]))

    kinds = [entry.kind for entry in response.context["timeline"]]
    assert kinds == ["audit", "attempt", "audit", "webhook", "refund"]
    text = page_text(response)
    order = ["Payment created", "Charge sent to the processor", "Payment succeeded", "payment_intent.succeeded",
             "Refund of €3.00"]
    positions = [text.index(words) for words in order]
    assert positions == sorted(positions)
    assert "2 tries" in text and f"payment-{paid.pk}-charge" in text and "“Abîmé”" in text
    assert "(processor's event)" in text


# ---- Refunds ------------------------------------------------------------------------------------------

def test_the_refund_form_offers_what_remains(staff, account):
    paid = payment(account, amount=4200, amount_refunded=1000, status=Payment.Status.PARTIALLY_REFUNDED)
    response = staff.get(reverse("payments:detail", args=[paid.pk]))
    assert response.context["refund_form"].initial["amount"] == "32.00"
    assert "At most €32.00." in page_text(response)


def test_the_refund_form_is_for_those_who_may_refund(client, account):
    paid = payment(account)
    client.force_login(staff_with(account, "view_payments"))
    response = client.get(reverse("payments:detail", args=[paid.pk]))
    assert response.status_code == 200 and 'id="refund-form"' not in response.content.decode()
    before = payments_state(account)
    assert client.post(reverse("payments:refund", args=[paid.pk]), {"amount": "1"}).status_code == 403
    assert payments_state(account) == before


def test_refunding_half_then_the_rest(staff, account, gateway):
    paid = payment(account, amount=4200, processor_payment_id="pi_half")

    response = staff.post(reverse("payments:refund", args=[paid.pk]), {"amount": "21.00", "comment": "Geste"})

    assert response.status_code == 302 and response["Location"] == reverse("payments:detail", args=[paid.pk])
    paid.refresh_from_db()
    assert (paid.status, paid.amount_refunded) == (Payment.Status.PARTIALLY_REFUNDED, 2100)
    refund = Refund.objects.get(payment=paid)
    assert (refund.status, refund.amount, refund.comment) == (Refund.Status.SUCCEEDED, 2100, "Geste")
    assert gateway.calls == [{"payment_id": "pi_half", "amount": 2100, "idempotency_key": f"refund-{refund.pk}",
                              "reason": "Geste"}]
    page = staff.get(response["Location"])
    text = page_text(page)
    assert "Refund of €21.00 done." in text
    assert '<span class="badge" data-payment-status="partially_refunded">Partially refunded</span>' in text
    assert page.context["refund_form"].initial["amount"] == "21.00"
    assert AuditEvent.objects.filter(account=account, action="payment.refund_succeeded",
                                     object_id=str(paid.pk)).exists()

    staff.post(reverse("payments:refund", args=[paid.pk]), {"amount": "21", "comment": ""})

    paid.refresh_from_db()
    assert (paid.status, paid.amount_refunded) == (Payment.Status.REFUNDED, 4200)
    text = page_text(staff.get(reverse("payments:detail", args=[paid.pk])))
    assert '<span class="badge" data-payment-status="refunded">Refunded</span>' in text
    assert 'id="refund-form"' not in text


def test_a_french_refund_amount_is_read_with_a_comma(french_staff, account, gateway):
    paid = payment(account, amount=1250)
    french_staff.post(reverse("payments:refund", args=[paid.pk]), {"amount": "2,50"})
    paid.refresh_from_db()
    assert paid.amount_refunded == 250


@pytest.mark.parametrize("typed,message", [
    ("42.01", "You can refund at most €42.00."),
    ("0", "The amount must be more than zero."),
    ("-5", "The amount cannot be negative."),
    ("abc", "“abc” is not a valid amount."),
    ("", "This field is required."),
])
def test_refused_refunds_change_nothing(staff, account, gateway, typed, message):
    paid = payment(account, amount=4200)
    before = payments_state(account)

    response = staff.post(reverse("payments:refund", args=[paid.pk]), {"amount": typed, "comment": "x"})

    assert response.status_code == 400
    assert message in page_text(response)
    assert 'id="refund-form"' in response.content.decode()
    assert payments_state(account) == before and not gateway.calls


def test_refunding_a_failed_payment_is_refused(staff, account, gateway):
    failed = payment(account, status=Payment.Status.FAILED, failure_code="card_declined")
    before = payments_state(account)

    response = staff.post(reverse("payments:refund", args=[failed.pk]), {"amount": "1"})

    assert response.status_code == 400
    assert "Only a successful payment can be refunded." in page_text(response)
    assert payments_state(account) == before and not gateway.calls


def test_a_refund_above_what_is_left_after_an_earlier_refund_is_refused(staff, account, gateway):
    paid = payment(account, amount=4200, amount_refunded=4000, status=Payment.Status.PARTIALLY_REFUNDED)
    before = payments_state(account)

    response = staff.post(reverse("payments:refund", args=[paid.pk]), {"amount": "2.01"})

    assert response.status_code == 400 and "You can refund at most €2.00." in page_text(response)
    assert payments_state(account) == before


def test_a_refund_the_processor_refuses_is_recorded_as_failed_and_said(staff, account, monkeypatch):
    use_gateway(monkeypatch, FakeGateway(error=InvalidRequest("Charge has already been refunded.")))
    paid = payment(account, amount=4200)

    response = staff.post(reverse("payments:refund", args=[paid.pk]), {"amount": "10"}, follow=True)

    paid.refresh_from_db()
    assert (paid.status, paid.amount_refunded) == (Payment.Status.SUCCEEDED, 0)
    assert Refund.objects.get(payment=paid).status == Refund.Status.FAILED
    text = page_text(response)
    assert "The processor refused the refund of €10.00." in text and "The card processor refused the request." in text


def test_a_refund_waiting_for_the_processor_holds_its_amount(staff, account, monkeypatch):
    use_gateway(monkeypatch, FakeGateway(status="pending"))
    paid = payment(account, amount=4200)

    response = staff.post(reverse("payments:refund", args=[paid.pk]), {"amount": "40"}, follow=True)

    paid.refresh_from_db()
    assert (paid.status, paid.amount_refunded) == (Payment.Status.SUCCEEDED, 0)
    text = page_text(response)
    assert "waiting for the processor's answer" in text
    assert response.context["remaining"] == 200 and "At most €2.00." in text
    refused = staff.post(reverse("payments:refund", args=[paid.pk]), {"amount": "3"})
    assert refused.status_code == 400 and "You can refund at most €2.00." in page_text(refused)


def test_a_manager_may_refund(client, account, gateway):
    paid = payment(account, amount=1000)
    client.force_login(member(account, perms.MANAGER, language="en"))
    response = client.post(reverse("payments:refund", args=[paid.pk]), {"amount": "10"})
    assert response.status_code == 302
    paid.refresh_from_db()
    assert paid.status == Payment.Status.REFUNDED


def test_list_and_detail_with_data_are_csp_clean(staff, account, owner, monkeypatch):
    from tests.test_pages_are_csp_clean import HANDLER, INLINE_SCRIPT, OUTSIDE, STYLE_ATTR

    use_gateway(monkeypatch, FakeGateway(status="pending"))
    paid = payment(account, customer=CustomerFactory(account=account), sale=completed_sale(account))
    charge_attempt(paid, at=paid.created_at)
    webhook_event(paid, at=paid.created_at)
    staff.post(reverse("payments:refund", args=[paid.pk]), {"amount": "1", "comment": "<b>x</b>"})
    for url in (reverse("payments:list"), reverse("payments:detail", args=[paid.pk]), reverse("payments:setup")):
        html = staff.get(url).content.decode()
        for pattern in (INLINE_SCRIPT, HANDLER, STYLE_ATTR, OUTSIDE):
            assert not pattern.findall(html), (url, pattern.pattern)
        assert "<b>x</b>" not in html


# ---- What the shop paid the platform ------------------------------------------------------------------

def platform_charge(account, **fields) -> Payment:
    """A charge of the platform to the shop (its plan), on the platform's processor account."""
    return payment(account, purpose=Payment.Purpose.MERCHANT_INVOICE, purpose_ref=1, payee=Payment.Payee.PLATFORM,
                   amount=2900, card_last4="5555", description="Plan Pro, March", **fields)


def test_what_the_shop_paid_the_platform_is_never_in_finance_payments(staff, account, gateway):
    ours = payment(account, amount=1250)
    theirs = platform_charge(account)
    before = payments_state(account)

    assert listed(staff.get(reverse("payments:list"))) == [ours.pk]
    for query in ({"q": "5555"}, {"q": "29.00"}, {"status": "succeeded"}, {"mode": "integrated"}):
        assert theirs.pk not in listed(staff.get(reverse("payments:list"), query))
    assert [row[7] for row in csv_rows(staff.get(reverse("payments:export")))[1:]] == ["4242"]
    assert staff.get(reverse("payments:detail", args=[theirs.pk])).status_code == 404
    assert staff.post(reverse("payments:refund", args=[theirs.pk]), {"amount": "1.00"}).status_code == 404
    assert staff.post(reverse("payments_sell:card_check", args=[theirs.pk])).status_code == 404
    assert payments_state(account) == before and gateway.calls == []
