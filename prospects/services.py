"""Writes to the prospect list: upsert one prospect, import a file of them."""

import csv
import io
import json
import re
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

import openpyxl
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from prospects.consent import prospect_consent_record
from prospects.models import ConsentSource, Prospect, RetiredIdentityToken, new_identity_token

# Import keys -> model fields, compared without case, accents, spaces or hyphens ("Téléphone" ->
# "telephone"), so a French founder's spreadsheet headers work as typed. `name` may also come as
# first_name + last_name (or Prénom + Nom); `domains` is an alias list of extra company domains;
# `pain` is kept for the old script's files.
FIELD_ALIASES = {
    "name": "name",
    "full_name": "name",
    "nom": "name",
    "nom_complet": "name",
    "contact": "name",
    "email": "email",
    "e_mail": "email",
    "mail": "email",
    "courriel": "email",
    "adresse_email": "email",
    "adresse_e_mail": "email",
    "adresse_mail": "email",
    "adresse_courriel": "email",
    "adresse_electronique": "email",
    "email_address": "email",
    "e_mail_address": "email",
    "email_professionnel": "email",
    "e_mail_professionnel": "email",
    "work_email": "email",
    "company": "company",
    "company_name": "company",
    "entreprise": "company",
    "societe": "company",
    "organisation": "company",
    "organization": "company",
    "nom_de_l'entreprise": "company",
    "raison_sociale": "company",
    "title": "title",
    "job_title": "title",
    "titre": "title",
    "fonction": "title",
    "poste": "title",
    "sector": "sector",
    "secteur": "sector",
    "pain_point": "pain_point",
    "pain": "pain_point",
    "probleme": "pain_point",
    "probleme_principal": "pain_point",
    "phone": "phone",
    "phone_number": "phone",
    "mobile": "phone",
    "portable": "phone",
    "telephone": "phone",
    "telephone_portable": "phone",
    "numero_de_telephone": "phone",
    "tel": "phone",
    "website": "website",
    "site": "website",
    "site_web": "website",
    "site_internet": "website",
    "domains": "extra_domains",
    "domaines": "extra_domains",
    "call_script": "call_script",
    "script_d'appel": "call_script",
    "script_dappel": "call_script",
}
# The tracking-consent column (prospects/consent.py): its words, compared like the headers (_key), and
# the answer each means. An empty cell changes nothing; a change is recorded with the file's name as proof.
CONSENT_KEYS = ("tracking_consent", "consentement", "consentement_suivi", "consent", "suivi")
CONSENT_WORDS = {
    **dict.fromkeys(("granted", "oui", "yes", "true", "1", "accepte", "accord", "consenti", "o", "y"), "granted"),
    **dict.fromkeys(("refused", "non", "no", "false", "0", "refuse", "opt_out", "optout", "n"), "refused"),
    **dict.fromkeys(("unknown", "inconnu", "non_demande", "?"), "unknown"),
}
FIRST_NAME_KEYS = ("first_name", "prenom")
LAST_NAME_KEYS = ("last_name", "nom_de_famille")


def _key(header: object) -> str:
    """A header as FIELD_ALIASES spells it: "Téléphone " -> "telephone", "E-mail" -> "e_mail"."""
    text = str(header).replace("’", "'").replace("\ufeff", "")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    # "Adresse e-mail :", " E-mail* " and "Nom  complet" spell the same keys as "adresse_e_mail"...
    return re.sub(r"[\s_-]+", "_", text.strip().strip(":*").strip().lower())


# How a row error names a field: the words of the person who filled the spreadsheet ("téléphone"),
# not our column keys ("phone:"). A context of their own, so "e-mail" here leaves the model's
# verbose names alone.
FIELD_LABELS: dict[str, Promise] = {
    "name": pgettext_lazy("import field", "name"),
    "email": pgettext_lazy("import field", "email"),
    "company": pgettext_lazy("import field", "company"),
    "title": pgettext_lazy("import field", "title"),
    "sector": pgettext_lazy("import field", "sector"),
    "pain_point": pgettext_lazy("import field", "pain point"),
    "phone": pgettext_lazy("import field", "phone"),
    "website": pgettext_lazy("import field", "website"),
    "extra_domains": pgettext_lazy("import field", "domains"),
    "call_script": pgettext_lazy("import field", "call script"),
    "tracking_consent": pgettext_lazy("import field", "tracking consent"),
}

