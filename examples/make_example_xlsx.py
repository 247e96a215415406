"""Write examples/prospects.example.xlsx from prospects.example.json: the same three fictitious
prospects as an Excel sheet with French headers, the way a founder would keep the list.

    .venv/bin/python examples/make_example_xlsx.py

Generated, never edited by hand; the fixed document dates keep the file identical from one run to
the next.
"""

import datetime
import io
import json
import re
import zipfile
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent
# (header in the sheet, key in the JSON example)
COLUMNS = [
    ("Prénom", "first_name"),
    ("Nom", "last_name"),
    ("E-mail", "email"),
    ("Entreprise", "company"),
    ("Fonction", "title"),
    ("Secteur", "sector"),
    ("Problème principal", "pain_point"),
    ("Téléphone", "phone"),
    ("Site web", "website"),
    ("Domaines", "domains"),
    ("Script d'appel", "call_script"),
]


def main() -> None:
    prospects = json.loads((HERE / "prospects.example.json").read_text(encoding="utf-8"))["prospects"]
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Prospects"
    sheet.append([header for header, _key in COLUMNS])
    for prospect in prospects:
        if "name" in prospect:  # the sheet splits the full name like a founder's list would
            prospect["first_name"], prospect["last_name"] = prospect["name"].split(" ", 1)
        prospect.setdefault("pain_point", prospect.get("pain"))
        sheet.append([prospect.get(key) for _header, key in COLUMNS])
    fixed = datetime.datetime(2026, 1, 1)
    workbook.properties.created = fixed
    buffer = io.BytesIO()
    workbook.save(buffer)
    # openpyxl stamps the save time in the document and in every zip entry: fixed ones instead, so the
    # file only changes in git when its content does.
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(HERE / "prospects.example.xlsx", "w") as target:
        for entry in source.infolist():
            data = source.read(entry.filename)
            if entry.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2026-01-01T00:00:00Z", data)
            stamped = zipfile.ZipInfo(entry.filename, date_time=fixed.timetuple()[:6])
            stamped.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(stamped, data)


if __name__ == "__main__":
    main()
