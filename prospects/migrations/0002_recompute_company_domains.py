"""Shared platforms (linkedin.com, github.io, …) are no longer company domains: recompute the stored
list of every prospect, so that a LinkedIn page given as a website stops matching LinkedIn's visitors."""

from django.db import migrations

from prospects.domains import domain_of_url, email_domain, registrable_domain, why_not_a_company_domain


def recompute(apps, schema_editor):
    Prospect = apps.get_model("prospects", "Prospect")
    for prospect in Prospect.objects.all().only("pk", "email", "website", "extra_domains", "company_domains"):
        candidates = [registrable_domain(email_domain(prospect.email)) if prospect.email else None]
        for text in (prospect.website, prospect.extra_domains):
            candidates += [domain_of_url(part) for part in (text or "").replace(",", " ").split()]
        kept: list[str] = []
        for domain in candidates:
            if domain and domain not in kept and not why_not_a_company_domain(domain):
                kept.append(domain)
        if " ".join(kept) != prospect.company_domains:
            Prospect.objects.filter(pk=prospect.pk).update(company_domains=" ".join(kept))


class Migration(migrations.Migration):
    dependencies = [("prospects", "0001_initial")]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop)]