# Files that are surely not a list of prospects, known by their first bytes: a one-line answer
# instead of a CSV parser reading garbage.
BINARY_SIGNATURES = {
    b"%PDF": "PDF",
    b"\x89PNG": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"GIF8": "GIF",
    b"\x1f\x8b": "gzip",
    b"\xd0\xcf\x11\xe0": "Excel 97-2003 (.xls)",
}
EMPTY_FILE = gettext_lazy("The file is empty: its first row must name the columns, one being “email”.")
XLSX_SIGNATURE = b"PK\x03\x04"  # a zip archive, which an .xlsx is
ECHO_MAX_CHARS = 60


class ImportFileError(Exception):
    """The file as a whole cannot be read (not JSON/CSV/XLSX, wrong shape); nothing was imported."""


@dataclass
class RowError:
    line: int
    message: str
    # Who the row was about (name, else email), so a long list's errors can be found by a person.
    prospect: str = ""

    def describe(self) -> str:
        """One line for a terminal: "ligne 7 (Jean Dupont) : même e-mail que la ligne 3 …"."""
        if self.prospect:
            return _("line %(line)d (%(prospect)s): %(message)s") % {
                "line": self.line,
                "prospect": self.prospect,
                "message": self.message,
            }
        return _("line %(line)d: %(message)s") % {"line": self.line, "message": self.message}


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> int:
        return self.created + self.updated + self.unchanged

    def summary(self) -> str:
        text = _("%(created)d created, %(updated)d updated, %(unchanged)d unchanged, %(errors)d skipped") % {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": len(self.errors),
        }
        return text + (_(" (dry run: nothing saved)") if self.dry_run else "")


def echo(value: object) -> str:
    """A user's value shown back in a message: short, and printable even when it cannot be stored."""
    text = str(value).replace("\x00", "\\x00")
    # A lone surrogate cannot be encoded: the page or the terminal showing it would fail in turn.
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= ECHO_MAX_CHARS else text[: ECHO_MAX_CHARS - 1] + "…"


def _field_error(target: str, value: object, problem: str) -> str:
    label = FIELD_LABELS.get(target, target)
    shown = echo(value)
    if shown and shown not in problem:
        return _("%(field)s “%(value)s”: %(problem)s") % {"field": label, "value": shown, "problem": problem}
    return _("%(field)s: %(problem)s") % {"field": label, "problem": problem}


