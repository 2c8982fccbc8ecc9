"""Saved payment methods as people click them: the owner turns the feature on and accepts the terms; a
cashier whose role may not use saved cards never sees Saved payments; a manager adds a card from the
profile with the customer's consent, makes it the default and deletes the old one ("Save changes"); the
customer adds their own card on a phone from the QR code while the staff screen turns to "Card added";
a cashier charges a saved card and completes the sale; a card that saves fine but is declined when
charged shows the reason; a card typed during a sale is saved when "Save payment details for future
purchases" is ticked; and a French cashier follows seed 004's steps word for word."""

import re

import pytest
from playwright.sync_api import expect

from accounts import permissions as perms
from accounts.models import User
from accounts.services import staff_role_update
from payments.models import Payment
from retail.models import Customer, Sale
from saved_cards.models import SavedCard, SavedCardSettings
from tests.browser.steps import add_to_cart, console_errors, open_first_register, other_payments, sign_in, type_card
from tests.factories import AccountFactory, UserFactory, member, owner_of, role
from tests.readers import qr_codes
from tests.retail.report_factories import customer, make_shop, open_register, product
from tests.saved_cards.builders import DECLINES_WHEN_CHARGED, MASTERCARD, enable, save_card

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "en-GB"}


@pytest.fixture
def boutique(transactional_db):
    account = AccountFactory(name="Boutique Cartes", language="en",
                             owner=UserFactory(email="owner@saved.test", language="en"))
    shop = make_shop(account, cheque=False)
    open_register(shop, opening_float=5000)
    product(shop, sku="FOU-1", name="Foulard soie", price=4000, rate_bp=2000)
    customer(shop, first_name="Camille", last_name="Martin", email="camille@example.fr")
    member(account, perms.MANAGER, email="manager@saved.test", language="en")
    member(account, perms.CASHIER, email="cashier@saved.test", language="en")
    return shop


@pytest.fixture
def camille(boutique):
    return Customer.objects.get(account=boutique.account, first_name="Camille")


def grant(account, preset, *codes):
    current = role(account, preset)
    staff_role_update(actor=owner_of(account), account=account, role_id=current.pk, name=current.name,
                      permissions=sorted(current.granted() | set(codes)))


def open_profile(page, live_server, name="Camille Martin"):
    page.goto(f"{live_server.url}/customers/")
    page.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()


# The sell screen's words the journeys click: (use the register, remove the customer).
SELL_WORDS = {"en": ("Use this register", "Remove customer"), "fr": ("Utiliser cette caisse", "Retirer le client")}


def sale_for_camille(page, live_server, *, language="en", choose_register=True):
    """At the sell screen (the first register chosen, unless it already is): the scarf in the cart, Camille
    Martin attached."""
    use, remove = SELL_WORDS[language]
    if choose_register:
        open_first_register(page, live_server.url, use=use)
    add_to_cart(page, "Foulard")
    expect(page.locator("#sale-total")).to_have_text(re.compile(r"40[.,]00"))
    page.locator("details.customer-picker > summary").click()
    page.locator("#customer-search").fill("Martin")
    page.locator("#customer-results").get_by_role("button", name=re.compile("Camille Martin")).click()
    # Attached (the search results also say "Camille Martin": wait for the cart that has her).
    expect(page.locator(".cart-customer").get_by_role("button", name=remove)).to_be_visible()


def test_owner_turns_saved_payment_methods_on_and_accepts_the_terms(boutique, page, live_server):
    sign_in(page, live_server.url, "owner@saved.test")
    page.goto(f"{live_server.url}/setup/")
    section = page.locator("#saved-payment-method")
    expect(section.get_by_role("heading", name="Saved payment method")).to_be_visible()

    section.get_by_label("Enable/Disable the feature").check()
    section.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", name="Terms of use of saved payment methods")).to_be_visible()
    assert not SavedCardSettings.objects.filter(enabled=True).exists()
    page.get_by_role("button", name="Accept & edit permissions").click()

    expect(page.get_by_role("heading", name="Saved payment methods are on")).to_be_visible()
    settings = SavedCardSettings.objects.get(account=boutique.account)
    assert settings.enabled and settings.terms_accepted_by.email == "owner@saved.test"
    assert settings.terms_accepted_at is not None
    expect(page.get_by_role("link", name="Edit later")).to_be_visible()
    page.get_by_role("link", name="Go to staff roles").click()

    page.get_by_role("link", name="Cashier").first.click()
    expect(page.get_by_label("Use customer's saved payment method")).not_to_be_checked()
    expect(page.get_by_label("Add saved payment method")).to_be_visible()
    page.get_by_role("link", name="Back to staff roles").click()
    page.goto(f"{live_server.url}/setup/")
    expect(page.locator("#saved-payment-method")).to_contain_text("Terms of use accepted by")
    expect(page.locator("#saved-payment-method").get_by_label("Enable/Disable the feature")).to_be_checked()


