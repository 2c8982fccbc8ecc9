from django import forms
from django.utils.translation import gettext_lazy as _

from posbackoffice.forms import DateField, IdField, MoneyField, SearchField, WholeNumberField
from subscriptions.models import Plan, Subscription

MAX_LINES = 50


class PlanForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    interval = forms.ChoiceField(label=_("Interval"), choices=Plan.Interval.choices)
    ships = forms.BooleanField(label=_("Shipping"), required=False,
                               help_text=_("Each recurring sale creates an order to ship in Inventory › Fulfilments."))
    has_customer_type = forms.BooleanField(label=_("Customer type"), required=False)
    customer_type_name = forms.CharField(label=_("Customer type name"), max_length=80, required=False,
                                         help_text=_("Customers who subscribe to this plan get this customer type."))
    duration = forms.ChoiceField(label=_("Duration"), widget=forms.RadioSelect, initial="open", choices=[
        ("open", _("Open-ended: the subscription goes on until it is cancelled")),
        ("fixed", _("Fixed: the subscription ends after the number of intervals below")),
    ])
    duration_intervals = WholeNumberField(label=_("Number of intervals"), required=False, min_value=1, max_value=520)
    renewal_reminder_days = WholeNumberField(
        label=_("Renewal reminder (days before each charge)"), required=False, min_value=1, max_value=30,
        help_text=_("Optional: e-mail the subscriber the amount and date before each charge."))

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.lines = []

    def clean(self):
        data = super().clean()
        if data.get("duration") == "fixed" and not data.get("duration_intervals"):
            self.add_error("duration_intervals", _("Give the number of intervals of a fixed duration."))
        return data

    def read_lines(self, post) -> list[tuple[int, int, int | None]]:
        """The plan's products from the repeated line fields (product, recurring price, quantity; a line
        ticked "remove" is left out). A bad value is a form error naming the line."""
        products, prices = post.getlist("line_product")[:MAX_LINES + 1], post.getlist("line_price")
        quantities, removed = post.getlist("line_quantity"), set(post.getlist("line_remove"))
        lines = []
        for index, raw_product in enumerate(products):
            if raw_product in removed:
                continue
            try:
                product_id = IdField().clean(raw_product)
                price = MoneyField(required=False, currency=self.currency).clean(
                    prices[index] if index < len(prices) else "")
                quantity = WholeNumberField(min_value=1, max_value=9999).clean(
                    quantities[index] if index < len(quantities) else "")
            except forms.ValidationError as error:
                self.add_error(None, _("Line %(number)s: %(error)s") % {"number": index + 1,
                                                                        "error": " ".join(error.messages)})
                continue
            lines.append((product_id, quantity, price))
        self.lines = lines
        return lines

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"], "interval": data["interval"], "ships": data["ships"], "lines": self.lines,
            "customer_type_name": data["customer_type_name"] if data["has_customer_type"] else None,
            "duration_intervals": data["duration_intervals"] if data["duration"] == "fixed" else None,
            "renewal_reminder_days": data["renewal_reminder_days"],
        }


class SubscribeForm(forms.Form):
    customer = IdField(required=True)
    plan_name = forms.CharField(label=_("Plan"), max_length=120)
    start = forms.ChoiceField(label=_("Start"), widget=forms.RadioSelect, initial="now", choices=[
        ("now", _("Now")), ("later", _("Later, on the date below"))])
    start_date = DateField(label=_("Start date"), required=False)
    register = IdField(required=True)
    card = IdField(required=False)

    def clean(self):
        data = super().clean()
        if data.get("start") == "later" and not data.get("start_date"):
            self.add_error("start_date", _("Choose the start date."))
        return data


class SubscriptionFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All statuses")), *Subscription.Status.choices])
    q = SearchField(label=_("Customer"), max_length=100, placeholder=_("Customer name"))

    def params(self) -> dict:
        return {key: value for key, value in getattr(self, "cleaned_data", {}).items() if value}


class RefundForm(forms.Form):
    amount = MoneyField(label=_("Amount"), allow_zero=False)
    reason = forms.CharField(label=_("Reason for the refund"), max_length=300)

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].currency = currency


class NotesForm(forms.Form):
    notes = forms.CharField(label=_("Private notes"), required=False, max_length=5000,
                            widget=forms.Textarea(attrs={"rows": 4}),
                            help_text=_("For your staff only; the customer never sees them."))


class SettingsForm(forms.Form):
    send_confirmation = forms.BooleanField(
        label=_("Subscription confirmation"), required=False,
        help_text=_("New subscribers get an e-mail with the plan, its billing interval and its duration. Turn it "
                    "off, for instance, while moving customers from another system."))
    use_backup_card = forms.BooleanField(
        label=_("Backup card"), required=False,
        help_text=_("When a retry fails on the subscription's card, try the customer's other valid saved card."))
