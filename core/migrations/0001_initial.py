from django.db import migrations, models


def unlogged_on_postgresql(apps, schema_editor):
    # Counters are worth nothing after a crash: skip the write-ahead log (PostgreSQL only).
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE core_sharedcounter SET UNLOGGED")


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="SharedCounter",
            fields=[
                ("key", models.CharField(max_length=255, primary_key=True, serialize=False, verbose_name="key")),
                ("value", models.FloatField(verbose_name="value")),
                (
                    "expires_at",
                    models.FloatField(db_index=True, verbose_name="expires at (epoch seconds)"),
                ),
            ],
            options={"verbose_name": "shared counter", "verbose_name_plural": "shared counters"},
        ),
        migrations.RunPython(unlogged_on_postgresql, migrations.RunPython.noop),
    ]
