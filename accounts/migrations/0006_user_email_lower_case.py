"""E-mail addresses in their one lower-case form. create_user always stored them so, but the operator
admin's user forms saved them as typed: those are lower-cased here, then a unique index on lower(email)
keeps two users from differing only by case. Two such users already there stop the migration with their
addresses: an operator decides which one stays."""

from collections import defaultdict

import django.db.models.functions.text
from django.db import migrations, models
from django.db.models.functions import Lower


def lower_case_emails(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    by_address = defaultdict(list)
    for email in User.objects.values_list("email", flat=True):
        by_address[email.lower()].append(email)
    clashes = [" / ".join(sorted(emails)) for emails in by_address.values() if len(emails) > 1]
    if clashes:
        raise RuntimeError("These users differ only by the case of their e-mail address; merge or rename them, "
                           "then migrate again: " + "; ".join(clashes))
    for user in User.objects.exclude(email=Lower("email")).only("pk", "email"):
        user.email = user.email.lower()
        user.save(update_fields=["email"])


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0005_outgoing_email'),
        ('auth', '0012_alter_user_first_name_max_length'),
    ]

    operations = [
        migrations.RunPython(lower_case_emails, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='user',
            constraint=models.UniqueConstraint(django.db.models.functions.text.Lower('email'), name='user_email_unique_any_case', violation_error_message='A user with this e-mail address already exists.'),
        ),
    ]
