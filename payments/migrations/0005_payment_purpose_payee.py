"""Payment.purpose (what a payment pays for), purpose_ref and payee; webhook events per processor account.

Existing payments are sales' card payments (sale set) or nothing (no sale); all were the merchant's."""

from django.conf import settings
from django.db import migrations, models


def purposes_of_existing_payments(apps, schema_editor):
    Payment = apps.get_model("payments", "Payment")
    Payment.objects.filter(sale__isnull=False).update(purpose="sale")


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_verbose_names'),
        ('payments', '0004_job_leases'),
        ('retail', '0004_verbose_names'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='webhookevent',
            name='webhook_event_once',
        ),
        migrations.AddField(
            model_name='payment',
            name='payee',
            field=models.CharField(choices=[('merchant', 'The shop'), ('platform', 'The platform')], default='merchant', max_length=10),
        ),
        migrations.AddField(
            model_name='payment',
            name='purpose',
            field=models.CharField(choices=[('sale', 'Sale'), ('subscription_cycle', 'Subscription cycle'), ('merchant_invoice', 'Merchant invoice'), ('none', 'Nothing')], default='none', max_length=30),
            preserve_default=False,
        ),
        migrations.RunPython(purposes_of_existing_payments, migrations.RunPython.noop, elidable=True),
        migrations.AddField(
            model_name='payment',
            name='purpose_ref',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='webhookevent',
            name='payee',
            field=models.CharField(blank=True, max_length=10),
        ),
        migrations.AddIndex(
            model_name='payment',
            index=models.Index(fields=['purpose', 'purpose_ref'], name='payment_purpose_ref'),
        ),
        migrations.AddConstraint(
            model_name='payment',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('purpose', 'sale'), ('purpose_ref__isnull', True), ('sale__isnull', False)), models.Q(('purpose__in', ['subscription_cycle', 'merchant_invoice']), ('purpose_ref__isnull', False), ('sale__isnull', True)), models.Q(('purpose', 'none'), ('purpose_ref__isnull', True), ('sale__isnull', True)), _connector='OR'), name='payment_purpose_reference'),
        ),
        migrations.AddConstraint(
            model_name='payment',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('payee', 'platform'), ('purpose', 'merchant_invoice')), models.Q(models.Q(('purpose', 'merchant_invoice'), _negated=True), ('payee', 'merchant')), _connector='OR'), name='payment_payee_of_purpose'),
        ),
        migrations.AddConstraint(
            model_name='webhookevent',
            constraint=models.UniqueConstraint(fields=('processor', 'payee', 'event_id'), name='webhook_event_once'),
        ),
    ]
