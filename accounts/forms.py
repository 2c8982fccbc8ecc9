import zoneinfo

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.template import loader
from django.utils.translation import gettext_lazy as _

from accounts import permissions as perms
from accounts.audit import action_label
from accounts.models import Account, AuditEvent, StaffRole
from accounts.tenancy import scoped
from posbackoffice.forms import DateField, SearchField


class LoginForm(AuthenticationForm):
    username = forms.EmailField(label=_("E-mail address"), widget=forms.EmailInput(attrs={"autofocus": True,
                                                                                         "autocomplete": "email"}))
    # Our own wording: Django's says "username", and its French assumes a masculine noun.
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The e-mail address or the password is not right. The password is case-sensitive."),
    }


class QueuedPasswordResetForm(PasswordResetForm):
    """Renders the reset e-mail in the request (reader's language) and queues it for the worker. Its link
    is on SITE_URL, like every link we send, never on the Host the request came with."""

    def save(self, **kwargs):
        kwargs["extra_email_context"] = {**(kwargs.get("extra_email_context") or {}), "site_url": settings.SITE_URL}
        return super().save(**kwargs)

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email,
                  html_email_template_name=None):
        from accounts.services import email_queue

        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        email_queue(to=[to_email], subject=subject, text=body)


def _timezone_choices():
    return [(name, name) for name in sorted(zoneinfo.available_timezones()) if "/" in name]


class GeneralSettingsForm(forms.Form):
    name = forms.CharField(label=_("Shop name"), max_length=120)
    timezone = forms.ChoiceField(label=_("Time zone"), choices=_timezone_choices)
    language = forms.ChoiceField(label=_("Default language for staff"), choices=Account.Language.choices)


class StaffRoleForm(forms.Form):
    name = forms.CharField(label=_("Role name"), max_length=80)
    permissions = forms.MultipleChoiceField(
        label=_("Permissions"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(p.code, p.label) for p in perms.CATALOGUE],
    )

    def __init__(self, *args, role: StaffRole | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.role = role
        if role is not None and role.is_owner:
            for field in self.fields.values():
                field.disabled = True

    def reserved_locked(self) -> bool:
        return self.role is None or not self.role.may_hold_reserved

    def grouped_permissions(self):
        """[(section label, [(Permission, checked, disabled)])] for the checkbox grid."""
        if self.is_bound:
            checked = set(self.data.getlist("permissions"))
        else:
            checked = set(self.initial.get("permissions", []))
        locked_all = self.role is not None and self.role.is_owner
        rows = []
        for section, items in perms.grouped():
            rows.append((section, [
                (p, p.code in checked or locked_all, locked_all or (p.reserved and self.reserved_locked()))
                for p in items
            ]))
        return rows


class StaffMemberForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    name = forms.CharField(label=_("Name"), max_length=150)
    role = forms.TypedChoiceField(label=_("Staff role"), coerce=int)
    password = forms.CharField(label=_("Initial password"), widget=forms.PasswordInput, min_length=8,
                               help_text=_("Only for a new user; they can change it with “Forgot password”."),
                               required=False)

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r.pk, r.name) for r in roles if not r.is_owner]


class MembershipRoleForm(forms.Form):
    role = forms.TypedChoiceField(label=_("Staff role"), coerce=int)

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r.pk, r.name) for r in roles if not r.is_owner]


class ActivityFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), required=False)
    actor = forms.TypedChoiceField(label=_("Staff member"), required=False, coerce=int, empty_value=None)
    date_from = DateField(label=_("From"), required=False)
    date_to = DateField(label=_("To"), required=False)
    q = SearchField(label=_("Object"), max_length=100)

    def __init__(self, *args, account, members, **kwargs):
        super().__init__(*args, **kwargs)
        actions = scoped(AuditEvent, account).order_by("action").values_list("action", flat=True).distinct()
        labelled = sorted(((code, action_label(code)) for code in actions), key=lambda choice: choice[1])
        self.fields["action"].choices = [("", _("All actions"))] + labelled
        self.fields["actor"].choices = [("", _("Everyone"))] + [(u.pk, str(u)) for u in members]

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("The start date is after the end date."))
        return data


class OutletForm(forms.Form):
    name = forms.CharField(label=_("Outlet name"), max_length=120)
    address = forms.CharField(label=_("Address"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RegisterForm(forms.Form):
    outlet = forms.TypedChoiceField(label=_("Outlet"), coerce=int)
    name = forms.CharField(label=_("Register name"), max_length=120)

    def __init__(self, *args, outlets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outlet"].choices = [(o.pk, o.name) for o in outlets]
