"""Customers pages: the list (search over several words, filters, keyset pages, live search, export),
the profile with balances and latest sales, the customer form (one e-mail address only), customer
types under Setup, tenancy and permissions."""

import html
import re

import pytest
from django.template import engines
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from accounts.models import AuditEvent
from posbackoffice.models import ExportJob
from retail.models import Customer, CustomerType, Sale
from tests.factories import RegisterFactory, member, owner_of
from tests.retail.builders import csv_rows
from tests.retail.factories import CustomerFactory, CustomerTypeFactory, SaleFactory

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


def names_on(response) -> list[str]:
    return [str(customer) for customer in response.context["page"].rows]


def link(response, rel: str) -> str | None:
    """The query of the page's "Previous" (rel="prev") or "Next" (rel="next") link, as a browser follows it."""
    found = re.search(rf'<a href="\?([^"]*)" rel="{rel}">', response.content.decode())
    return html.unescape(found.group(1)) if found else None


def customer_form(**fields) -> dict:
    return {"first_name": "", "last_name": "", "company": "", "email": "", "phone": "", "customer_type": "",
            "address_line1": "", "address_line2": "", "postcode": "", "city": "", "country": "", "notes": "",
            **fields}


# ---- List ---------------------------------------------------------------------------------------------

def test_list_shows_contact_type_and_balance(staff, account):
    vip = CustomerTypeFactory(account=account, name="VIP")
    CustomerFactory(account=account, first_name="Léa", last_name="Martin", company="Atelier Lumière",
                    email="lea@atelier.fr", phone="06 12 34 56 78", customer_type=vip, balance=4550)

    response = staff.get(reverse("retail:customers"))

    html = response.content.decode()
    assert response.status_code == 200
    for text in ("Léa Martin", "Atelier Lumière", "lea@atelier.fr", "06 12 34 56 78", "VIP", "€45.50"):
        assert text in html


@pytest.mark.parametrize("q,found", [
    ("Léa Martin", ["Léa Martin"]),
    ("martin léa", ["Léa Martin"]),
    ("martin", ["Léa Martin", "Paul Martin"]),
    ("lumière", ["Léa Martin"]),
    ("paul@", ["Paul Martin"]),
    ("07 98", ["Paul Martin"]),
    ("Léa Dupont", []),
])
def test_search_splits_words_over_names_company_email_and_phone(staff, account, q, found):
    CustomerFactory(account=account, first_name="Léa", last_name="Martin", company="Atelier Lumière",
                    email="lea@atelier.fr", phone="06 12 34 56 78")
    CustomerFactory(account=account, first_name="Paul", last_name="Martin", email="paul@exemple.fr",
                    phone="07 98 76 54 32")
    CustomerFactory(account=account, first_name="Chloé", last_name="Bernard")

    assert names_on(staff.get(reverse("retail:customers"), {"q": q})) == found


def test_filters_customer_type_and_balance(staff, account):
    vip = CustomerTypeFactory(account=account, name="VIP")
    CustomerFactory(account=account, first_name="A", last_name="Owes", balance=100)
    CustomerFactory(account=account, first_name="B", last_name="Vip", customer_type=vip)
    CustomerFactory(account=account, first_name="C", last_name="Plain")
    url = reverse("retail:customers")

    assert names_on(staff.get(url, {"customer_type": vip.pk})) == ["B Vip"]
    assert names_on(staff.get(url, {"customer_type": "none"})) == ["A Owes", "C Plain"]
    assert names_on(staff.get(url, {"has_balance": "on"})) == ["A Owes"]


def test_list_pages_follow_next_and_previous_links_and_only_this_accounts(staff, account, other_account):
    # 120 customers, many sharing a name (the id keeps them apart in the list's order).
    for n in range(120):
        CustomerFactory(account=account, first_name=["Léa", "Paul"][n % 2], last_name=f"N{n % 7}")
    CustomerFactory(account=other_account, first_name="Client", last_name="Elsewhere")
    in_order = list(Customer.objects.filter(account=account).order_by("last_name", "first_name", "id"))
    url = reverse("retail:customers")

    pages = [staff.get(url)]
    while (query := link(pages[-1], "next")) is not None:
        pages.append(staff.get(f"{url}?{query}"))

    assert [len(page.context["page"].rows) for page in pages] == [50, 50, 20]
    assert [c for page in pages for c in page.context["page"].rows] == in_order
    assert all("120 customers" in page.content.decode() and "Elsewhere" not in page.content.decode()
               for page in pages)
    assert link(pages[0], "prev") is None
    back = staff.get(f"{url}?{link(pages[2], 'prev')}")
    assert back.context["page"].rows == pages[1].context["page"].rows
    first = staff.get(f"{url}?{link(back, 'prev')}")
    assert first.context["page"].rows == pages[0].context["page"].rows
    assert link(first, "prev") is None and link(first, "next") == link(pages[0], "next")