def _storable_problem(value: str) -> str | None:
    """Why a database cannot store this text (PostgreSQL refuses NUL; nobody can encode a lone surrogate)."""
    if "\x00" in value:
        return _("contains a NUL character, which cannot be stored.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _("contains a character that is not valid Unicode.")
    return None


def _cell_text(raw: Any) -> Any:
    # Excel gives numbers for a phone typed without "+" and floats for whole numbers ("12.0").
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return raw


def _row_values(row: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The row's good values under model field names, and one message per field that cannot be taken."""
    values: dict[str, str] = {}
    problems: list[str] = []
    for key, raw in row.items():
        if key is None:
            continue
        if _key(key) in CONSENT_KEYS:
            _consent_value(raw, values, problems)
            continue
        target = FIELD_ALIASES.get(_key(key))
        if target is None or raw is None:
            continue
        if isinstance(raw, list):
            raw = ", ".join(str(item) for item in raw)
        if isinstance(raw, dict | bool):
            problems.append(_field_error(target, raw, _("must be text.")))
            continue
        value = str(_cell_text(raw)).strip()
        problem = _storable_problem(value)
        if problem:
            problems.append(_field_error(target, value, problem))
        elif value:
            values[target] = value
    keyed = {_key(k): v for k, v in row.items() if k is not None}
    first = next((str(keyed[k]).strip() for k in FIRST_NAME_KEYS if keyed.get(k) not in (None, "")), "")
    last = next((str(keyed[k]).strip() for k in LAST_NAME_KEYS if keyed.get(k) not in (None, "")), "")
    if first and not last and "nom" in keyed:
        # "Prénom" + "Nom" columns: "Nom" is the family name there, not the full name.
        last, values["name"] = values.get("name", ""), ""
    full = f"{first} {last}".strip()
    if full and not values.get("name") and not _storable_problem(full):
        values["name"] = full
    values = {name: value for name, value in values.items() if value}
    return values, problems


def _consent_value(raw: Any, values: dict[str, str], problems: list[str]) -> None:
    """The consent cell's answer into values["tracking_consent"], or a problem naming the words it takes."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return
    word = _key("true" if raw is True else "false" if raw is False else str(_cell_text(raw)))
    state = CONSENT_WORDS.get(word)
    if state is None:
        problems.append(
            _field_error("tracking_consent", raw, _("must be granted or refused (oui / non, yes / no), or empty."))
        )
    else:
        values["tracking_consent"] = state


def _upsert_fields(values: dict[str, str]) -> tuple[Prospect, str]:
    email = values.get("email", "").lower()
    if not email:
        raise ValidationError(_("The email is missing."))
    prospect = Prospect.objects.filter(email=email).first()
    outcome = "updated"
    if prospect is None:
        prospect, outcome = Prospect(email=email), "created"
    before = {name: getattr(prospect, name) for name in set(FIELD_ALIASES.values())}
    for name, value in values.items():
        setattr(prospect, name, value)
    try:
        prospect.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise ValidationError(
            [
                _field_error(name, values.get(name, getattr(prospect, name, "")), " ".join(messages))
                for name, messages in exc.message_dict.items()
            ]
        ) from exc
    after = {name: getattr(prospect, name) for name in set(FIELD_ALIASES.values())}
    if outcome == "updated" and before == after:
        return prospect, "unchanged"
    prospect.save()
    return prospect, outcome


def _json_rows(text: str) -> list[tuple[int, Any]]:
    """Rows of a JSON list (or {"prospects": [...]}) with the line each row starts on."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            _("The file is not valid JSON (line %(line)d: %(msg)s).") % {"line": exc.lineno, "msg": exc.msg}
        ) from exc
    if isinstance(document, dict) and isinstance(document.get("prospects"), list):
        items = document["prospects"]
        match = re.search(r'"prospects"\s*:\s*\[', text)
        start = match.end() if match else None
        if start is None:  # unusual spacing or escapes: number the rows instead of lines
            return list(enumerate(items, start=1))
    elif isinstance(document, list):
        items = document
        start = text.index("[") + 1
    else:
        raise ImportFileError(_('The JSON must be a list of prospects or {"prospects": [...]}.'))
    # Walk the array once more with raw_decode to learn on which line each element starts.
    lines: list[int] = []
    decoder = json.JSONDecoder()
    position = start
    while len(lines) < len(items):
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        lines.append(text.count("\n", 0, position) + 1)
        _obj, position = decoder.raw_decode(text, position)
    return list(zip(lines, items, strict=True))


def _is_email_header(header: str | None) -> bool:
    return FIELD_ALIASES.get(_key(header or "")) == "email"


# What spreadsheets write: Excel (French locale: ";"), Google Sheets and LibreOffice (","), "Unicode
# text" exports (tab); always '"' as the quote character.
CSV_DELIMITERS = (";", ",", "\t")


def _csv_header(text: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader(io.StringIO(text), delimiter=delimiter, quotechar='"'), [])
    except csv.Error:
        return []


def _csv_delimiter(text: str) -> str:
    """The delimiter under which the header has an email column, else the one giving the most columns.

    Not csv.Sniffer: on a few rows it takes an apostrophe ("l'astreinte") for the quote character, or
    a comma inside a quoted field for the delimiter of a ";" file."""
    headers = {delimiter: _csv_header(text, delimiter) for delimiter in CSV_DELIMITERS}
    for delimiter, header in headers.items():
        if any(_is_email_header(name) for name in header):
            return delimiter
    return max(CSV_DELIMITERS, key=lambda delimiter: len(headers[delimiter]))


def _no_email_column(found: list[str]) -> ImportFileError:
    """The same sentence for every format: which columns were found, and how to name the missing one."""
    names = [name.strip() for name in found if name and name.strip()]
    if not names:
        return ImportFileError(_("The file has no header row: its first row must name the columns, one being “email”."))
    return ImportFileError(
        _(
            "No email column among the columns found: %(columns)s. Name the column of addresses “email” "
            "(or “E-mail”, “Adresse e-mail”, “Courriel”)."
        )
        % {"columns": ", ".join(_("“%(name)s”") % {"name": echo(name)} for name in names[:12])}
    )


def _csv_rows(text: str) -> list[tuple[int, Any]]:
    delimiter = _csv_delimiter(text)
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter, quotechar='"')
    rows = []
    try:
        if not reader.fieldnames or not any(_is_email_header(h) for h in reader.fieldnames):
            raise _no_email_column(list(reader.fieldnames or []))
        for row in reader:
            if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
                continue
            rows.append((reader.line_num, row))
    except csv.Error as exc:  # an unterminated quote, a field beyond the csv module's size limit
        raise ImportFileError(
            _("The CSV file cannot be read (line %(line)d: %(msg)s).") % {"line": reader.line_num, "msg": exc}
        ) from exc
    return rows


