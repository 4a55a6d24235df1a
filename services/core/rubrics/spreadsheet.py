"""Rubric spreadsheets (CSV and XLSX): one row per anchored level, exported and read back exactly.

Psychologists keep criteria in spreadsheets; a file that does not describe a complete rubric is
refused with the row and column to fix, never half-imported.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font

from services.core.errors import Invalid
from services.core.rubrics.orm import RubricVersion

COLUMNS = (
    "competency_key",
    "competency_name",
    "competency_description",
    "indicator_key",
    "indicator_text",
    "level",
    "label",
    "anchor",
    "examples",
)
OPTIONAL = frozenset({"competency_description", "examples"})
EXAMPLE_SEPARATOR = " || "
LEVELS = (1, 2, 3, 4, 5)
FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MAX_BYTES = 2 * 1024 * 1024
# An XLSX file is a zip archive: a small upload can expand enormously when opened.
MAX_UNZIPPED_BYTES = 50 * 1024 * 1024
_MAX_LENGTH = {"competency_key": 64, "indicator_key": 64, "competency_name": 200, "label": 64}
_KEY = re.compile(r"[A-Za-z0-9_.-]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WIDTHS = {"A": 22, "B": 22, "C": 40, "D": 28, "E": 40, "F": 7, "G": 12, "H": 60, "I": 90}


def _bad(message: str, *, row: int | None = None, column: str | None = None) -> Invalid:
    where = ", ".join(
        part
        for part in (f"Row {row}" if row else "", f"column {column!r}" if column else "")
        if part
    )
    return Invalid(
        f"{where}: {message}" if where else message, code="bad_rubric_file", row=row, column=column
    )


# Export ------------------------------------------------------------------------------------------


def document_of(version: RubricVersion) -> dict[str, Any]:
    """The version as the document `rubrics.service.import_rubric` accepts."""
    return {
        "name": version.rubric.name,
        "competencies": [
            {
                "key": c.key,
                "name": c.name,
                "description": c.description,
                "indicators": [
                    {
                        "key": i.key,
                        "text": i.text,
                        "levels": [
                            {
                                "level": lv.level,
                                "label": lv.label,
                                "anchor": lv.anchor,
                                "examples": list(lv.examples),
                            }
                            for lv in i.levels
                        ],
                    }
                    for i in c.indicators
                ],
            }
            for c in version.competencies
        ],
    }


def _rows(document: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for c in document["competencies"]:
        for i in c["indicators"]:
            for lv in i["levels"]:
                if any("||" in example for example in lv["examples"]):
                    raise Invalid(
                        f"An example of {i['key']} level {lv['level']} contains '||', which "
                        "separates examples in a spreadsheet.",
                        code="unexportable_rubric",
                    )
                rows.append(
                    [
                        c["key"],
                        c["name"],
                        c.get("description", ""),
                        i["key"],
                        i["text"],
                        lv["level"],
                        lv["label"],
                        lv["anchor"],
                        EXAMPLE_SEPARATOR.join(lv["examples"]),
                    ]
                )
    return rows


def _csv_bytes(rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    # The byte-order mark makes Excel read the file as UTF-8 instead of the local code page.
    return buffer.getvalue().encode("utf-8-sig")


def _xlsx_bytes(rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Rubric"
    sheet.append(COLUMNS)
    for row in rows:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text such as "=..." stays text, never a formula
            cell.alignment = wrap
    for letter, width in _WIDTHS.items():
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_document(document: dict[str, Any], fmt: str) -> bytes:
    """A rubric document as a CSV or XLSX file, one row per anchored level."""
    if fmt not in FORMATS:
        raise _bad(f"Unknown format {fmt!r}: use csv or xlsx.")
    rows = _rows(document)
    return _csv_bytes(rows) if fmt == "csv" else _xlsx_bytes(rows)


def export_rubric(version: RubricVersion, fmt: str) -> bytes:
    return export_document(document_of(version), fmt)


# Import ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    number: int
    cells: dict[str, str]
    level: int
    examples: list[str]


def _read_csv(data: bytes) -> list[list[Any]]:
    if data.startswith(b"PK\x03\x04"):
        raise _bad("This is an XLSX workbook, not a CSV file: import it with format=xlsx.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _bad("The file is not a CSV file in UTF-8: save it as 'CSV UTF-8'.") from exc
    if "\x00" in text:
        raise _bad("The file is not a CSV file: it contains binary data.")
    first_line = text.split("\n", 1)[0]
    # Excel saves CSV with semicolons where the comma is the decimal separator.
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        return [list(row) for row in reader]
    except csv.Error as exc:
        raise _bad(f"The file is not valid CSV ({exc}).", row=reader.line_num) from exc


def _read_xlsx(data: bytes) -> list[list[Any]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise _bad("The file is not an XLSX workbook (an old .xls or a CSV file?).") from exc
    if unzipped > MAX_UNZIPPED_BYTES:
        raise _bad("The workbook expands to more than 50 MB when opened.")
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds of error for a foreign or damaged file
        raise _bad("The file is not a readable XLSX workbook.") from exc
    try:
        return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    except Exception as exc:
        raise _bad("The workbook's first sheet cannot be read.") from exc
    finally:
        workbook.close()


def _text(value: Any, *, row: int, column: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if _CONTROL.search(text):
        raise _bad("The cell contains a control character.", row=row, column=column)
    return text


def _level(text: str, *, row: int) -> int:
    if text not in {str(n) for n in LEVELS}:
        raise _bad(
            f"The level must be a whole number from 1 to 5, not {text!r}.", row=row, column="level"
        )
    return int(text)


def _header(table: list[list[Any]]) -> dict[str, int]:
    if not table:
        raise _bad("The file is empty.")
    names = [_text(v, row=1, column="header").lower() for v in table[0]]
    for name in COLUMNS:
        if names.count(name) > 1:
            raise _bad("The column appears twice in the header row.", row=1, column=name)
    missing = [name for name in COLUMNS if name not in names]
    if missing:
        raise _bad(
            f"The header row lacks {', '.join(missing)}; it needs {', '.join(COLUMNS)}.",
            row=1,
            column=missing[0],
        )
    return {name: names.index(name) for name in COLUMNS}


def _record(values: list[Any], *, number: int, index: dict[str, int]) -> _Row:
    cells = {
        name: _text(values[i] if i < len(values) else None, row=number, column=name)
        for name, i in index.items()
    }
    for name in COLUMNS:
        if name not in OPTIONAL and not cells[name]:
            raise _bad(f"The {name.replace('_', ' ')} is empty.", row=number, column=name)
    for name, limit in _MAX_LENGTH.items():
        if len(cells[name]) > limit:
            raise _bad(f"At most {limit} characters.", row=number, column=name)
    for name in ("competency_key", "indicator_key"):
        if not _KEY.fullmatch(cells[name]):
            raise _bad(
                "Use only letters, digits, '_', '-' and '.' in a key.", row=number, column=name
            )
    examples = [e.strip() for e in cells["examples"].split("||") if e.strip()]
    return _Row(number, cells, _level(cells["level"], row=number), examples)


def _records(table: list[list[Any]]) -> list[_Row]:
    index = _header(table)
    records = [
        _record(values, number=number, index=index)
        for number, values in enumerate(table[1:], start=2)
        if any(v is not None and str(v).strip() for v in values)
    ]
    if not records:
        raise _bad("The file has a header but no rubric rows.", row=2)
    return records


# Cells repeated on every row of a competency or an indicator must agree.
_CONSISTENT = (
    ("competency_name", "competency"),
    ("competency_description", "competency"),
    ("indicator_text", "indicator"),
)


def _same(first: tuple[int, str], row: _Row, column: str) -> None:
    if row.cells[column] != first[1]:
        raise _bad(
            f"It differs from row {first[0]} of the same key.", row=row.number, column=column
        )


def _document(records: list[_Row], *, name: str) -> dict[str, Any]:
    competencies: dict[str, dict[str, Any]] = {}
    firsts: dict[tuple[str, str, str], tuple[int, str]] = {}
    levels: dict[tuple[str, str], dict[int, _Row]] = {}
    for r in records:
        ck, ik = r.cells["competency_key"], r.cells["indicator_key"]
        for column, key in _CONSISTENT:
            first_key = (column, ck, ik if key == "indicator" else "")
            _same(firsts.setdefault(first_key, (r.number, r.cells[column])), r, column)
        competency = competencies.setdefault(
            ck,
            {
                "key": ck,
                "name": r.cells["competency_name"],
                "description": r.cells["competency_description"],
                "indicators": {},
            },
        )
        competency["indicators"].setdefault(ik, {"key": ik, "text": r.cells["indicator_text"]})
        seen = levels.setdefault((ck, ik), {})
        if r.level in seen:
            raise _bad(
                f"Duplicate of row {seen[r.level].number}: {ik} already has level {r.level}.",
                row=r.number,
                column="level",
            )
        seen[r.level] = r
    for (ck, ik), found in levels.items():
        missing = [str(n) for n in LEVELS if n not in found]
        if missing:
            raise _bad(
                f"Indicator {ik} of {ck} lacks level {', '.join(missing)}; "
                "each indicator needs levels 1 to 5.",
                row=firsts[("indicator_text", ck, ik)][0],
                column="level",
            )
        competencies[ck]["indicators"][ik]["levels"] = [
            {
                "level": n,
                "label": found[n].cells["label"],
                "anchor": found[n].cells["anchor"],
                "examples": found[n].examples,
            }
            for n in LEVELS
        ]
    for competency in competencies.values():
        competency["indicators"] = list(competency["indicators"].values())
    return {"name": name, "competencies": list(competencies.values())}


def parse_rubric(data: bytes, fmt: str, *, name: str) -> dict[str, Any]:
    """The rubric document a CSV or XLSX file describes, or Invalid naming the row and column."""
    if fmt not in FORMATS:
        raise _bad(f"Unknown format {fmt!r}: use csv or xlsx.")
    if len(data) > MAX_BYTES:
        raise _bad(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    if not data.strip():
        raise _bad("The file is empty.")
    table = _read_csv(data) if fmt == "csv" else _read_xlsx(data)
    return _document(_records(table), name=name)
