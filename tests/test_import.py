import json
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from prospects.models import Prospect
from prospects.services import ImportFileError, prospects_import

pytestmark = pytest.mark.django_db

GOOD_AND_BAD_JSON = """[
  {"name": "Alice Martin", "email": "Alice@Acme-Logistique.fr", "company": "Acme", "phone": "01 99 00 12 34",
   "website": "https://www.acme-logistique.fr", "pain": "alertes tardives"},
  {"name": "No Email"},
  {"first_name": "Bob", "last_name": "Durand", "email": "bob@gmail.com", "company": "Bob SAS",
   "domains": "bob-sas.example, wiki.bob-sas.example"},
  {"name": "Bad Phone", "email": "bad@phone.example", "phone": "12"}
]"""


def test_it_imports_good_rows_and_reports_bad_ones_with_their_line():
    report = prospects_import(content=GOOD_AND_BAD_JSON, filename="p.json")
    assert (report.created, report.updated, len(report.errors)) == (2, 0, 2)
    assert [e.line for e in report.errors] == [4, 7]
    assert "email" in report.errors[0].message.lower()
    assert "phone" in report.errors[1].message.lower()
    alice = Prospect.objects.get(email="alice@acme-logistique.fr")
    assert alice.phone == "+33199001234"
    assert alice.pain_point == "alertes tardives"
    assert alice.domain_list == ["acme-logistique.fr"]
    bob = Prospect.objects.get(email="bob@gmail.com")
    assert bob.name == "Bob Durand"
    # A free-mail address is never a company domain; the listed domains are (registrable form).
    assert bob.domain_list == ["bob-sas.example"]


def test_it_is_idempotent_and_updates_by_email_case_insensitively():
    prospects_import(content=GOOD_AND_BAD_JSON, filename="p.json")
    again = prospects_import(content=GOOD_AND_BAD_JSON, filename="p.json")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    changed = prospects_import(content='[{"email": "ALICE@acme-logistique.fr", "title": "CTO"}]', filename="x.json")
    assert (changed.created, changed.updated) == (0, 1)
    alice = Prospect.objects.get(email="alice@acme-logistique.fr")
    assert alice.title == "CTO"
    assert alice.phone == "+33199001234", "an absent column must not wipe stored data"
    assert Prospect.objects.count() == 2


def test_it_reads_csv_with_semicolons_and_reports_lines(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text(
        "name;email;company;phone\n"
        "Claire;claire@claire-co.example;Claire Co;+33 1 99 00 12 35\n"
        "Broken;not-an-email;X;\n"
        "Denis;denis@denis.example;Denis SA;\n",
        encoding="utf-8",
    )
    report = prospects_import(content=path.read_bytes(), filename="list.csv")
    assert report.created == 2
    assert [e.line for e in report.errors] == [3]


def test_it_accepts_the_prospects_wrapper_and_dry_run_saves_nothing():
    doc = json.dumps({"prospects": [{"email": "a@a-corp.example"}, {"email": "b@b-corp.example"}]}, indent=2)
    report = prospects_import(content=doc, filename="p.json", dry_run=True)
    assert report.created == 2 and report.dry_run
    assert Prospect.objects.count() == 0


def test_it_rejects_a_file_that_is_not_json_or_csv():
    with pytest.raises(ImportFileError):
        prospects_import(content="[{broken", filename="p.json")
    with pytest.raises(ImportFileError):
        prospects_import(content="just,some,words\n1,2,3\n", filename="p.csv")


def test_the_command_prints_a_summary_and_each_bad_row(tmp_path, capsys):
    path = tmp_path / "p.json"
    path.write_text(GOOD_AND_BAD_JSON)
    call_command("import_prospects", str(path))
    out, err = capsys.readouterr()
    assert re.search(r"2 (created|créé)", out) and re.search(r"2 (skipped|ignoré)", out)
    assert "p.json:4:" in err and "p.json:7:" in err


def test_the_command_gives_a_sentence_for_a_missing_or_broken_file(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_prospects", str(tmp_path / "nope.json"))
    broken = tmp_path / "b.json"
    broken.write_text("{oops")
    with pytest.raises(CommandError, match="JSON"):
        call_command("import_prospects", str(broken))


def test_the_shipped_example_imports_cleanly():
    from pathlib import Path

    example = Path(__file__).resolve().parent.parent / "examples" / "prospects.example.json"
    report = prospects_import(content=example.read_bytes(), filename=example.name)
    assert report.errors == [] and report.created == 3
