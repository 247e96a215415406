"""Mail-merge exports: `export_email_links` and the prospects' admin action."""

import csv
import io
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from prospects.models import new_identity_token
from tests.factories import ProspectFactory
from tracking.tokens import LINK_SALT, PIXEL_SALT, ak_fingerprint, read_token

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/prospects/prospect/"
COLUMNS = ["email", "name", "company", "ak", "pixel_url", "link_url"]


def export(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("export_email_links", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def token_of(url: str) -> str:
    path = urlsplit(url).path
    return path.rsplit("/", 1)[1].removesuffix(".gif")


def test_csv_to_stdout_has_one_row_per_prospect_with_working_pixel_and_link():
    ana = ProspectFactory(email="ana@acme.example", name="Ana Martin", company="Acme")
    ProspectFactory(email="bob@globex.example", name="Bob", company="Globex")
    out, err = export("--message-id", "relance-1", "--url", "https://www.example.com/audit")
    rows = list(csv.DictReader(io.StringIO(out), delimiter=";"))
    assert [list(row) for row in rows][0] == COLUMNS
    assert sorted(row["email"] for row in rows) == ["ana@acme.example", "bob@globex.example"]
    row = next(r for r in rows if r["email"] == ana.email)
    assert (row["name"], row["company"], row["ak"]) == ("Ana Martin", "Acme", ana.identity_token)
    assert row["pixel_url"].startswith("https://track.example.com/t/o/")
    assert read_token(token_of(row["pixel_url"]), salt=PIXEL_SALT) == {"p": ana.pk, "m": "relance-1"}
    link = read_token(token_of(row["link_url"]), salt=LINK_SALT)
    assert link == {
        "p": ana.pk,
        "m": "relance-1",
        "u": "https://www.example.com/audit",
        "k": ak_fingerprint(ana.identity_token),
    }
    assert "2 prospects exportés" in err


def test_without_url_the_link_column_is_empty():
    ProspectFactory()
    out, _err = export("--message-id", "m1")
    assert next(csv.DictReader(io.StringIO(out), delimiter=";"))["link_url"] == ""


def test_xlsx_file_has_55_rows_for_55_prospects(tmp_path):
    prospects = ProspectFactory.create_batch(55)
    target = tmp_path / "links.xlsx"
    out, _err = export(
        "--message-id", "relance-2", "--url", "https://www.example.com/", "--format", "xlsx", "--output", str(target)
    )
    assert "55 prospects exportés" in out
    sheet = load_workbook(target).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == COLUMNS
    assert len(rows[1:]) == 55
    assert {row[0] for row in rows[1:]} == {p.email for p in prospects}
    assert {row[3] for row in rows[1:]} == {p.identity_token for p in prospects}
    assert all(row[4].startswith("https://track.example.com/t/o/") and row[5] for row in rows[1:])


def test_csv_to_a_file(tmp_path):
    ProspectFactory.create_batch(3)
    target = tmp_path / "links.csv"
    export("--message-id", "m", "--output", str(target))
    assert len(list(csv.DictReader(target.open(encoding="utf-8-sig"), delimiter=";"))) == 3


def test_prospects_marked_do_not_contact_are_left_out():
    ProspectFactory(email="keep@acme.example")
    ProspectFactory(email="stop@acme.example", status="do_not_contact")
    out, err = export("--message-id", "m")
    assert [row["email"] for row in csv.DictReader(io.StringIO(out), delimiter=";")] == ["keep@acme.example"]
    assert "1 marqué « ne pas contacter » laissé de côté" in err


def test_formulas_in_names_stay_text(tmp_path):
    ProspectFactory(name='=HYPERLINK("https://evil.example")', company="+33 Corp")
    out, _err = export("--message-id", "m")
    row = next(csv.DictReader(io.StringIO(out), delimiter=";"))
    assert row["name"].startswith("'=") and row["company"] == "'+33 Corp"
    target = tmp_path / "x.xlsx"
    export("--message-id", "m", "--format", "xlsx", "--output", str(target))
    cell = load_workbook(target).active["B2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--message-id", ""], "--message-id doit faire de 1 à 200"),
        (["--message-id", "m" * 201], "--message-id doit faire de 1 à 200"),
        (["--message-id", "m", "--url", "javascript:alert(1)"], "adresse http(s) absolue"),
        (["--message-id", "m", "--format", "xlsx"], "donnez --output FICHIER"),
        (["--message-id", "m", "--output", "/nonexistent-dir/links.csv"], "Impossible d'écrire /nonexistent-dir"),
    ],
)
def test_bad_arguments_get_a_readable_error(args, words):
    ProspectFactory()
    with pytest.raises(CommandError, match=words.replace("(", r"\(").replace(")", r"\)")):
        export(*args)


def test_no_prospect_is_a_readable_error():
    with pytest.raises(CommandError, match="Aucun prospect à exporter"):
        export("--message-id", "m")