def test_a_cashier_without_use_does_not_see_saved_payments(boutique, camille, page, live_server):
    enable(boutique.account)
    save_card(camille)
    sign_in(page, live_server.url, "cashier@saved.test")

    sale_for_camille(page, live_server)

    panel = page.locator("details.other-payments")
    panel.locator(":scope > summary").click()
    expect(panel.get_by_role("link", name="Manual entry")).to_be_hidden()  # behind Credit/Debit (seed 004)
    panel.get_by_text("Credit/Debit", exact=True).click()
    expect(panel.get_by_role("link", name="Manual entry")).to_be_visible()
    expect(panel.get_by_role("link", name="Saved payments")).to_have_count(0)
    page.goto(f"{live_server.url}/sell/saved-card/")
    expect(page.get_by_text("Your staff role does not allow this.")).to_be_visible()


def test_manager_adds_a_card_from_the_profile_with_consent_and_makes_it_the_default(boutique, camille, page,
                                                                                   live_server):
    enable(boutique.account)
    save_card(camille, number=MASTERCARD)  # Camille's first card: the default until the manager changes it
    sign_in(page, live_server.url, "owner@saved.test")
    page.goto(f"{live_server.url}/setup/staff-roles/")
    page.get_by_role("link", name="Manager").first.click()
    page.get_by_label("Add saved payment method").check()
    page.get_by_label("Edit saved payment method").check()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Changes to “Manager” saved.")).to_be_visible()

    sign_in(page, live_server.url, "manager@saved.test")
    open_profile(page, live_server)
    section = page.locator("#saved-cards")
    expect(section).to_contain_text("Mastercard •••• 4444")
    section.get_by_role("link", name="+ Add").click()
    expect(page.get_by_role("heading", name="Add a saved card for Camille Martin")).to_be_visible()

    # Without the customer's consent nothing is sent to the processor.
    type_card(page.locator("[data-card-entry]"), "4000 0025 0000 3155")
    page.get_by_role("button", name="Add card and save").click()
    expect(page.locator("[data-card-message]")).to_have_text(
        "Tick the box to confirm the customer authorised saving this card.")
    assert SavedCard.objects.filter(customer=camille).count() == 1

    # With it, the bank asks the cardholder to confirm this card (the sandbox's confirm step).
    page.get_by_label("The customer authorised saving this card for future purchases.").check()
    page.get_by_role("button", name="Add card and save").click()
    expect(page.get_by_text("Your bank asks you to confirm this card")).to_be_visible()
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Visa •••• 3155 saved for Camille Martin.")).to_be_visible()

    row = page.locator("#saved-cards tr", has_text="Visa •••• 3155")
    expect(row).to_contain_text("12/34")
    expect(row).not_to_contain_text("Default")
    # The arrow next to the card, Set as default, then Save changes; nothing changes before.
    row.get_by_label("Actions for Visa •••• 3155").click()
    row.get_by_text("Set as default").click()
    expect(row.get_by_text("Will be the default card once saved")).to_be_visible()
    assert SavedCard.objects.get(customer=camille, is_default=True).last4 == "4444"
    page.locator("#saved-cards").get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Visa •••• 3155 is now the default card.")).to_be_visible()
    expect(page.locator("#saved-cards tbody tr").first).to_contain_text("Visa •••• 3155")
    expect(page.locator("#saved-cards tbody tr").first.get_by_text("Default", exact=True)).to_be_visible()
    card = SavedCard.objects.get(customer=camille, is_default=True)
    assert (card.last4, card.added_by.email) == ("3155", "manager@saved.test")

    # The old card: the arrow, Delete › Delete saved payment method, then Save changes.
    old = page.locator("#saved-cards tr", has_text="Mastercard •••• 4444")
    old.get_by_label("Actions for Mastercard •••• 4444").click()
    old.locator("details.confirm-delete > summary").click()
    expect(old.get_by_text("it cannot be charged any more")).to_be_visible()
    old.get_by_text("Delete saved payment method").click()
    expect(old.get_by_text("Will be deleted once saved")).to_be_visible()
    assert SavedCard.objects.filter(customer=camille).count() == 2
    page.locator("#saved-cards").get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Mastercard •••• 4444 deleted.")).to_be_visible()
    expect(page.locator("#saved-cards")).not_to_contain_text("4444")
    assert list(SavedCard.objects.filter(customer=camille)) == [card]


