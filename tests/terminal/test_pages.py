"""The pages people click: Setup › Payments (standalone toggle, Terminals), Setup › Payments › Terminals
(register, rename, mode, remove), the sell screen's Pay › Credit/Debit › Card reader with its live status
and Cancel, the simulated WisePOS E, and Finance › Payments › Settings."""

import pytest
from django.urls import reverse

from accounts import permissions as perms
from payments.models import Payment, PaymentSettings
from retail.models import Sale
from terminal.models import Reader, ReaderAction
from tests.factories import member, owner_of
from tests.retail.builders import choose_register, page_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(client, shop):
    boss = owner_of(shop.account)
    boss.language = "fr"
    boss.save(update_fields=["language"])
    client.force_login(boss)
    return client


@pytest.fixture
def cashier(client, shop):
    client.force_login(member(shop.account, perms.CASHIER, language="en"))
    choose_register(client, shop.register)
    return client


def test_finance_payments_settings_leads_to_setup_payments_with_the_standalone_toggle(boss):
    listing = page_text(boss.get(reverse("payments:list")))
    assert "Paramètres" in listing
    page = page_text(boss.get(reverse("payments:setup")))
    assert "Mode autonome" in page and "connexion Internet stable" in page and "Terminaux" in page

    boss.post(reverse("payments:setup"), {"processor": "integrated", "payout_schedule": "daily",
                                          "standalone_enabled": "on"})
    assert PaymentSettings.objects.get().standalone_enabled is True


def test_register_rename_switch_and_remove_a_reader(boss, shop):
    response = boss.post(reverse("terminal:readers"), {"registration_code": "simulated-wpe", "label": "Comptoir",
                                                       "register": shop.register.pk})
    assert response.status_code == 302
    reader = Reader.objects.get()
    page = page_text(boss.get(reverse("terminal:readers")))
    assert "Comptoir" in page and "En ligne" in page and reader.serial_number in page

    boss.post(reverse("terminal:reader_rename", args=[reader.pk]), {"label": "Caisse avant"})
    assert Reader.objects.get().label == "Caisse avant"

    refused = boss.post(reverse("terminal:reader_mode", args=[reader.pk]), {"mode": "standalone"}, follow=True)
    assert "Le mode autonome est désactivé" in page_text(refused)
    assert Reader.objects.get().mode == "integrated"

    boss.post(reverse("terminal:reader_remove", args=[reader.pk]))
    assert Reader.objects.get().removed_at is not None


def test_an_unknown_registration_code_is_refused_and_nothing_is_saved(boss, shop):
    response = boss.post(reverse("terminal:readers"), {"registration_code": "word-word-word", "label": "X",
                                                       "register": shop.register.pk})
    assert response.status_code == 400 and "code d’enregistrement" in page_text(response)
    assert not Reader.objects.exists()


def test_the_cashier_takes_a_card_payment_on_the_reader(cashier, cart, reader):
    sell = page_text(cashier.get(reverse("retail:sell")))
    assert "Card reader" in sell

    response = cashier.post(reverse("terminal:sell_card_start"))
    action = ReaderAction.objects.get()
    assert response["Location"] == reverse("terminal:sell_card_status", args=[action.pk])
    status = page_text(cashier.get(response["Location"], headers={"HX-Request": "true"}))
    assert "Waiting for card" in status and "Cancel" in status

    screen = cashier.get(reverse("terminal:simulator", args=[reader.pk]))
    assert "Present the card" in page_text(screen) and "€49.00" in page_text(screen)
    cashier.post(reverse("terminal:simulator_card", args=[reader.pk]), {"card": "4242424242424242"},
                 headers={"HX-Request": "true"})

    done = cashier.get(reverse("terminal:sell_card_status", args=[action.pk]), headers={"HX-Request": "true"})
    assert "Approved" in page_text(done) and done["HX-Trigger"] == "reader-done"
    assert Sale.objects.get(pk=cart.pk).balance_due == 0
    assert "Complete sale" in page_text(cashier.get(reverse("retail:sell")))


def test_the_cashier_cancels_and_the_sale_stays_open(cashier, cart, reader):
    cashier.post(reverse("terminal:sell_card_start"))
    action = ReaderAction.objects.get()
    cashier.post(reverse("terminal:sell_card_cancel", args=[action.pk]))
    page = page_text(cashier.get(reverse("terminal:sell_card_status", args=[action.pk])))
    assert "Cancelled" in page
    assert Payment.objects.get().status == "failed" and Sale.objects.get(pk=cart.pk).balance_due == 4900


def test_a_declined_card_shows_the_reason(cashier, cart, reader):
    cashier.post(reverse("terminal:sell_card_start"))
    action = ReaderAction.objects.get()
    cashier.post(reverse("terminal:simulator_card", args=[reader.pk]), {"card": "4000000000000002"})
    page = page_text(cashier.get(reverse("terminal:sell_card_status", args=[action.pk]),
                                 headers={"HX-Request": "true"}))
    assert "Declined" in page and "The card was declined" in page


def test_the_simulated_reader_runs_the_standalone_loop(boss, shop, reader):
    boss.post(reverse("payments:setup"), {"processor": "integrated", "payout_schedule": "daily",
                                          "standalone_enabled": "on"})
    screen = boss.post(reverse("terminal:simulator_mode", args=[reader.pk]), {"mode": "standalone"})
    assert "Montant total" in page_text(screen)
    boss.post(reverse("terminal:simulator_input", args=[reader.pk]), {"value": "12,50"})
    boss.post(reverse("terminal:simulator_card", args=[reader.pk]), {"card": "4242424242424242"})
    screen = boss.post(reverse("terminal:simulator_input", args=[reader.pk]), {"value": "", "skip": "1"})
    assert "Montant total" in page_text(screen)
    payment = Payment.objects.get()
    assert (payment.mode, payment.amount, payment.sale_id) == ("standalone", 1250, None)

    listed = page_text(boss.get(reverse("payments:list"), {"mode": "standalone"}))
    assert "Autonome" in listed and "12,50" in listed
    assert "12,50" not in page_text(boss.get(reverse("payments:list"), {"mode": "integrated"}))
