from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from posbackoffice.errors import DomainError
from posbackoffice.forms import SearchField
from retail import customer_extensions
from retail.forms.settings import RateField
from retail.pricing import format_rate
from retail.selectors.customers import NO_TYPE
from retail.services.customers import clean_single_email


class CustomerFilterForm(forms.Form):
    q = SearchField(label=_("Search"), max_length=100, placeholder=_("Name, company, e-mail or phone"))
    customer_type = forms.ChoiceField(label=_("Customer type"), required=False)
    has_balance = forms.BooleanField(label=_("Owes an on-account balance"), required=False)

    def __init__(self, *args, customer_types, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer_type"].choices = (
            [("", _("All types")), (NO_TYPE, _("No type"))] + [(str(t.pk), t.name) for t in customer_types]
        )
        # Checkboxes other apps add (retail.customer_extensions), after the POS core's own.
        self.extension_keys = []
        for key, list_filter in customer_extensions.list_filters(account):
            self.fields[key] = forms.BooleanField(label=list_filter.label, required=False)
            self.extension_keys.append(key)

    def extension_fields(self):
        return [self[key] for key in self.extension_keys]

    def params(self) -> dict:
        """The valid filters, JSON-safe (an export job stores them); an invalid one is left out."""
        data = getattr(self, "cleaned_data", {})
        return {key: value for key, value in data.items() if value not in (None, "", False)}


class CustomerForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    company = forms.CharField(label=_("Company"), max_length=150, required=False)
    # A CharField, not an EmailField: the one rule for "one address" is the service's, and its
    # message ("Enter exactly one e-mail address.") is what the person should read.
    email = forms.CharField(label=_("E-mail address"), max_length=254, required=False,
                            widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False,
                            widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}))
    customer_type = forms.TypedChoiceField(label=_("Customer type"), required=False, coerce=int, empty_value=None)
    address_line1 = forms.CharField(label=_("Address"), max_length=200, required=False)
    address_line2 = forms.CharField(label=_("Address (line 2)"), max_length=200, required=False)
    postcode = forms.CharField(label=_("Postcode"), max_length=20, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    country = forms.CharField(
        label=_("Country"), max_length=2, required=False, help_text=_("Two-letter code, e.g. FR"),
        validators=[RegexValidator(r"^[A-Za-z]{2}$", _("Enter a two-letter country code, e.g. FR."))],
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    # Not required: a post without it keeps the customer's language (a new customer gets the shop's).
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES, required=False,
                                 help_text=_("The customer’s e-mails, invoices and pay links are written in it."))

    def __init__(self, *args, customer_types, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].initial = account.language  # a new customer reads the shop's language
        self.fields["customer_type"].choices = [("", _("No type"))] + [(t.pk, t.name) for t in customer_types]

    def clean_email(self):
        try:
            return clean_single_email(self.cleaned_data["email"])
        except DomainError as error:
            raise forms.ValidationError(error.message) from None

    @staticmethod
    def initial_from(customer) -> dict:
        fields = ("first_name", "last_name", "company", "email", "phone", "address_line1", "address_line2",
                  "postcode", "city", "country", "notes")
        return {**{name: getattr(customer, name) for name in fields}, "customer_type": customer.customer_type_id,
                "language": customer.language_or(customer.account.language)}

    def service_arguments(self) -> dict:
        data = dict(self.cleaned_data)
        data["customer_type_id"] = data.pop("customer_type")
        if not data.get("language"):
            data.pop("language", None)
        return data


class CustomerTypeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    discount = RateField(label=_("Discount (%)"), required=False,
                         too_high=_("A discount must be between 0 and 100 %."),
                         help_text=_("Taken off every item its customers buy at the sell screen, e.g. 10 or 7,5. "
                                     "Empty: no discount."))

    @staticmethod
    def initial_from(customer_type) -> dict:
        discount = format_rate(customer_type.discount_bp).replace("%", "").strip() if customer_type.discount_bp else ""
        return {"name": customer_type.name, "discount": discount}

    def service_arguments(self) -> dict:
        return {"name": self.cleaned_data["name"], "discount_bp": self.cleaned_data["discount"] or 0}