def test_the_customer_adds_their_own_card_on_a_phone_from_the_qr_code(boutique, camille, page, browser,
                                                                     live_server, settings, tmp_path):
    # The staff screen is on localhost; phones reach the same server at SITE_URL's address.
    site_url = live_server.url.replace("//localhost:", "//127.0.0.1:")
    assert site_url != live_server.url
    settings.SITE_URL = site_url
    enable(boutique.account)
    sign_in(page, live_server.url, "owner@saved.test")
    open_profile(page, live_server)
    page.get_by_role("button", name="Invite customer to add their own card").click()
    qr = page.locator("[data-qr-code]")
    expect(qr).to_be_visible()

    # The phone's camera: the QR code on the staff screen, decoded.
    picture = tmp_path / "qr.png"
    qr.screenshot(path=str(picture))
    [url] = qr_codes(picture)
    assert url.startswith(f"{site_url}/card/")
    assert url == page.locator("[data-invite-url]").inner_text()

    phone_context = browser.new_context(**PHONE)
    outside = []
    phone_context.on("request", lambda request: outside.append(request.url)
                     if not request.url.startswith((site_url, "data:", "about:")) else None)
    phone = phone_context.new_page()
    phone.goto(url)
    expect(phone.get_by_text("Boutique Cartes", exact=True)).to_be_visible()
    expect(phone.get_by_role("heading", name="Hello Camille")).to_be_visible()
    phone.get_by_role("button", name="+ Add a payment method").tap()
    type_card(phone.locator("[data-card-entry]"), "4242 4242 4242 4242", postcode="75004")
    phone.get_by_label(re.compile("I authorise Boutique Cartes to save this card")).check()
    phone.get_by_role("button", name="Add", exact=True).tap()
    expect(phone.get_by_role("heading", name="Card added")).to_be_visible()

    # Meanwhile the staff screen, polling, turns from the QR code to "Card added".
    expect(page.locator("#invite-status").get_by_role("heading", name="Card added")).to_be_visible(timeout=10_000)
    expect(page.locator("[data-qr-code]")).to_have_count(0)
    page.get_by_role("link", name="Continue").click()
    expect(page.locator("#saved-cards")).to_contain_text("Visa •••• 4242")
    expect(page.locator("#saved-cards")).to_contain_text("By the customer")

    # The link worked once: opened again, it says so and saves nothing.
    phone.goto(url)
    expect(phone.get_by_role("heading", name="This link cannot be used")).to_be_visible()
    expect(phone.get_by_text("This link has already been used")).to_be_visible()
    phone_context.close()
    assert outside == []
    card = SavedCard.objects.get(customer=camille)
    assert (card.source, card.last4) == (SavedCard.Source.QR_INVITE, "4242")


def test_cashier_charges_a_saved_card_and_completes_the_sale(boutique, camille, page, live_server):
    enable(boutique.account)
    grant(boutique.account, perms.CASHIER, "use_saved_payment_method")
    save_card(camille)
    save_card(camille, number=MASTERCARD)
    sign_in(page, live_server.url, "cashier@saved.test")

    sale_for_camille(page, live_server)
    other_payments(page, "Saved payments")

    expect(page.get_by_role("heading", name="Saved payments")).to_be_visible()
    expect(page.get_by_label(re.compile("Visa •••• 4242"))).to_be_checked()  # the default card
    expect(page.get_by_label(re.compile("Mastercard •••• 4444"))).not_to_be_checked()
    page.get_by_role("button", name="Charge").click()

    expect(page.get_by_text("Visa •••• 4242 charged €40.00.")).to_have_count(1)  # the message once, above the page
    expect(page.locator("#to-pay")).to_have_text(re.compile(r"0[.,]00"))
    page.get_by_role("button", name="Complete sale").click()  # seed 004, step 6
    expect(page.locator(".sale-done")).to_contain_text("completed")
    payment = Payment.objects.get()
    assert (payment.method, payment.status, payment.card_last4) == (
        Payment.Method.SAVED_CARD, Payment.Status.SUCCEEDED, "4242")
    assert payment.sale.status == Sale.Status.COMPLETED


