from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def customers_read_the_shops_language(apps, schema_editor):
    Account = apps.get_model("accounts", "Account")
    Customer = apps.get_model("retail", "Customer")
    Customer.objects.filter(language="").update(
        language=Subquery(Account.objects.filter(pk=OuterRef("account_id")).values("language")[:1]))


class Migration(migrations.Migration):

    dependencies = [
        ("retail", "0010_online_payments"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="language",
            field=models.CharField(blank=True, choices=[("en", "English"), ("fr", "French")], db_default="",
                                   default="", max_length=5, verbose_name="language"),
        ),
        migrations.RunPython(customers_read_the_shops_language, migrations.RunPython.noop, elidable=True),
    ]
