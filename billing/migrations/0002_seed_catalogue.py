"""The platform's catalogue as first published: current plans (Lite, Plus, Pro), legacy plans (Starter,
Advanced), their prices per licence, frequency and currency, the Subscriptions add-on's price and the
monthly hold fee. Kept in the Django admin afterwards; running this again adds only what is missing."""

from django.db import migrations

# Prices in minor units, the same figures in every currency below (the platform adjusts them in the
# admin). Yearly is ten months' price.
CURRENCIES = ("EUR", "GBP", "USD", "CHF", "CAD", "AUD")
PLANS = [
    # code, name, legacy, rank, features, included add-ons, allowed integrations, (outlet, register) monthly
    ("lite", "Lite", False, 1, ["sell", "catalogue", "reports", "pay_links"], [], [], (6900, 2900)),
    ("plus", "Plus", False, 2, ["sell", "catalogue", "reports", "pay_links", "gift_cards", "fulfilments",
                                "accounting"], [], ["xero"], (11900, 3900)),
    ("pro", "Pro", False, 3, ["sell", "catalogue", "reports", "pay_links", "gift_cards", "fulfilments",
                              "accounting", "advanced_reports", "third_party_apps", "priority_support"],
     [], ["xero", "app:*"], (18900, 4900)),
    ("starter", "Starter (legacy)", True, 10, ["sell", "catalogue", "reports"], [], [], (4900, 1900)),
    ("advanced", "Advanced (legacy)", True, 11, ["sell", "catalogue", "reports", "gift_cards", "fulfilments",
                                                  "accounting", "advanced_reports", "third_party_apps"],
     [], ["xero", "app:*"], (8900, 2900)),
]
ADDONS = {"subscriptions": 1900}
HOLD_FEES = [("", currency, 1900) for currency in CURRENCIES] + [("FR", "EUR", 1500), ("GB", "GBP", 1500)]


def seed(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    PlanPrice = apps.get_model("billing", "PlanPrice")
    AddonPrice = apps.get_model("billing", "AddonPrice")
    HoldFee = apps.get_model("billing", "HoldFee")
    for code, name, legacy, rank, features, included, integrations, (outlet, register) in PLANS:
        plan, _created = Plan.objects.get_or_create(code=code, defaults={
            "name": name, "legacy": legacy, "rank": rank, "features": features, "included_addons": included,
            "allowed_integrations": integrations})
        for currency in CURRENCIES:
            for licence, monthly in (("outlet", outlet), ("register", register)):
                for frequency, amount in (("monthly", monthly), ("yearly", monthly * 10)):
                    PlanPrice.objects.get_or_create(plan=plan, licence=licence, frequency=frequency,
                                                    currency=currency, defaults={"amount": amount})
    for addon, monthly in ADDONS.items():
        for currency in CURRENCIES:
            for frequency, amount in (("monthly", monthly), ("yearly", monthly * 10)):
                AddonPrice.objects.get_or_create(addon=addon, frequency=frequency, currency=currency,
                                                 defaults={"amount": amount})
    for country, currency, amount in HOLD_FEES:
        HoldFee.objects.get_or_create(country=country, currency=currency, defaults={"amount": amount})


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_plans_ledger_invoices_holds")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