def _xlsx_rows(content: bytes) -> list[tuple[int, Any]]:
    """Rows of the workbook's first sheet under its header row, numbered as Excel numbers them."""
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # untrusted bytes: any failure of the parser means "not a workbook"
        raise ImportFileError(_("The file is not a readable Excel workbook (.xlsx).")) from exc
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some writers store a wrong sheet size; read every row there is
        rows: list[tuple[int, Any]] = []
        header: list[str] | None = None
        for line, cells in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1):
            if not any(cell is not None and str(cell).strip() for cell in cells):
                continue
            if header is None:
                header = [str(cell).strip() if cell is not None else "" for cell in cells]
                if not any(_is_email_header(name) for name in header):
                    raise _no_email_column(header)
                continue
            rows.append((line, {name: value for name, value in zip(header, cells, strict=False) if name}))
    except ImportFileError:
        raise
    except Exception as exc:  # a damaged sheet inside a valid zip
        raise ImportFileError(_("The file is not a readable Excel workbook (.xlsx).")) from exc
    finally:
        workbook.close()
    if header is None:
        raise ImportFileError(EMPTY_FILE)
    return rows


def _decode(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" export
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")  # Excel's CSV on French Windows
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            _("The file is neither UTF-8 nor Windows-1252 text: give a .json, .csv or .xlsx file.")
        ) from exc


def read_prospect_rows(content: bytes | str, filename: str) -> list[tuple[int, Any]]:
    name = filename.lower()
    if isinstance(content, bytes):
        if content.startswith(XLSX_SIGNATURE) or name.endswith((".xlsx", ".xlsm")):
            return _xlsx_rows(content)
        for signature, kind in BINARY_SIGNATURES.items():
            if content.startswith(signature):
                raise ImportFileError(
                    _("This is a %(kind)s file, not a list of prospects: give a .json, .csv or .xlsx file.")
                    % {"kind": kind}
                )
        content = _decode(content)
    if not content.strip():
        raise ImportFileError(EMPTY_FILE)
    if name.endswith(".json") or content.lstrip().startswith(("[", "{")):
        return _json_rows(content)
    if name.endswith((".csv", ".tsv", ".txt")) or any(d in content for d in CSV_DELIMITERS):
        return _csv_rows(content)
    raise ImportFileError(_("Unknown file type: give a .json, .csv or .xlsx file."))


