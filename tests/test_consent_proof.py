"""Issue 28, points 1 and 2: the consent and its proof where a founder looks (the prospect's page, the
timeline, an export, `consent_proof`), a change recorded by hand with a note, the import's consent
column, and a start that says which policy is on and refuses a word that is not one."""

import csv
import html
import io
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from backoffice.roles import CALLER_GROUP
from prospects.consent import NOTICE_VERSION, prospect_consent_record
from prospects.models import ConsentChange, ConsentSource, Prospect
from prospects.services import prospects_import
from tests.factories import ProspectFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def granted_then_refused() -> Prospect:
    prospect = ProspectFactory(email="ana@acme.example", name="Ana Martin", company="Acme")
    at = timezone.now() - timedelta(days=2)
    prospect_consent_record(
        prospect=prospect, state="granted", source=ConsentSource.CONSENT_LINK, network="203.0.113.0/24", at=at
    )
    prospect_consent_record(
        prospect=prospect,
        state="refused",
        source=ConsentSource.OPTOUT_LINK,
        network="198.51.100.0/24",
        at=at + timedelta(days=1),
    )
    return prospect


def text_of(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def caller_client(client, django_user_model):
    user = django_user_model.objects.create_user("caller", password="pw-for-tests-only", is_staff=True)
    user.groups.add(Group.objects.get(name=CALLER_GROUP))
    client.force_login(user)
    return client


# --- The prospect's page and timeline -------------------------------------------------------------


def test_the_prospect_page_shows_the_consent_and_its_history(staff_client):
    prospect = granted_then_refused()
    page = text_of(staff_client.get(reverse("admin:prospects_prospect_change", args=[prospect.pk])))
    assert 'id="consent-history"' in page
    history = page[page.index('id="consent-history"') :]
    assert history.index("203.0.113.0/24") < history.index("198.51.100.0/24")  # oldest first
    assert NOTICE_VERSION in history and "Lien « Ne plus me suivre » d'un email" in history


def test_the_timeline_shows_each_consent_change(staff_client):
    prospect = granted_then_refused()
    page = text_of(staff_client.get(reverse("backoffice-timeline", args=[prospect.pk])))
    assert page.count("198.51.100.0/24") == 1 and page.count("203.0.113.0/24") == 1


def test_staff_record_a_change_by_hand_with_a_note_and_it_takes_effect_at_once(staff_client):
    prospect = ProspectFactory(consented=True)
    url = reverse("admin:prospects_prospect_consent", args=[prospect.pk])
    assert staff_client.get(url).status_code == 200
    response = staff_client.post(url, {"state": "refused", "note": "Refus au téléphone le 3 décembre"})
    assert response.status_code == 302
    change = ConsentChange.objects.get()
    assert (change.state, change.source, change.note, change.changed_by) == (
        "refused",
        "staff",
        "Refus au téléphone le 3 décembre",
        staff_client.user,
    )
    assert Prospect.objects.get().tracking_consent == "refused"


def test_a_change_by_hand_needs_a_note(staff_client):
    prospect = ProspectFactory()
    response = staff_client.post(reverse("admin:prospects_prospect_consent", args=[prospect.pk]), {"state": "granted"})
    assert response.status_code == 200 and ConsentChange.objects.count() == 0


def test_a_caller_cannot_change_the_consent_but_sees_it(caller_client):
    prospect = ProspectFactory()
    response = caller_client.post(
        reverse("admin:prospects_prospect_consent", args=[prospect.pk]), {"state": "granted", "note": "oui"}
    )
    assert response.status_code == 302 and ConsentChange.objects.count() == 0
    assert Prospect.objects.get().tracking_consent == "unknown"


def test_the_admin_exports_the_proof_as_csv(staff_client):
    prospect = granted_then_refused()
    ProspectFactory(email="other@else.example")
    response = staff_client.post(
        reverse("admin:prospects_prospect_changelist"),
        {"action": "export_consent_proof", "_selected_action": [p.pk for p in Prospect.objects.all()]},
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["email"], r["state"], r["source"], r["network"]) for r in rows] == [
        ("ana@acme.example", "granted", "consent_link", "203.0.113.0/24"),
        ("ana@acme.example", "refused", "optout_link", "198.51.100.0/24"),
    ]
    single = staff_client.get(reverse("admin:prospects_prospect_consent_export", args=[prospect.pk]))
    assert single.content == response.content


