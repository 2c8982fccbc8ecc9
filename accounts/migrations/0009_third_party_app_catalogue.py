"""The platform's first third-party apps (Setup › Integrations), kept in the Django admin afterwards."""

from django.db import migrations

APPS = [
    ("DeliverEasy", "delivereasy", "Local same-day delivery: orders from the POS go to couriers.", 3900),
    ("LoyaltyLoop", "loyaltyloop", "Points and rewards for customers, earned at the register.", 2900),
    ("ReviewBoost", "reviewboost", "Asks customers for a review after their purchase.", 1500),
    ("ShiftPlanner", "shiftplanner", "Staff rotas and time clock, with hours per outlet.", 1900),
]


def seed(apps, schema_editor):
    ThirdPartyApp = apps.get_model("accounts", "ThirdPartyApp")
    for name, slug, description, charge in APPS:
        ThirdPartyApp.objects.get_or_create(slug=slug, defaults={
            "name": name, "description": description, "monthly_charge": charge, "currency": "EUR"})


def unseed(apps, schema_editor):
    apps.get_model("accounts", "ThirdPartyApp").objects.filter(
        slug__in=[slug for _name, slug, _description, _charge in APPS], connections__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0008_integrations")]
    operations = [migrations.RunPython(seed, unseed)]
