"""Setup › Payments: the processor (integrated payments or Tyro), the cash discount programme, the
payout schedule and the configured gateway; saved through payments.settings_services with an audit row."""

import pytest
from django.urls import reverse

from accounts import permissions as perms
from accounts.models import AuditEvent
from payments.models import PaymentSettings
from payments.settings_services import payment_settings_of, payment_settings_update
from posbackoffice.errors import DomainError
from tests.factories import member, owner_of
from tests.payments.builders import page_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(account):
    user = owner_of(account)
    user.language = "en"
    user.save(update_fields=["language"])
    return user


@pytest.fixture
def staff(client, owner):
    client.force_login(owner)
    return client


def settings_state(account) -> dict:
    return {
        "rows": list(PaymentSettings.objects.filter(account=account)
                     .values_list("processor", "cash_discount_enabled", "payout_schedule")),
        "audit": AuditEvent.objects.filter(account=account, action="payment_settings.changed").count(),
    }


def test_the_page_shows_the_defaults_and_the_configured_gateway(staff, account, settings):
    settings.PAYMENTS_GATEWAY = "sandbox"
    response = staff.get(reverse("payments:setup"))

    text = page_text(response)
    assert response.status_code == 200
    assert response.context["form"].initial == {"processor": "integrated", "cash_discount_enabled": False,
                                                "payout_schedule": "daily", "standalone_enabled": False}
    assert "Integrated payments (Stripe)" in text and "Tyro" in text
    assert "Choosing Tyro turns off pay links, which need integrated payments." in text
    assert "Sandbox (test mode)" in text
    assert "Every day" in text and "Every week (Monday)" in text
    assert not PaymentSettings.objects.filter(account=account).exists()  # looking saves nothing

    settings.PAYMENTS_GATEWAY = "stripe"
    assert ">Stripe</dd>" in staff.get(reverse("payments:setup")).content.decode()


def test_saving_stores_the_settings_and_audits_them(staff, account, owner):
    response = staff.post(reverse("payments:setup"), {"processor": "tyro", "cash_discount_enabled": "on",
                                                      "payout_schedule": "weekly"})

    assert response.status_code == 302 and response["Location"] == reverse("payments:setup")
    row = PaymentSettings.objects.get(account=account)
    assert (row.processor, row.cash_discount_enabled, row.payout_schedule) == ("tyro", True, "weekly")
    event = AuditEvent.objects.get(account=account, action="payment_settings.changed")
    assert event.actor == owner and event.before is None
    assert event.after == {"processor": "tyro", "cash_discount_enabled": True, "payout_schedule": "weekly",
                           "standalone_enabled": False}
    page = staff.get(reverse("payments:setup"))
    assert "Payment settings saved." in page_text(page)
    assert page.context["form"].initial["processor"] == "tyro"

    staff.post(reverse("payments:setup"), {"processor": "integrated", "payout_schedule": "monthly"})

    row.refresh_from_db()
    assert (row.processor, row.cash_discount_enabled, row.payout_schedule) == ("integrated", False, "monthly")
    latest = AuditEvent.objects.filter(account=account, action="payment_settings.changed").order_by("-id").first()
    assert latest.before == {"processor": "tyro", "cash_discount_enabled": True, "payout_schedule": "weekly",
                             "standalone_enabled": False}
    assert latest.after["payout_schedule"] == "monthly"
    assert PaymentSettings.objects.filter(account=account).count() == 1


@pytest.mark.parametrize("data,field", [
    ({"processor": "paypal", "payout_schedule": "daily"}, "processor"),
    ({"processor": "integrated", "payout_schedule": "hourly"}, "payout_schedule"),
    ({"payout_schedule": "daily"}, "processor"),
])
def test_a_bad_choice_is_refused_and_changes_nothing(staff, account, data, field):
    payment_settings_update(actor=None, account=account, processor="integrated", cash_discount_enabled=True,
                            payout_schedule="weekly")
    before = settings_state(account)

    response = staff.post(reverse("payments:setup"), data)

    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert settings_state(account) == before


def test_the_service_refuses_what_the_form_would(account):
    with pytest.raises(DomainError):
        payment_settings_update(actor=None, account=account, processor="paypal", cash_discount_enabled=False,
                                payout_schedule="daily")
    with pytest.raises(DomainError):
        payment_settings_update(actor=None, account=account, processor="tyro", cash_discount_enabled=False,
                                payout_schedule="yearly")
    assert settings_state(account) == {"rows": [], "audit": 0}
    assert payment_settings_of(account).processor == "integrated"


def test_settings_are_per_account(account, other_account):
    payment_settings_update(actor=None, account=other_account, processor="tyro", cash_discount_enabled=True,
                            payout_schedule="monthly")
    assert payment_settings_of(account).processor == "integrated"
    assert payment_settings_of(other_account).processor == "tyro"


def test_only_roles_that_manage_payment_settings_may_open_it(client, account):
    client.force_login(member(account, perms.MANAGER, language="en"))
    assert client.get(reverse("payments:setup")).status_code == 403
    assert client.post(reverse("payments:setup"), {"processor": "tyro", "payout_schedule": "daily"}).status_code == 403
    assert settings_state(account) == {"rows": [], "audit": 0}