def test_a_saved_card_declined_when_charged_shows_the_reason(boutique, camille, page, live_server):
    enable(boutique.account)
    grant(boutique.account, perms.CASHIER, "use_saved_payment_method")
    save_card(camille, number=DECLINES_WHEN_CHARGED)
    sign_in(page, live_server.url, "cashier@saved.test")

    sale_for_camille(page, live_server)
    other_payments(page, "Saved payments")
    page.get_by_role("button", name="Charge").click()

    expect(page.locator("[data-charge-error]")).to_have_text(
        "The card was declined. Ask the customer for another card.")
    sale = Sale.objects.get(status=Sale.Status.OPEN)
    assert sale.balance_due == 4000 and Payment.objects.get().status == Payment.Status.FAILED
    page.get_by_role("link", name="Back to the sell screen").click()
    expect(page.locator("#to-pay")).to_have_text(re.compile(r"40[.,]00"))


def test_a_card_typed_during_a_sale_is_saved_when_the_box_is_ticked(boutique, camille, page, live_server):
    enable(boutique.account)
    grant(boutique.account, perms.CASHIER, "add_saved_payment_method")
    sign_in(page, live_server.url, "cashier@saved.test")

    sale_for_camille(page, live_server)
    other_payments(page, "Credit/Debit", "Manual entry")
    type_card(page.locator("[data-card-entry]"), "4242 4242 4242 4242")
    page.get_by_label("Save payment details for future purchases").check()
    page.get_by_role("button", name="Start payment").click()
    page.get_by_role("button", name="Complete sale").click()  # seed 004, step 8

    expect(page.locator(".sale-done")).to_contain_text("completed")
    card = SavedCard.objects.get(customer=camille)
    assert (card.source, card.last4, card.added_by.email) == (SavedCard.Source.SALE, "4242", "cashier@saved.test")


def test_a_french_owner_follows_seed_004_word_for_word(boutique, camille, page, live_server):
    """Seed 004 as written, in French: a card saved during a sale (Autres paiements › Crédit/Débit ›
    Saisie manuelle, Commencer le paiement, Terminer la vente), charged at the next sale (Paiements
    enregistrés, Facturer, Terminer la vente), then on the profile the default set and a card deleted,
    each ending with Enregistrer les modifications."""
    errors = console_errors(page)
    enable(boutique.account)
    User.objects.filter(email="owner@saved.test").update(language="fr")
    sign_in(page, live_server.url, "owner@saved.test")

    sale_for_camille(page, live_server, language="fr")
    other_payments(page, "Crédit/Débit", "Saisie manuelle")
    type_card(page.locator("[data-card-entry]"), "4242 4242 4242 4242", language="fr")
    page.get_by_label("Enregistrer les détails de paiement pour de futurs achats").check()
    page.get_by_role("button", name="Commencer le paiement").click()
    page.get_by_role("button", name="Terminer la vente").click()
    expect(page.locator(".sale-done")).to_contain_text("terminée")
    assert SavedCard.objects.get(customer=camille).last4 == "4242"

    sale_for_camille(page, live_server, language="fr", choose_register=False)
    other_payments(page, "Paiements enregistrés")
    page.get_by_role("button", name="Facturer").click()
    expect(page.get_by_text("Visa •••• 4242 débitée de 40,00 €")).to_be_visible()
    page.get_by_role("button", name="Terminer la vente").click()
    expect(page.locator(".sale-done")).to_contain_text("terminée")
    assert Sale.objects.filter(status=Sale.Status.COMPLETED).count() == 2

    save_card(camille, number=MASTERCARD)
    page.goto(f"{live_server.url}/customers/")
    page.get_by_role("link", name="Camille Martin").click()
    section = page.locator("#saved-cards")
    newer = section.locator("tr", has_text="Mastercard •••• 4444")
    newer.get_by_label("Actions pour Mastercard •••• 4444").click()
    newer.get_by_text("Définir comme carte par défaut").click()
    section.get_by_role("button", name="Enregistrer les modifications").click()
    expect(page.get_by_text("Mastercard •••• 4444 est désormais la carte par défaut.")).to_be_visible()

    older = section.locator("tr", has_text="Visa •••• 4242")
    older.get_by_label("Actions pour Visa •••• 4242").click()
    older.get_by_text("Supprimer", exact=True).click()
    older.get_by_text("Supprimer le mode de paiement enregistré").click()
    section.get_by_role("button", name="Enregistrer les modifications").click()
    expect(page.get_by_text("Visa •••• 4242 supprimée.")).to_be_visible()
    assert [(card.last4, card.is_default) for card in SavedCard.objects.filter(customer=camille)] == [("4444", True)]
    assert errors == []