def test_pages_of_a_search_keep_the_search(staff, account):
    for n in range(60):
        CustomerFactory(account=account, first_name=f"Léa{n:02d}", last_name="Martin")
    CustomerFactory(account=account, first_name="Paul", last_name="Durand")
    url = reverse("retail:customers")

    first = staff.get(url, {"q": "martin"})
    second = staff.get(f"{url}?{link(first, 'next')}")

    assert "q=martin" in link(first, "next")
    assert names_on(first) + names_on(second) == [f"Léa{n:02d} Martin" for n in range(60)]
    assert link(second, "next") is None


def test_live_search_answers_only_the_results(staff, account):
    CustomerFactory(account=account, first_name="Léa", last_name="Martin")
    CustomerFactory(account=account, first_name="Paul", last_name="Durand")

    response = staff.get(reverse("retail:customers"), {"q": "léa"}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert "<html" not in html and "Léa Martin" in html and "Durand" not in html


# ---- Profile ------------------------------------------------------------------------------------------

def test_profile_shows_details_balances_and_the_ten_latest_sales(staff, account):
    customer = CustomerFactory(account=account, first_name="Léa", last_name="Martin", email="lea@atelier.fr",
                               address_line1="12 rue des Lilas", postcode="69001", city="Lyon", country="FR",
                               notes="Préfère être appelée le matin.", balance=4550, store_credit=1000)
    register = RegisterFactory(outlet__account=account)
    sales = [SaleFactory(register=register, customer=customer, receipt_number=500 + n) for n in range(12)]
    SaleFactory(register=register, customer=customer, status=Sale.Status.PARKED, receipt_number=None,
                completed_at=None)
    SaleFactory(register=register, receipt_number=999)  # someone else's sale

    response = staff.get(reverse("retail:customer_detail", args=[customer.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    for text in ("lea@atelier.fr", "12 rue des Lilas", "69001 Lyon", "Préfère être appelée le matin.",
                 "€10.00"):
        assert text in html
    assert "balance-callout" in html and "<strong>€45.50</strong>" in html
    shown = response.context["sales"]
    assert [s.pk for s in shown] == [s.pk for s in reversed(sales)][:10]
    assert reverse("retail:sale_detail", args=[sales[-1].pk]) in html
    assert reverse("retail:sale_detail", args=[sales[0].pk]) not in html
    assert ">999<" not in html


def test_profile_without_balance_has_no_callout(staff, account):
    customer = CustomerFactory(account=account, balance=0)
    html = staff.get(reverse("retail:customer_detail", args=[customer.pk])).content.decode()
    assert "balance-callout" not in html


def test_profile_can_be_extended_with_more_sections(staff, account):
    """A later feature adds its section (e.g. saved payment methods) by filling profile_sections."""
    customer = CustomerFactory(account=account, first_name="Léa", last_name="Martin")
    response = staff.get(reverse("retail:customer_detail", args=[customer.pk]))
    template = engines["django"].from_string(
        '{% extends "retail/customers/detail.html" %}'
        '{% block profile_sections %}<section id="saved-cards">Saved payment methods</section>{% endblock %}'
    )

    html = template.render({"customer": customer, "sales": [], "currency": "EUR"}, response.wsgi_request)

    assert html.index("Léa Martin") < html.index('id="saved-cards"') < html.index("Latest sales")


def test_another_accounts_customer_is_not_found(staff, other_account):
    theirs = CustomerFactory(account=other_account, first_name="Theirs")
    assert staff.get(reverse("retail:customer_detail", args=[theirs.pk])).status_code == 404
    assert staff.get(reverse("retail:customer_edit", args=[theirs.pk])).status_code == 404
    response = staff.post(reverse("retail:customer_edit", args=[theirs.pk]), customer_form(first_name="Mine"))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.first_name == "Theirs"


# ---- Create and edit ----------------------------------------------------------------------------------

def test_create_a_customer(staff, account):
    vip = CustomerTypeFactory(account=account, name="VIP")

    response = staff.post(reverse("retail:customer_create"), customer_form(
        first_name="Léa", last_name="Martin", email=" Lea@Atelier.fr ", phone="06 12 34 56 78",
        customer_type=vip.pk, city="Lyon", country="fr"))

    customer = Customer.objects.get(account=account)
    assert response.status_code == 302
    assert response["Location"] == reverse("retail:customer_detail", args=[customer.pk])
    assert (customer.email, customer.country, customer.customer_type) == ("lea@atelier.fr", "FR", vip)
    assert AuditEvent.objects.filter(account=account, action="customer.created").exists()


def test_a_customer_reads_the_shops_language_unless_another_is_chosen(staff, account):
    account.language = "fr"
    account.save(update_fields=["language"])
    page = staff.get(reverse("retail:customer_create"))
    assert page.context["form"]["language"].value() == "fr" and "Language" in page.content.decode()
    staff.post(reverse("retail:customer_create"), customer_form(first_name="Léa"))
    staff.post(reverse("retail:customer_create"), customer_form(first_name="Paul", language="en"))
    assert dict(Customer.objects.values_list("first_name", "language")) == {"Léa": "fr", "Paul": "en"}

    paul = Customer.objects.get(first_name="Paul")
    assert "English" in staff.get(reverse("retail:customer_detail", args=[paul.pk])).content.decode()
    staff.post(reverse("retail:customer_edit", args=[paul.pk]), customer_form(first_name="Paul", language="fr"))
    paul.refresh_from_db()
    assert paul.language == "fr"
    event = AuditEvent.objects.filter(account=account, action="customer.updated").latest("pk")
    assert (event.before["language"], event.after["language"]) == ("en", "fr")


def test_an_unknown_language_is_refused(staff, account):
    response = staff.post(reverse("retail:customer_create"), customer_form(first_name="Léa", language="de"))
    assert response.status_code == 400 and response.context["form"].errors["language"]
    assert not Customer.objects.exists()


@pytest.mark.parametrize("email", ["lea@atelier.fr, paul@exemple.fr", "lea@atelier.fr;paul@exemple.fr",
                                   "lea@atelier.fr paul@exemple.fr"])
def test_several_email_addresses_are_refused_on_the_email_field_in_the_users_language(french_staff, account, email):
    response = french_staff.post(reverse("retail:customer_create"), customer_form(first_name="Léa", email=email))

    assert response.status_code == 400
    with translation.override("fr"):
        expected = gettext("Enter exactly one e-mail address.")
    assert response.context["form"].errors["email"] == [expected]
    assert expected in response.content.decode()
    assert not Customer.objects.exists()


def test_an_invalid_email_is_refused(staff, account):
    response = staff.post(reverse("retail:customer_create"), customer_form(first_name="Léa", email="lea@"))
    assert response.status_code == 400 and response.context["form"].errors["email"]
    assert not Customer.objects.exists()


def test_a_customer_needs_a_name_or_a_company(staff, account):
    response = staff.post(reverse("retail:customer_create"), customer_form(email="lea@atelier.fr"))
    assert response.status_code == 400
    assert "A customer needs a first name, a last name or a company." in response.content.decode()
    assert not Customer.objects.exists()


def test_edit_a_customer(staff, account):
    customer = CustomerFactory(account=account, first_name="Léa", last_name="Martin", email="old@exemple.fr")
    page = staff.get(reverse("retail:customer_edit", args=[customer.pk]))
    assert page.context["form"].initial["email"] == "old@exemple.fr"

    response = staff.post(reverse("retail:customer_edit", args=[customer.pk]), customer_form(
        first_name="Léa", last_name="Martin-Roux", email="lea@exemple.fr", company="Atelier"))

    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.last_name, customer.email, customer.company) == ("Martin-Roux", "lea@exemple.fr", "Atelier")


def test_a_refused_edit_changes_nothing(staff, account, other_account):
    customer = CustomerFactory(account=account, first_name="Léa", last_name="Martin", email="lea@exemple.fr")
    their_type = CustomerTypeFactory(account=other_account)

    response = staff.post(reverse("retail:customer_edit", args=[customer.pk]), customer_form(
        first_name="Autre", email="a@x.fr, b@y.fr", customer_type=their_type.pk))

    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"email", "customer_type"}
    customer.refresh_from_db()
    assert (customer.first_name, customer.email, customer.customer_type) == ("Léa", "lea@exemple.fr", None)


def test_a_cashier_may_manage_customers(client, account):
    client.force_login(member(account, "cashier"))
    assert client.get(reverse("retail:customers")).status_code == 200
    assert client.get(reverse("retail:customers_export")).status_code == 403  # no "Export data"


# ---- CSV export ---------------------------------------------------------------------------------------

def test_export_has_the_lists_filters(french_staff, account, other_account):
    vip = CustomerTypeFactory(account=account, name="VIP")
    CustomerFactory(account=account, first_name="Léa", last_name="Martin", email="lea@atelier.fr",
                    customer_type=vip, balance=4550, store_credit=1000)
    CustomerFactory(account=account, first_name="Paul", last_name="Durand")
    CustomerFactory(account=other_account, first_name="Léa", last_name="Ailleurs", balance=100)

    response = french_staff.get(reverse("retail:customers_export"), {"has_balance": "on"})

    rows = csv_rows(response)
    assert response.status_code == 200 and len(rows) == 2
    assert rows[1][:4] == ["Léa", "Martin", "", "lea@atelier.fr"]
    assert rows[1][10:13] == ["VIP", "45,50", "10,00"]


def test_a_large_export_goes_to_the_worker(staff, account, monkeypatch):
    from posbackoffice import exports

    monkeypatch.setattr(exports, "INLINE_LIMIT", 1)
    CustomerFactory(account=account, last_name="Martin")
    CustomerFactory(account=account, last_name="Martin")

    response = staff.get(reverse("retail:customers_export"), {"q": "martin"})

    job = ExportJob.objects.get(account=account)
    assert response.status_code == 302 and job.kind == "customers"
    assert {k: v for k, v in job.params.items() if k != "_language"} == {"q": "martin"}


# ---- Customer types -----------------------------------------------------------------------------------

def test_types_page_lists_types_with_their_customer_counts(staff, account, other_account):
    vip = CustomerTypeFactory(account=account, name="VIP")
    CustomerTypeFactory(account=account, name="Abonnés")
    CustomerFactory(account=account, customer_type=vip)
    CustomerFactory(account=account, customer_type=vip)
    CustomerTypeFactory(account=other_account, name="Theirs")

    response = staff.get(reverse("retail:customer_types"))

    counts = {row["type"].name: row["type"].customer_count for row in response.context["rows"]}
    assert counts == {"Abonnés": 0, "VIP": 2}
    assert "Theirs" not in response.content.decode()


def test_add_rename_and_delete_a_type(staff, account):
    assert staff.post(reverse("retail:customer_types"), {"name": "Abonnés"}).status_code == 302
    customer_type = CustomerType.objects.get(account=account)

    response = staff.post(reverse("retail:customer_type_update", args=[customer_type.pk]), {"name": "Membres"})
    assert response.status_code == 302
    customer_type.refresh_from_db()
    assert customer_type.name == "Membres"

    assert staff.post(reverse("retail:customer_type_delete", args=[customer_type.pk])).status_code == 302
    assert not CustomerType.objects.exists()


def test_a_duplicate_type_name_is_refused(staff, account):
    CustomerTypeFactory(account=account, name="VIP")
    other = CustomerTypeFactory(account=account, name="Abonnés")

    added = staff.post(reverse("retail:customer_types"), {"name": "vip"})
    renamed = staff.post(reverse("retail:customer_type_update", args=[other.pk]), {"name": "VIP"})

    assert added.status_code == renamed.status_code == 400
    assert "A customer type named “vip” already exists." in added.content.decode()
    assert "A customer type named “VIP” already exists." in renamed.content.decode()
    assert sorted(CustomerType.objects.values_list("name", flat=True)) == ["Abonnés", "VIP"]


def test_deleting_a_type_in_use_is_refused_with_the_services_message(staff, account):
    vip = CustomerTypeFactory(account=account, name="VIP")
    customer = CustomerFactory(account=account, customer_type=vip)

    response = staff.post(reverse("retail:customer_type_delete", args=[vip.pk]))

    assert response.status_code == 400
    assert "1 customer has this type; move them to another type first." in response.content.decode()
    customer.refresh_from_db()
    assert CustomerType.objects.filter(pk=vip.pk).exists() and customer.customer_type == vip


def test_another_accounts_type_is_not_found(staff, other_account):
    theirs = CustomerTypeFactory(account=other_account, name="Theirs")
    assert staff.post(reverse("retail:customer_type_update", args=[theirs.pk]), {"name": "Mine"}).status_code == 404
    assert staff.post(reverse("retail:customer_type_delete", args=[theirs.pk])).status_code == 404
    assert CustomerType.objects.get(pk=theirs.pk).name == "Theirs"
