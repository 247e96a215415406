import html
import io
import json
import re
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import translation

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
    # The field in the user's language (French by default), with the value they typed.
    assert report.errors[0].message == "L'e-mail manque."
    assert report.errors[1].message.startswith("téléphone : « 12 »")
    assert [e.prospect for e in report.errors] == ["No Email", "Bad Phone"]
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
    assert "p.json, ligne 4 (No Email) : L'e-mail manque." in err
    assert "p.json, ligne 7 (Bad Phone) : téléphone : « 12 »" in err


def test_the_command_gives_a_sentence_for_a_missing_or_broken_file(tmp_path):
    with pytest.raises(CommandError, match="Fichier introuvable"):
        call_command("import_prospects", str(tmp_path / "nope.json"))
    broken = tmp_path / "b.json"
    broken.write_text("{oops")
    with pytest.raises(CommandError, match="JSON"):
        call_command("import_prospects", str(broken))


def test_the_shipped_example_imports_cleanly():
    example = Path(__file__).resolve().parent.parent / "examples" / "prospects.example.json"
    report = prospects_import(content=example.read_bytes(), filename=example.name)
    assert report.errors == [] and report.created == 3


# --- Excel, duplicates, values a database cannot store, files that are not lists (issue 11) -------

HEADER = ["Nom", "Email", "Entreprise", "Fonction", "Téléphone", "Pain point"]


