"""Each counter of an IP keeps a small per-account tally of its failures, so
that a successful login forgives only the failures against that account."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_loginlimit", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="failurecounter",
            name="tally",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