# --- The admin action ---------------------------------------------------------------------------


def test_admin_action_asks_for_the_message_then_downloads_the_selected_prospects_only(staff_client):
    chosen = ProspectFactory.create_batch(2)
    ProspectFactory(email="other@else.example")
    selection = {"action": "export_email_links", "_selected_action": [p.pk for p in chosen]}
    page = staff_client.post(CHANGELIST, selection)
    assert page.status_code == 200 and b'name="message_id"' in page.content
    download = staff_client.post(
        CHANGELIST,
        {
            **selection,
            "apply": "1",
            "message_id": "relance 3",
            "url": "https://www.example.com/a",
            "file_format": "csv",
        },
    )
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert download["Content-Disposition"] == 'attachment; filename="email-links-relance-3.csv"'
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig")), delimiter=";"))
    assert sorted(row["email"] for row in rows) == sorted(p.email for p in chosen)
    assert all(row["link_url"].startswith("https://track.example.com/t/c/") for row in rows)


def test_admin_action_xlsx(staff_client):
    chosen = ProspectFactory.create_batch(3)
    download = staff_client.post(
        CHANGELIST,
        {
            "action": "export_email_links",
            "_selected_action": [p.pk for p in chosen],
            "apply": "1",
            "message_id": "m",
            "file_format": "xlsx",
        },
    )
    assert download["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(download.content)).active
    assert sheet.max_row == 4 and sheet["F2"].value in ("", None)


def test_admin_action_with_an_invalid_form_shows_it_again(staff_client):
    prospect = ProspectFactory()
    page = staff_client.post(
        CHANGELIST,
        {"action": "export_email_links", "_selected_action": [prospect.pk], "apply": "1", "message_id": ""},
    )
    assert page.status_code == 200 and b"errorlist" in page.content
    ftp = staff_client.post(
        CHANGELIST,
        {
            "action": "export_email_links",
            "_selected_action": [prospect.pk],
            "apply": "1",
            "message_id": "m",
            "url": "ftp://files.example.com/offer.pdf",
            "file_format": "csv",
        },
    )
    assert ftp.status_code == 200 and b"errorlist" in ftp.content


def test_admin_action_needs_staff(client):
    prospect = ProspectFactory()
    response = client.post(CHANGELIST, {"action": "export_email_links", "_selected_action": [prospect.pk]})
    assert response.status_code == 302 and "/login/" in response["Location"]


NASTY = {
    "email": "=1+1@x.example",
    "name": 'Dupont;=HYPERLINK("https://evil.example")',
    "company": "-2+3,@SUM(A1)\n+33",
}


def _pieces(text: str) -> list[str]:
    """What any spreadsheet could take for one cell: split on every separator a reader may choose
    (`,` in English Excel, `;` in French Excel, line breaks), quotes around a piece looked through."""
    pieces = []
    for line in text.replace("\r\n", "\n").split("\n"):
        for separator in (",", ";"):
            pieces += [piece.lstrip('"') for piece in line.split(separator)]
    return pieces


def test_every_csv_cell_stays_text_in_every_spreadsheet_emails_included(tmp_path):
    """The file opened as text: no piece, whatever the separator, starts a formula."""
    ProspectFactory(**NASTY)
    target = tmp_path / "links.csv"
    export("--message-id", "m", "--url", "https://landing.example.com/audit", "--output", str(target))
    text = target.read_text(encoding="utf-8-sig")
    unsafe = [piece for piece in _pieces(text) if piece.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert unsafe == []
    row = next(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert row["email"] == "'=1+1@x.example"
    assert row["name"] == 'Dupont;\'=HYPERLINK("https://evil.example")'
    assert row["company"] == "'-2+3,'@SUM(A1)\n'+33"
    assert row["link_url"].startswith("https://track.example.com/t/c/")  # ours, untouched


def test_new_identity_tokens_never_look_like_a_formula():
    assert not [t for t in (new_identity_token() for _ in range(2000)) if t.startswith("-")]


def test_the_mail_merge_csv_opens_right_in_a_french_excel_by_default_and_comma_on_request(tmp_path):
    """A French Excel reads a double-clicked CSV as UTF-8 only with a BOM, and splits cells on `;`."""
    ProspectFactory(name="Hélène Écrivain", company="Société Générale d'Études")
    target = tmp_path / "m1.csv"
    export("--message-id", "m1", "--output", str(target))
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    first, second = raw.decode("utf-8-sig").splitlines()[:2]
    assert first == "email;name;company;ak;pixel_url;link_url"
    assert "Hélène Écrivain;Société Générale d'Études" in second
    standard = tmp_path / "m1-standard.csv"
    export("--message-id", "m1", "--dialect", "standard", "--output", str(standard))
    assert standard.read_bytes().startswith(b"email,name,company,ak,pixel_url,link_url")