def prospects_import(*, content: bytes | str, filename: str, dry_run: bool = False) -> ImportReport:
    """Upsert every good row; report each bad one with its line and skip it.

    Two rows with the same email (ignoring case) in one file: the first is imported, every later one
    is a row error naming the first's line. Letting the last win would import whichever copy happens
    to come last, and a re-import would "update" the prospect back and forth forever.
    """
    rows = read_prospect_rows(content, filename)
    report = ImportReport(dry_run=dry_run)
    first_line_of: dict[str, int] = {}  # email -> line of its first row
    with transaction.atomic():
        for line, row in rows:
            if not isinstance(row, dict):
                report.errors.append(RowError(line, _("Each prospect must be an object with keys.")))
                continue
            values, problems = _row_values(row)
            label = echo(values.get("name") or values.get("email") or "")
            email = values.get("email", "").lower()
            # The first row with an email claims it, even when it has another error: which copy gets in
            # must not depend on where the typos are.
            if email in first_line_of:
                report.errors.append(RowError(line, _duplicate_message(email, first_line_of[email]), label))
                continue
            if email:
                first_line_of[email] = line
            if problems:
                report.errors.append(RowError(line, "; ".join(problems), label))
                continue
            consent = values.pop("tracking_consent", None)
            try:
                with transaction.atomic():
                    prospect, outcome = _upsert_fields(values)
                    if consent and consent != prospect.tracking_consent:
                        # The file is the proof of how it was known; the notice is the one in force.
                        prospect_consent_record(
                            prospect=prospect, state=consent, source=ConsentSource.IMPORT, detail=filename
                        )
                        outcome = "updated" if outcome == "unchanged" else outcome
            except ValidationError as exc:
                report.errors.append(RowError(line, "; ".join(exc.messages), label))
                continue
            except DatabaseError as exc:
                # Whatever the checks above missed (a value this database refuses, a concurrent
                # import of the same email): this row is refused, the savepoint keeps the others.
                report.errors.append(RowError(line, _("could not be saved: %(error)s") % {"error": echo(exc)}, label))
                continue
            setattr(report, outcome, getattr(report, outcome) + 1)
        if dry_run:
            transaction.set_rollback(True)
    return report


def _duplicate_message(email: str, first_line: int) -> str:
    return _("same email as line %(first)d (%(email)s); only the first row of an email is imported.") % {
        "first": first_line,
        "email": echo(email),
    }


# The statuses only a person moves a prospect out of (the admin's actions, an import): a signal, a call
# or a booking never does, but a meeting booked on a call is news whatever the status was.
FINAL_STATUSES = (Prospect.Status.WON, Prospect.Status.LOST, Prospect.Status.DO_NOT_CONTACT)


def prospects_set_status(
    *,
    prospect_ids: Iterable[int],
    status: str,
    only_from: Collection[str] | None = None,
    not_from: Collection[str] = (),
) -> int:
    """The one place a prospect's pipeline status is written: by staff, an alert (hot), a call, a
    booking made or cancelled, an unsubscribe. One conditional UPDATE: `only_from` the statuses it may
    leave, `not_from` those it must keep, judged in the database at the write, so that a writer never
    undoes what another wrote since it read the row. How many prospects changed."""
    prospects = Prospect.objects.filter(pk__in=list(prospect_ids))
    if only_from is not None:
        prospects = prospects.filter(status__in=list(only_from))
    if not_from:
        prospects = prospects.exclude(status__in=list(not_from))
    return prospects.update(status=status)


def prospect_rotate_identity_token(*, prospect: Prospect, by: Any = None) -> str:
    """Give the prospect a new `ak` (a personal link leaked): links and pages carrying the old one
    then count as unmatched visits, and the timeline says when it changed. Returns the new token."""
    with transaction.atomic():
        RetiredIdentityToken.objects.create(prospect=prospect, token=prospect.identity_token, retired_by=by)
        prospect.identity_token = new_identity_token()
        prospect.save(update_fields=["identity_token", "updated_at"])
    return prospect.identity_token


# The README's first hour texts you about this one, not about fictitious people put in your real list:
# its name and company say it is a demo, and `demo_prospect --remove` erases it and its events.
DEMO_EMAIL = "demo@arkwatch-demo.example"
DEMO_FIELDS = {
    "name": "Démo ArkWatch",
    "company": "DÉMO, à supprimer",
    "title": "Prospect de démonstration",
    # 01 99 00 xx xx: the French numbering plan's range for fiction (ARCEP), nobody's phone.
    "phone": "+33199000000",
    "pain_point": "Essai du premier SMS",
}


def demo_prospect_add() -> tuple[Prospect, bool]:
    """The one demo prospect, created once; (prospect, created)."""
    return Prospect.objects.get_or_create(email=DEMO_EMAIL, defaults=DEMO_FIELDS)
