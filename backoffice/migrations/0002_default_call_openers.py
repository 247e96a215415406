"""The three openers the founder used in the old system, in French (the product's language); staff
edit them in the admin. Existing rows are left alone, so a re-run never overwrites an edit."""

from django.db import migrations

DEFAULTS = {
    "page_dwell": "Je vois que vous étudiez notre audit gratuit — je vous en résume l'essentiel ?",
    "cta_click": "Vous venez de cliquer — je peux vous briefer maintenant ?",
    "email_reopen": "Vous avez rouvert mon email — des questions ?",
}


def create_defaults(apps, schema_editor):
    CallOpener = apps.get_model("backoffice", "CallOpener")
    for signal, text in DEFAULTS.items():
        CallOpener.objects.get_or_create(signal=signal, defaults={"text": text})


class Migration(migrations.Migration):
    dependencies = [("backoffice", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