def xlsx_bytes(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def fifty_five_prospects() -> bytes:
    """50 good rows, 4 bad ones and one in-file duplicate; Excel rows 2..56 (row 1 is the header)."""
    rows: list[list[object]] = [
        [
            f"Prospect {i:02d}",
            f"cto{i:02d}@societe-{i:02d}.example",
            f"Société {i:02d}",
            "CTO",
            f"+33 1 99 00 12 {i:02d}",
            "Alertes trop tardives",
        ]
        for i in range(50)
    ]
    rows.insert(10, ["Mauvais Email", "pas-un-email", "X", "CTO", "", ""])  # row 12
    rows.insert(20, ["Mauvais Téléphone", "tel@mauvais.example", "X", "CTO", "12", ""])  # row 22
    rows.insert(30, ["Sans Email", None, "X", "CTO", "", ""])  # row 32
    rows.insert(40, ["Titre Trop Long", "long@titre.example", "X", "C" * 250, "", ""])  # row 42
    rows.append(["Prospect 02 bis", "CTO02@Societe-02.example", "Autre", "CTO", "", ""])  # row 56, same as row 4
    return xlsx_bytes(rows)


def test_an_excel_file_of_55_rows_imports_50_and_reports_5_with_line_name_and_french_field(tmp_path, capsys):
    path = tmp_path / "prospects.xlsx"
    path.write_bytes(fifty_five_prospects())
    call_command("import_prospects", str(path))
    out, err = capsys.readouterr()
    assert "50 créé(s), 0 mis à jour, 0 inchangé(s), 5 ignoré(s)" in out
    lines = err.strip().splitlines()
    assert len(lines) == 5
    assert lines[0] == (
        "prospects.xlsx, ligne 12 (Mauvais Email) : e-mail « pas-un-email » : Saisissez une adresse email valide."
    )
    assert lines[1].startswith("prospects.xlsx, ligne 22 (Mauvais Téléphone) : téléphone : « 12 » n")
    assert lines[2] == "prospects.xlsx, ligne 32 (Sans Email) : L'e-mail manque."
    assert lines[3].startswith("prospects.xlsx, ligne 42 (Titre Trop Long) : fonction « CCCC")
    assert lines[4] == (
        "prospects.xlsx, ligne 56 (Prospect 02 bis) : même e-mail que la ligne 4 (cto02@societe-02.example) ; "
        "seule la première ligne d'un e-mail est importée."
    )
    assert Prospect.objects.count() == 50
    kept = Prospect.objects.get(email="cto02@societe-02.example")
    assert (kept.name, kept.company, kept.phone) == ("Prospect 02", "Société 02", "+33199001202")

    call_command("import_prospects", str(path))
    out, _err = capsys.readouterr()
    assert "0 créé(s), 0 mis à jour, 50 inchangé(s), 5 ignoré(s)" in out


def test_the_admin_imports_the_same_excel_file_and_lists_line_name_and_problem(staff_client):
    upload = SimpleUploadedFile("prospects.xlsx", fifty_five_prospects())
    response = staff_client.post(reverse("admin:prospects_prospect_import"), {"file": upload}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "50 créé(s), 0 mis à jour, 0 inchangé(s), 5 ignoré(s)" in page
    table = re.findall(r"<tr><td>(\d+)</td><td>(.*?)</td><td>(.*?)</td></tr>", page)
    assert [(line, name) for line, name, _problem in table] == [
        ("12", "Mauvais Email"),
        ("22", "Mauvais Téléphone"),
        ("32", "Sans Email"),
        ("42", "Titre Trop Long"),
        ("56", "Prospect 02 bis"),
    ]
    assert "même e-mail que la ligne 4" in html.unescape(table[4][2])
    assert html.unescape(table[0][2]).startswith("e-mail « pas-un-email »")
    assert Prospect.objects.count() == 50

    again = SimpleUploadedFile("prospects.xlsx", fifty_five_prospects())
    response = staff_client.post(reverse("admin:prospects_prospect_import"), {"file": again}, follow=True)
    assert "0 créé(s), 0 mis à jour, 50 inchangé(s), 5 ignoré(s)" in response.content.decode()


def test_excel_cells_that_are_numbers_or_have_gaps_are_read_as_typed():
    content = xlsx_bytes(
        [
            ["Chiffres", "chiffres@nombres.example", 42, "CTO", None, 3.0],
            [None, None, None, None, None, None],  # an empty row in the middle is skipped, not an error
            ["Après le trou", "apres@trou.example", "Trou", "CTO", None, None],
        ]
    )
    report = prospects_import(content=content, filename="numbers.xlsx")
    assert (report.created, report.errors) == (2, [])
    numbers = Prospect.objects.get(email="chiffres@nombres.example")
    assert (numbers.company, numbers.pain_point) == ("42", "3")


def test_a_duplicate_email_keeps_the_first_row_and_names_both_lines_and_reimport_changes_nothing():
    doc = (
        '[{"name": "Alice", "email": "alice@acme.example", "title": "CTO"},\n'
        ' {"name": "Bob", "email": "bob@bob.example"},\n'
        ' {"name": "Alice bis", "email": " ALICE@Acme.example ", "title": "VP"}]'
    )
    first = prospects_import(content=doc, filename="dup.json")
    assert (first.created, first.updated) == (2, 0)
    [error] = first.errors
    assert (error.line, error.prospect) == (3, "Alice bis")
    assert error.message.startswith("même e-mail que la ligne 1 (alice@acme.example)")
    assert Prospect.objects.get(email="alice@acme.example").title == "CTO"

    again = prospects_import(content=doc, filename="dup.json")
    assert (again.created, again.updated, again.unchanged, len(again.errors)) == (0, 0, 2, 1)


def test_nul_bytes_and_lone_surrogates_are_row_errors_and_the_good_rows_are_kept():
    # JSON escapes can carry both; PostgreSQL refuses NUL in text, and no database can encode a lone
    # surrogate: without a check the first such row aborted the whole file.
    doc = (
        '[{"name": "Bonne", "email": "bonne@ligne.example"},\n'
        '{"name": "Nul", "email": "nul@ligne.example", "pain_point": "avant\\u0000après"},\n'
        '{"name": "Surrogate \\ud800", "email": "surrogate@ligne.example"},\n'
        '{"name": "Autre bonne", "email": "autre@ligne.example"}]'
    )
    report = prospects_import(content=doc, filename="bad-chars.json")
    assert report.created == 2
    assert [(e.line, e.prospect) for e in report.errors] == [(2, "Nul"), (3, "surrogate@ligne.example")]
    assert report.errors[0].message == (
        "problème principal « avant\\x00après » : contient un caractère NUL, qui ne peut pas être enregistré."
    )
    assert report.errors[1].message.startswith("nom « Surrogate \\ud800 » : contient un caractère Unicode invalide")
    for error in report.errors:
        error.describe().encode("utf-8")  # printable in a terminal and a page
    assert set(Prospect.objects.values_list("email", flat=True)) == {"bonne@ligne.example", "autre@ligne.example"}


def test_a_nul_byte_in_a_csv_cell_is_a_row_error(tmp_path, capsys):
    path = tmp_path / "nul.csv"
    path.write_bytes(b"name,email,company\nBonne,bonne@csv.example,A\nNul,nul@csv.example,B\x00C\n")
    call_command("import_prospects", str(path))
    out, err = capsys.readouterr()
    assert "1 créé(s), 0 mis à jour, 0 inchangé(s), 1 ignoré(s)" in out
    assert "nul.csv, ligne 3 (Nul) : entreprise « B\\x00C » : contient un caractère NUL" in err


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("list.csv", "name,email\nÉlodie,e@x.example\n".encode("cp1252") + b"\x81\x8d\x90", "ni du texte UTF-8"),
        ("list.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "fichier PDF"),
        ("list.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "Excel 97-2003 (.xls)"),
        ("list.xlsx", b"PK\x03\x04 this zip is cut short", "classeur Excel (.xlsx) lisible"),
        ("list.xlsx", b"name,email\nnot,a workbook\n", "classeur Excel (.xlsx) lisible"),
        (
            "list.xlsx",
            xlsx_bytes([["a", "b"]], header=["Nom", "Société"]),
            "Aucune colonne d'email parmi les colonnes trouvées : « Nom », « Société »",
        ),
        ("list.csv", b'name,email\n"never closed,a@b.example\n' + b"x" * 200_000, "fichier CSV est illisible"),
        ("notes.md", b"# some notes\nno list here\n", "Type de fichier inconnu"),
    ],
)
def test_a_file_that_is_not_a_readable_list_gets_one_sentence(tmp_path, filename, content, message):
    path = tmp_path / filename
    path.write_bytes(content)
    with pytest.raises(CommandError) as caught:
        call_command("import_prospects", str(path))
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert Prospect.objects.count() == 0


def test_the_admin_answers_an_unreadable_file_with_a_sentence_not_a_500(staff_client):
    for name, content in [("x.xlsx", b"PK\x03\x04 broken"), ("x.csv", b"\xff\xfe\x00\xd8" + b"\x81" * 10)]:
        upload = SimpleUploadedFile(name, content)
        response = staff_client.post(reverse("admin:prospects_prospect_import"), {"file": upload})
        assert response.status_code == 200
        assert "errorlist" in response.content.decode()
    assert Prospect.objects.count() == 0


def test_the_shipped_excel_example_imports_like_the_json_one():
    example = Path(__file__).resolve().parent.parent / "examples" / "prospects.example.xlsx"
    report = prospects_import(content=example.read_bytes(), filename=example.name)
    assert report.errors == [] and report.created == 3
    hugo = Prospect.objects.get(email="hugo@fictif-saas.example")
    assert hugo.name == "Hugo Bernard" and hugo.domain_list == ["fictif-saas.example"]


def test_row_errors_follow_the_language_in_use():
    with translation.override("en"):
        report = prospects_import(content=GOOD_AND_BAD_JSON, filename="p.json")
        assert report.errors[1].describe() == "line 7 (Bad Phone): phone: “12” is not a valid phone number."