# --- consent_proof ---------------------------------------------------------------------------------


def test_consent_proof_prints_the_history_readably_and_as_json(capsys):
    granted_then_refused()
    call_command("consent_proof", "ana@acme.example")
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert "Ana Martin <ana@acme.example>, Acme" in lines[0] and lines[0].endswith("consentement au suivi refusé.")
    assert "203.0.113.0/24" in lines[-2] and "198.51.100.0/24" in lines[-1]
    call_command("consent_proof", "ANA@acme.example", "--json")
    data = json.loads(capsys.readouterr().out)
    assert data["tracking_consent"] == "refused" and data["policy"] == ["pixel", "storage"]
    assert [(c["state"], c["source"], c["notice_version"]) for c in data["changes"]] == [
        ("granted", "consent_link", NOTICE_VERSION),
        ("refused", "optout_link", NOTICE_VERSION),
    ]


def test_consent_proof_of_an_unknown_email_is_a_sentence():
    with pytest.raises(CommandError, match="nobody@nowhere.example"):
        call_command("consent_proof", "nobody@nowhere.example")


# --- The import's consent column ---------------------------------------------------------------------


def test_the_import_takes_a_consent_column_and_records_the_file_as_proof():
    content = (
        "email,name,consentement\n"
        "ana@acme.example,Ana,oui\n"
        "bob@globex.example,Bob,Non\n"
        "cy@initech.example,Cy,\n"
        "dan@umbrella.example,Dan,peut-être\n"
    )
    report = prospects_import(content=content, filename="salon-2026.csv")
    assert report.created == 3 and len(report.errors) == 1 and report.errors[0].line == 5
    states = dict(Prospect.objects.values_list("email", "tracking_consent"))
    assert states == {"ana@acme.example": "granted", "bob@globex.example": "refused", "cy@initech.example": "unknown"}
    proof = ConsentChange.objects.get(prospect__email="ana@acme.example")
    assert (proof.source, proof.detail) == ("import", "salon-2026.csv")
    # The same file again is no new proof; a changed answer is.
    prospects_import(content=content.replace("ana@acme.example,Ana,oui", "ana@acme.example,Ana,non"), filename="b.csv")
    assert list(ConsentChange.objects.filter(prospect__email="ana@acme.example").values_list("state", "detail")) == [
        ("granted", "salon-2026.csv"),
        ("refused", "b.csv"),
    ]
    assert ConsentChange.objects.filter(prospect__email="bob@globex.example").count() == 1


def test_a_json_import_takes_tracking_consent_as_a_word_or_a_boolean():
    rows = [
        {"email": "a@acme.example", "tracking_consent": "granted"},
        {"email": "b@acme.example", "tracking_consent": False},
    ]
    prospects_import(content=json.dumps(rows), filename="list.json")
    assert dict(Prospect.objects.values_list("email", "tracking_consent")) == {
        "a@acme.example": "granted",
        "b@acme.example": "refused",
    }


# --- Start-up ------------------------------------------------------------------------------------------


def _preflight(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "TRACKING_CONSENT_FOR")}
    clean.update(DEBUG="true", DATA_DIR=str(tmp_path), ENV_FILE=str(tmp_path / "absent.env"), PORT="0", **env)
    return subprocess.run(
        [sys.executable, "-m", "arkwatch.preflight", "--run"], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_start_up_says_which_policy_is_on(tmp_path):
    result = _preflight(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Consentement demandé pour : pixel d'ouverture, stockage dans le navigateur" in result.stdout
    strict = _preflight(tmp_path, TRACKING_CONSENT_FOR="pixel,storage,link")
    assert "lien personnel (ak)" in strict.stdout


def test_start_up_refuses_a_word_that_is_not_a_kind_of_tracking(tmp_path):
    result = _preflight(tmp_path, TRACKING_CONSENT_FOR="pixel,stockage")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "stockage" in result.stderr and "pixel, storage, link" in result.stderr
