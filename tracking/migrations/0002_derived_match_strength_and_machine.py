"""State stored once: a visitor's match strength follows from its match method, and an email event is
a machine's when it has a machine reason. Events flagged as machine without a reason keep the flag as
a reason before the column goes away."""

from django.db import migrations


def keep_machine_flags(apps, schema_editor):
    EmailEvent = apps.get_model("tracking", "EmailEvent")
    EmailEvent.objects.filter(is_machine=True, machine_reason="").update(machine_reason="machine")


def restore_machine_flags(apps, schema_editor):
    EmailEvent = apps.get_model("tracking", "EmailEvent")
    EmailEvent.objects.exclude(machine_reason="").update(is_machine=True)


STRENGTH = {"ip": 10, "referrer_domain": 20, "company_domain": 30, "email": 40, "ak": 50, "manual": 100}


def restore_strengths(apps, schema_editor):
    Visitor = apps.get_model("tracking", "Visitor")
    for method, strength in STRENGTH.items():
        Visitor.objects.filter(match_method=method).update(match_strength=strength)


class Migration(migrations.Migration):
    dependencies = [
        ("tracking", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(keep_machine_flags, restore_machine_flags),
        migrations.RemoveField(model_name="emailevent", name="is_machine"),
        migrations.RunPython(migrations.RunPython.noop, restore_strengths),
        migrations.RemoveField(model_name="visitor", name="match_strength"),
    ]
