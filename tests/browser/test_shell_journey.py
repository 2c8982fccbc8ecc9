import pytest
from playwright.sync_api import expect

from accounts import permissions as perms
from accounts.models import StaffRole

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_switches_language_and_logs_out(shop, login, page, live_server):
    login("owner@demo.test")
    nav = page.get_by_role("navigation", name="Menu principal")
    # The demo shop is French; switch to English, then back to French.
    page.get_by_role("button", name="EN").click()
    nav = page.get_by_role("navigation", name="Main menu")
    expect(nav.get_by_role("link", name="Sales history")).to_be_visible()
    page.get_by_role("button", name="FR").click()
    nav = page.get_by_role("navigation", name="Menu principal")
    for label in ("Historique des ventes", "Produits", "Clients", "Expéditions", "Rapports",
                  "Liens de paiement", "Rôles du personnel", "Facturation", "Activité"):
        expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Abonnements", exact=True)).to_have_count(0)  # the add-on is off
    page.locator("details.user-menu summary").click()
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(f"{live_server.url}/login/")
    page.goto(f"{live_server.url}/setup/activity/")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/setup/activity/")


def test_cashier_gets_a_friendly_403_on_staff_roles(shop, login, page, live_server):
    login("cashier@demo.test")
    response = page.goto(f"{live_server.url}/setup/staff-roles/")
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Vous ne pouvez pas ouvrir cette page")
    nav = page.get_by_role("navigation", name="Menu principal")
    expect(nav.get_by_role("link", name="Rôles du personnel")).to_have_count(0)


def test_other_account_gets_404_on_the_first_accounts_objects(shop, login, page, live_server):
    role = StaffRole.objects.get(account=shop, preset=perms.CASHIER)
    login("other@demo.test")
    response = page.goto(f"{live_server.url}/setup/staff-roles/{role.pk}/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
