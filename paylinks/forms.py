from django import forms
from django.utils.translation import gettext_lazy as _

from paylinks.services import MAX_REMINDER_DAYS
from posbackoffice.forms import WholeNumberField


class OnAccountSettingsForm(forms.Form):
    online_payments_enabled = forms.BooleanField(label=_("Enable online payments"), required=False)
    reminder_days = WholeNumberField(
        label=_("Remind customers of unpaid links after (days)"), required=False, min_value=1,
        max_value=MAX_REMINDER_DAYS,
        help_text=_("Leave empty for no reminders. At most 3 reminders are sent, never after the link is paid or "
                    "deactivated."))


class SendForm(forms.Form):
    email = forms.CharField(label=_("Customer’s e-mail address"), max_length=254)
    language = forms.ChoiceField(label=_("Language of the e-mail"),
                                 choices=[("fr", _("French")), ("en", _("English"))])
