"""Products pages: the list (search, filters, pagination, live search partial, stock totals), the
product form with prices typed in the user's language, stock takes per outlet, the CSV export,
tenancy and permissions."""


import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AuditEvent, Membership, StaffRole
from posbackoffice import exports
from posbackoffice.models import ExportJob
from retail.models import Product, StockLevel, StockMove, TaxRate
from tests.factories import OutletFactory, UserFactory, member, owner_of
from tests.retail.builders import csv_rows
from tests.retail.factories import ProductFactory, StockLevelFactory

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


def rate(account, rate_bp) -> TaxRate:
    return TaxRate.objects.get(account=account, rate_bp=rate_bp)


def names_on(response) -> list[str]:
    return [product.name for product in response.context["rows"]]


# ---- List ---------------------------------------------------------------------------------------------

def test_list_shows_price_tax_rate_and_stock_across_outlets(staff, account):
    coffee = ProductFactory(account=account, name="Café moulu", sku="CAF-1", price=1250, tax_rate=rate(account, 550))
    StockLevelFactory(product=coffee, quantity=7)
    StockLevelFactory(product=coffee, quantity=5)
    ProductFactory(account=account, name="Frais d'abonnement", sku="ABO", price=500, track_inventory=False)

    response = staff.get(reverse("retail:products"))

    assert response.status_code == 200
    rows = {p.name: p for p in response.context["rows"]}
    assert rows["Café moulu"].stock_total == 12
    assert rows["Frais d'abonnement"].stock_total is None  # a fee has no stock
    html = response.content.decode()
    assert "€12.50" in html and "TVA 5,5 %" in html and "<td class=\"num\">12</td>" in html


def test_prices_follow_the_readers_language(french_staff, account):
    ProductFactory(account=account, name="Livre", price=123450)
    html = french_staff.get(reverse("retail:products")).content.decode()
    assert "1\u202f234,50\u00a0€" in html


def test_search_matches_name_sku_or_barcode_in_one_box(staff, account):
    ProductFactory(account=account, name="Thé vert", sku="TEA-01")
    ProductFactory(account=account, name="Bougie", sku="CDL-7", barcode="3760001234567")
    ProductFactory(account=account, name="Savon", sku="SOAP")

    assert names_on(staff.get(reverse("retail:products"), {"q": "thé"})) == ["Thé vert"]
    assert names_on(staff.get(reverse("retail:products"), {"q": "cdl"})) == ["Bougie"]
    assert names_on(staff.get(reverse("retail:products"), {"q": "0001234"})) == ["Bougie"]
    assert names_on(staff.get(reverse("retail:products"), {"q": "nothing like it"})) == []


def test_filters_tax_rate_inventory_kind_and_status(staff, account):
    ProductFactory(account=account, name="A book", tax_rate=rate(account, 550))
    ProductFactory(account=account, name="B fee", track_inventory=False)
    ProductFactory(account=account, name="C old", is_active=False)
    url = reverse("retail:products")

    assert names_on(staff.get(url, {"tax_rate": rate(account, 550).pk})) == ["A book"]
    assert names_on(staff.get(url, {"kind": "non_inventory"})) == ["B fee"]
    assert names_on(staff.get(url, {"kind": "inventory"})) == ["A book", "C old"]
    assert names_on(staff.get(url, {"status": "inactive"})) == ["C old"]
    assert names_on(staff.get(url, {"status": "active", "kind": "inventory"})) == ["A book"]


def test_another_accounts_tax_rate_is_not_a_filter(staff, account, other_account):
    ProductFactory(account=account, name="Mine")
    response = staff.get(reverse("retail:products"), {"tax_rate": rate(other_account, 2000).pk})
    assert response.status_code == 400
    assert response.context["form"].errors["tax_rate"]


def test_list_is_paginated_by_fifty_in_name_order(staff, account):
    for n in range(51):
        ProductFactory(account=account, name=f"Produit {n:02d}")
    ProductFactory(account=account, name="Produit 00")  # same name: the id keeps the order stable

    first = staff.get(reverse("retail:products"))
    second = staff.get(reverse("retail:products"), {"page": 2})

    assert len(first.context["rows"]) == 50
    assert names_on(first)[:3] == ["Produit 00", "Produit 00", "Produit 01"]
    assert names_on(second) == ["Produit 49", "Produit 50"]
    assert "page=2" in first.content.decode()


