"""Forms of Setup › Payments › Terminals and of the simulated reader."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Register
from accounts.tenancy import scoped
from terminal.models import Reader


class ReaderRegisterForm(forms.Form):
    registration_code = forms.CharField(
        label=_("Registration code"), max_length=100,
        help_text=_("The code the reader shows (Settings › Generate pairing code). A simulated WisePOS E: "
                    "simulated-wpe."))
    label = forms.CharField(label=_("Name"), max_length=60)
    register = forms.ChoiceField(label=_("Register"))

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        registers = scoped(Register, account).filter(is_active=True).select_related("outlet") \
            .order_by("outlet__name", "name")
        self.fields["register"].choices = [("", _("Choose a register"))] + [
            (str(register.pk), f"{register.outlet.name} › {register.name}") for register in registers]
        self.account = account

    def clean_register(self):
        register = scoped(Register, self.account).filter(pk=int(self.cleaned_data["register"])).first()
        if register is None:
            raise forms.ValidationError(_("Choose a register from the list."))
        return register


class ReaderRenameForm(forms.Form):
    label = forms.CharField(label=_("Name"), max_length=60)


class ReaderModeForm(forms.Form):
    mode = forms.ChoiceField(label=_("Mode"), choices=Reader.Mode.choices)


# Stripe's Terminal test cards for the simulated reader: the number chosen is presented to the reader.
TEST_CARDS = [
    ("4242424242424242", _("Visa 4242 — approved")),
    ("5555555555554444", _("Mastercard 4444 — approved")),
    ("4000000000000002", _("Visa 0002 — declined")),
    ("4000000000009995", _("Visa 9995 — insufficient funds")),
]


class PresentCardForm(forms.Form):
    card = forms.ChoiceField(label=_("Test card"), choices=TEST_CARDS)


class ReaderInputForm(forms.Form):
    value = forms.CharField(label=_("Value"), max_length=254, required=False)
