"""Pieces shared by the list filters (history, reports)."""

from django import forms
from django.utils.translation import gettext_lazy as _


def register_field() -> forms.TypedChoiceField:
    return forms.TypedChoiceField(label=_("Register"), required=False, coerce=int, empty_value=None)


class RegisterFilterMixin:
    """A `register` filter listing the account's registers as "Outlet › Register", refused when it is
    not at the chosen `outlet`. The form declares `register = register_field()` and calls
    `set_registers(registers)` from its __init__."""

    def set_registers(self, registers):
        self.register_outlets = {r.pk: r.outlet_id for r in registers}
        self.fields["register"].choices = [("", _("All registers"))] + [
            (r.pk, f"{r.outlet.name} › {r.name}") for r in registers]

    def check_register_at_outlet(self, data):
        outlet, register = data.get("outlet"), data.get("register")
        if outlet and register and self.register_outlets.get(register) != outlet:
            self.add_error("register", _("This register is not at the chosen outlet."))