def test_stock_totals_cost_one_query_whatever_the_page_size(staff, account):
    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            assert staff.get(reverse("retail:products")).status_code == 200
        return len(queries)

    StockLevelFactory(product=ProductFactory(account=account))
    few = count_queries()
    for _n in range(20):
        StockLevelFactory(product=ProductFactory(account=account))
    assert count_queries() == few


def test_live_search_answers_only_the_results(staff, account):
    ProductFactory(account=account, name="Thé vert")
    ProductFactory(account=account, name="Savon")

    response = staff.get(reverse("retail:products"), {"q": "thé"}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "Thé vert" in html and "Savon" not in html
    page = staff.get(reverse("retail:products")).content.decode()
    assert 'hx-trigger="input changed delay:300ms, change, submit"' in page and 'hx-push-url="true"' in page


def test_a_history_restore_gets_the_whole_page(staff, account):
    response = staff.get(reverse("retail:products"), HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in response.content.decode()


def test_list_shows_only_this_accounts_products(staff, account, other_account):
    ProductFactory(account=account, name="Mine")
    ProductFactory(account=other_account, name="Theirs")
    assert names_on(staff.get(reverse("retail:products"))) == ["Mine"]


# ---- Create and edit ----------------------------------------------------------------------------------

def test_create_reads_the_price_in_the_users_language(french_staff, account):
    response = french_staff.post(reverse("retail:product_create"), {
        "name": "Coffret cadeau", "sku": "GIFT-1", "barcode": "", "price": "1 234,50",
        "tax_rate": rate(account, 2000).pk, "track_inventory": "on", "is_active": "on",
    })

    product = Product.objects.get(account=account, sku="GIFT-1")
    assert response.status_code == 302 and response["Location"] == reverse("retail:product_edit", args=[product.pk])
    assert product.price == 123450 and product.track_inventory and product.is_active
    assert AuditEvent.objects.filter(account=account, action="product.created", object_id=str(product.pk)).exists()


def test_create_a_non_inventory_fee(staff, account):
    staff.post(reverse("retail:product_create"), {
        "name": "Frais d'abonnement", "sku": "ABO-1", "price": "€9.90", "tax_rate": rate(account, 2000).pk,
        "is_active": "on",
    })
    fee = Product.objects.get(account=account, sku="ABO-1")
    assert fee.price == 990 and not fee.track_inventory


@pytest.mark.parametrize("typed", ["12,345", "douze", "-5", ""])
def test_a_price_that_cannot_be_read_is_an_error_on_the_price_field(french_staff, account, typed):
    response = french_staff.post(reverse("retail:product_create"), {
        "name": "Coffret", "sku": "GIFT-2", "price": typed, "tax_rate": rate(account, 2000).pk,
    })
    assert response.status_code == 400
    assert response.context["form"].errors["price"]
    assert not Product.objects.filter(account=account).exists()


@pytest.mark.parametrize("typed", ["1111111111111111111", "1000000000.01", "9" * 400])
def test_a_price_beyond_a_billion_is_refused_with_the_limit(staff, account, typed):
    response = staff.post(reverse("retail:product_create"), {
        "name": "Coffret", "sku": "GIFT-3", "price": typed, "tax_rate": rate(account, 2000).pk,
    })

    assert response.status_code == 400
    assert response.context["form"].errors["price"] == ["The amount cannot be more than €1,000,000,000.00."]
    assert not Product.objects.filter(account=account).exists()


def test_a_refused_product_shows_the_services_message_and_saves_nothing(staff, account):
    ProductFactory(account=account, sku="DUP-1", name="First")

    response = staff.post(reverse("retail:product_create"), {
        "name": "Second", "sku": "dup-1", "price": "5", "tax_rate": rate(account, 2000).pk,
    })

    assert response.status_code == 400
    assert "Another product already has the SKU dup-1." in response.content.decode()
    assert list(Product.objects.filter(account=account).values_list("name", flat=True)) == ["First"]


def test_edit_changes_the_product(staff, account):
    product = ProductFactory(account=account, name="Old name", sku="P-1", price=100)
    page = staff.get(reverse("retail:product_edit", args=[product.pk]))
    assert page.context["form"].initial["price"] == "€1.00"

    response = staff.post(reverse("retail:product_edit", args=[product.pk]), {
        "name": "New name", "sku": "P-1", "price": "2.50", "tax_rate": rate(account, 1000).pk,
        "track_inventory": "on",
    })

    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.name, product.price, product.tax_rate.rate_bp, product.is_active) == ("New name", 250, 1000, False)


def test_a_refused_edit_changes_nothing(staff, account):
    ProductFactory(account=account, sku="TAKEN")
    product = ProductFactory(account=account, sku="MINE", name="Mine", price=100)

    response = staff.post(reverse("retail:product_edit", args=[product.pk]), {
        "name": "Renamed", "sku": "TAKEN", "price": "3", "tax_rate": product.tax_rate_id, "is_active": "on",
    })

    assert response.status_code == 400
    assert "Another product already has the SKU TAKEN." in response.content.decode()
    product.refresh_from_db()
    assert (product.name, product.sku, product.price) == ("Mine", "MINE", 100)


def test_another_accounts_product_is_not_found(staff, other_account):
    theirs = ProductFactory(account=other_account, name="Theirs", price=100)
    assert staff.get(reverse("retail:product_edit", args=[theirs.pk])).status_code == 404
    assert staff.post(reverse("retail:product_edit", args=[theirs.pk]), {
        "name": "Mine now", "sku": "X", "price": "1", "tax_rate": theirs.tax_rate_id}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"


def test_another_accounts_tax_rate_cannot_be_chosen(staff, account, other_account):
    product = ProductFactory(account=account, price=100)
    response = staff.post(reverse("retail:product_edit", args=[product.pk]), {
        "name": "X", "sku": "X", "price": "1", "tax_rate": rate(other_account, 2000).pk})
    assert response.status_code == 400 and response.context["form"].errors["tax_rate"]
    assert Product.objects.get(pk=product.pk).tax_rate.account_id == account.pk


def test_cashier_cannot_open_products(client, account):
    client.force_login(member(account, "cashier"))
    assert client.get(reverse("retail:products")).status_code == 403


# ---- Stock per outlet ---------------------------------------------------------------------------------

def test_edit_page_shows_stock_per_outlet(staff, account):
    product = ProductFactory(account=account)
    paris = OutletFactory(account=account, name="Paris")
    OutletFactory(account=account, name="Lyon")
    StockLevelFactory(product=product, outlet=paris, quantity=4)

    response = staff.get(reverse("retail:product_edit", args=[product.pk]))

    assert [(outlet.name, quantity) for outlet, quantity, _form in response.context["stock_rows"]] == [
        ("Lyon", 0), ("Paris", 4)]
    assert reverse("retail:product_stock", args=[product.pk]) in response.content.decode()


def test_a_non_inventory_item_shows_no_stock(staff, account):
    OutletFactory(account=account)
    fee = ProductFactory(account=account, name="Frais d'abonnement", track_inventory=False)
    response = staff.get(reverse("retail:product_edit", args=[fee.pk]))
    assert response.context["stock_rows"] == []
    assert "non-inventory item" in response.content.decode()


def test_set_counted_quantity(staff, owner, account):
    product = ProductFactory(account=account)
    outlet = OutletFactory(account=account)
    StockLevelFactory(product=product, outlet=outlet, quantity=4)

    response = staff.post(reverse("retail:product_stock", args=[product.pk]), {"outlet": outlet.pk, "quantity": "9"})

    assert response.status_code == 302
    assert StockLevel.objects.get(product=product, outlet=outlet).quantity == 9
    move = StockMove.objects.get(product=product, outlet=outlet)
    assert (move.delta, move.reason, move.actor) == (5, StockMove.Reason.ADJUSTMENT, owner)


@pytest.mark.parametrize("quantity", ["-1", "deux", "", "1,5", "²", "１２", "2147483648", "10000001"])
def test_a_bad_counted_quantity_changes_nothing(staff, account, quantity):
    product = ProductFactory(account=account)
    outlet = OutletFactory(account=account)
    StockLevelFactory(product=product, outlet=outlet, quantity=4)

    response = staff.post(reverse("retail:product_stock", args=[product.pk]), {"outlet": outlet.pk,
                                                                               "quantity": quantity})

    assert response.status_code == 400
    assert response.context["stock_form"].errors["quantity"]
    assert StockLevel.objects.get(product=product, outlet=outlet).quantity == 4
    assert not StockMove.objects.exists()


def test_a_counted_quantity_beyond_the_database_says_the_limit(staff, account):
    product = ProductFactory(account=account)
    outlet = OutletFactory(account=account)

    response = staff.post(reverse("retail:product_stock", args=[product.pk]), {"outlet": outlet.pk,
                                                                               "quantity": "2147483648"})

    assert response.status_code == 400
    assert response.context["stock_form"].errors["quantity"] == [
        "Ensure this value is less than or equal to 10000000."]
    assert not StockLevel.objects.filter(product=product).exists() and not StockMove.objects.exists()


def test_stock_of_a_non_inventory_item_is_refused(staff, account):
    fee = ProductFactory(account=account, name="Frais", track_inventory=False)
    outlet = OutletFactory(account=account)

    response = staff.post(reverse("retail:product_stock", args=[fee.pk]), {"outlet": outlet.pk, "quantity": "3"})

    assert response.status_code == 400
    assert "“Frais” is not an inventory item." in response.content.decode()
    assert not StockLevel.objects.filter(product=fee).exists() and not StockMove.objects.exists()


def test_stock_at_another_accounts_outlet_or_of_their_product_is_refused(staff, account, other_account):
    mine = ProductFactory(account=account)
    their_outlet = OutletFactory(account=other_account)
    response = staff.post(reverse("retail:product_stock", args=[mine.pk]), {"outlet": their_outlet.pk,
                                                                           "quantity": "3"})
    assert response.status_code == 400

    theirs = ProductFactory(account=other_account)
    response = staff.post(reverse("retail:product_stock", args=[theirs.pk]), {"outlet": their_outlet.pk,
                                                                             "quantity": "3"})
    assert response.status_code == 404
    assert not StockLevel.objects.exists() and not StockMove.objects.exists()


# ---- CSV export ---------------------------------------------------------------------------------------

def test_export_has_the_lists_filters_and_the_readers_number_format(french_staff, account, other_account):
    coffee = ProductFactory(account=account, name="Café", sku="CAF", barcode="123", price=1250,
                            tax_rate=rate(account, 550))
    StockLevelFactory(product=coffee, quantity=3)
    StockLevelFactory(product=coffee, quantity=4)
    ProductFactory(account=account, name="Frais", sku="FEE", price=500, track_inventory=False)
    ProductFactory(account=account, name="Savon", sku="SOAP")
    ProductFactory(account=other_account, name="Café d'ailleurs", sku="CAF2")

    response = french_staff.get(reverse("retail:products_export"), {"q": "ca"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = csv_rows(response)
    assert len(rows) == 2
    assert rows[1] == ["CAF", "123", "Café", "12,50", "TVA 5,5 %", "1", "1", "7"]

    rows = csv_rows(french_staff.get(reverse("retail:products_export"), {"kind": "non_inventory"}))
    assert rows[1:] == [["FEE", "", "Frais", "5,00", rows[1][4], "0", "1", ""]]


def test_export_header_follows_the_readers_language(staff, account):
    ProductFactory(account=account, name="Café", price=1250)
    rows = csv_rows(staff.get(reverse("retail:products_export")))
    assert rows[0][:4] == ["SKU", "Barcode", "Name", "Price"]
    assert rows[1][3] == "12.50"


def test_a_large_export_goes_to_the_worker(staff, account, monkeypatch):
    monkeypatch.setattr(exports, "INLINE_LIMIT", 1)
    ProductFactory(account=account, name="Thé 1")
    ProductFactory(account=account, name="Thé 2")

    response = staff.get(reverse("retail:products_export"), {"q": "thé", "status": "active"})

    job = ExportJob.objects.get(account=account)
    assert response.status_code == 302 and response["Location"] == reverse("export_job", args=[job.pk])
    assert job.kind == "products"
    assert {k: v for k, v in job.params.items() if k != "_language"} == {"q": "thé", "status": "active"}


def test_export_needs_the_export_permission(client, account):
    role = StaffRole.objects.create(account=account, name="Stock", preset="custom", permissions=["manage_products"])
    user = UserFactory()
    Membership.objects.create(account=account, user=user, role=role)
    client.force_login(user)

    assert client.get(reverse("retail:products")).status_code == 200
    assert client.get(reverse("retail:products_export")).status_code == 403
    assert not ExportJob.objects.exists()
