"""Indexes on django-axes' failure log, which the reports, the dashboard and
`loginlimit_purge` read by time: axes indexes its `ip_address`, `username` and
`user_agent` columns but not `attempt_time`, so with a million rows the first
page of "Failed logins" sorted the whole table, and counting an account's
recent failures read all of that account's rows.

A migration cannot `AddIndex` on another app's model, and RunSQL would tie the
index to one database's dialect. This migration asks the schema editor, which
speaks every database Django supports, and leaves the migration state alone:
axes' model is unchanged, so `makemigrations` stays quiet. An index already
present on the same columns is kept (a large table may get them beforehand
with `CREATE INDEX CONCURRENTLY`, see docs/deployment.md); going backwards
drops only the indexes named here.
"""

from django.db import migrations, models

INDEXES = [
    # The "Failed logins" report, the dashboard, loginlimit_purge.
    ("loginlimit_afl_time_idx", ["attempt_time"]),
    # The report filtered by IP address.
    ("loginlimit_afl_ip_time_idx", ["ip_address", "attempt_time"]),
    # An account's failures in the valid window (deactivation).
    ("loginlimit_afl_user_time_idx", ["username", "attempt_time"]),
]


def _existing(schema_editor, model) -> dict[str, list[str]]:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(
            cursor, model._meta.db_table
        )
    return {
        name: list(info["columns"])
        for name, info in constraints.items()
        if info.get("index") or info.get("unique") or info.get("primary_key")
    }


def add_indexes(apps, schema_editor):
    model = apps.get_model("axes", "AccessFailureLog")
    existing = _existing(schema_editor, model)
    for name, fields in INDEXES:
        columns = [model._meta.get_field(field).column for field in fields]
        if name in existing or columns in existing.values():
            continue
        schema_editor.add_index(model, models.Index(fields=fields, name=name))


def remove_indexes(apps, schema_editor):
    model = apps.get_model("axes", "AccessFailureLog")
    existing = _existing(schema_editor, model)
    for name, fields in INDEXES:
        if name in existing:
            schema_editor.remove_index(model, models.Index(fields=fields, name=name))


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_loginlimit", "0002_deactivation"),
        ("axes", "0008_accessfailurelog"),
    ]

    operations = [migrations.RunPython(add_indexes, remove_indexes)]
