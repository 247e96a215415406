"""Imports read the files founders have, written the way their tools write them: French and English
Excel, Google Sheets, LibreOffice (";", ",", tab; BOM; CRLF; UTF-8, Windows-1252, UTF-16), XLSX, JSON;
headers in French or English, with accents or not. When the email column is missing, or the file is
empty, the admin and the command say the same sentence."""

import csv
import io
import json

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from prospects.models import Prospect
from prospects.services import prospects_import

pytestmark = pytest.mark.django_db

FRENCH_HEADER = ["Prénom", "Nom", "Société", "E-mail", "Téléphone", "Problème principal"]
ENGLISH_HEADER = ["First Name", "Last Name", "Company", "Email Address", "Phone", "Pain point"]
ROWS = [
    # A quoted separator in each format, apostrophes that csv.Sniffer takes for quote characters.
    [
        "Élodie",
        "Durand",
        "Société d'Études",
        "elodie@etudes.example",
        "01 99 00 12 34",
        "Alertes trop tardives; l'astreinte dort",
    ],
    ["Hugo", "Lefèvre", "Acme, Logistique", "hugo@acme-logistique.example", "", "L'équipe n'a pas d'outil"],
    ["Zoé", "O'Neil", "Bureau d'Art", "zoe@bureau-dart.example", "+33 1 99 00 56 78", "Rien d'urgent"],
]


def csv_bytes(header, rows, *, delimiter, encoding, line_end, bom=False) -> bytes:
    """As the tool writes it: quotes only where needed (a separator, a quote, a line break inside)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, quotechar='"', lineterminator=line_end)
    writer.writerows([header, *rows])
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


FILES = {
    # Excel, French Windows, "CSV (séparateur : point-virgule)": Windows-1252, ";", CRLF, no BOM.
    "excel-fr.csv": csv_bytes(FRENCH_HEADER, ROWS, delimiter=";", encoding="cp1252", line_end="\r\n"),
    # Excel, French, "CSV UTF-8": a BOM, ";" (the French list separator), CRLF.
    "excel-fr-utf8.csv": csv_bytes(FRENCH_HEADER, ROWS, delimiter=";", encoding="utf-8", line_end="\r\n", bom=True),
    # Excel, English, "CSV UTF-8 (Comma delimited)": a BOM, ",", CRLF.
    "excel-en.csv": csv_bytes(ENGLISH_HEADER, ROWS, delimiter=",", encoding="utf-8", line_end="\r\n", bom=True),
    # Google Sheets, "Download > CSV": UTF-8 without BOM, ",", CRLF.
    "google-sheets.csv": csv_bytes(
        ["Prenom", "Nom", "Entreprise", "Adresse e-mail", "Telephone", "Probleme"],
        ROWS,
        delimiter=",",
        encoding="utf-8",
        line_end="\r\n",
    ),
    # LibreOffice Calc's defaults: UTF-8, ",", LF.
    "libreoffice.csv": csv_bytes(FRENCH_HEADER, ROWS, delimiter=",", encoding="utf-8", line_end="\n"),
    # LibreOffice, "Text CSV" with the tab separator.
    "libreoffice-tab.tsv": csv_bytes(FRENCH_HEADER, ROWS, delimiter="\t", encoding="utf-8", line_end="\n"),
    # Excel, "Texte Unicode (*.txt)": UTF-16 LE with its BOM, tab, CRLF.
    "excel-unicode.txt": b"\xff\xfe"
    + csv_bytes(FRENCH_HEADER, ROWS, delimiter="\t", encoding="utf-16-le", line_end="\r\n"),
}


def xlsx_bytes(header, rows) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in [header, *rows]:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


FILES["excel.xlsx"] = xlsx_bytes(FRENCH_HEADER, ROWS)
FILES["export.json"] = json.dumps(
    [dict(zip(["prénom", "nom", "société", "e-mail", "téléphone", "problème"], row, strict=True)) for row in ROWS],
    ensure_ascii=False,
).encode()


@pytest.mark.parametrize("filename", FILES)
def test_each_format_imports_every_row_with_its_accents_and_quoted_separators(filename):
    report = prospects_import(content=FILES[filename], filename=filename)
    assert report.errors == [] and report.created == 3, [e.describe() for e in report.errors]
    elodie = Prospect.objects.get(email="elodie@etudes.example")
    assert elodie.name == "Élodie Durand" and elodie.company == "Société d'Études"
    assert elodie.pain_point == "Alertes trop tardives; l'astreinte dort"
    assert elodie.phone == "+33199001234"
    assert Prospect.objects.get(email="hugo@acme-logistique.example").company == "Acme, Logistique"
    assert Prospect.objects.get(email="zoe@bureau-dart.example").name == "Zoé O'Neil"


@pytest.mark.parametrize("filename", ["excel-fr.csv", "excel-fr-utf8.csv"])
def test_the_french_excel_csv_imports_through_the_command_and_the_admin_alike(filename, tmp_path, capsys, staff_client):
    path = tmp_path / filename
    path.write_bytes(FILES[filename])
    call_command("import_prospects", str(path))
    out = capsys.readouterr().out
    assert "3 créé(s), 0 mis à jour" in out
    upload = SimpleUploadedFile(filename, FILES[filename], content_type="text/csv")
    page = staff_client.post(reverse("admin:prospects_prospect_import"), {"file": upload}, follow=True)
    assert "0 créé(s), 0 mis à jour, 3 inchangé(s)" in page.content.decode()


def both_answers(filename: str, content: bytes, tmp_path, staff_client) -> tuple[str, str]:
    """What the command (its one-line error, without the file name it starts with) and the admin say."""
    path = tmp_path / filename
    path.write_bytes(content)
    with pytest.raises(CommandError) as caught:
        call_command("import_prospects", str(path))
    command_says = str(caught.value).removeprefix(f"{filename}: ")
    upload = SimpleUploadedFile(filename, content)
    page = staff_client.post(reverse("admin:prospects_prospect_import"), {"file": upload}).content.decode()
    return command_says, page


@pytest.mark.parametrize(
    ("filename", "content", "expected"),
    [
        (
            "no-email.csv",
            "Nom;Société;Tél\r\nÉlodie;Études;0199001234\r\n".encode("cp1252"),
            "« Nom », « Société », « Tél »",
        ),
        ("no-email.xlsx", xlsx_bytes(["Nom", "Société"], [["Élodie", "Études"]]), "« Nom », « Société »"),
        ("empty.csv", b"", "Le fichier est vide"),
        ("blank.csv", b"\xef\xbb\xbf\r\n\r\n", "Le fichier est vide"),
        ("empty.xlsx", xlsx_bytes([], []), "Le fichier est vide"),
    ],
)
def test_a_missing_email_column_or_an_empty_file_reads_the_same_in_the_admin_and_the_command(
    filename, content, expected, tmp_path, staff_client
):
    command_says, page = both_answers(filename, content, tmp_path, staff_client)
    assert expected in command_says
    assert command_says.replace("'", "&#x27;") in page  # the admin's page escapes the apostrophes
    assert Prospect.objects.count() == 0
