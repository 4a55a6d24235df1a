"""Rubric spreadsheets: exact round trips, refusals that name the row and column, and imports
through the API that add a version and leave the earlier one untouched."""

from __future__ import annotations

import copy
import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from openpyxl import Workbook

from services.core.demo.loader import content
from services.core.errors import Invalid
from services.core.rubrics import service as rubrics
from services.core.rubrics import spreadsheet
from tests.services.conftest import World

DOC = rubrics.default_rubric()
Rows = list[list[Any]]


def _rows() -> Rows:
    text = spreadsheet.export_document(DOC, "csv").decode("utf-8-sig")
    return [list(r) for r in csv.reader(io.StringIO(text, newline=""))]


def _csv(rows: Rows) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def _xlsx(rows: Rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _refusal(data: bytes, fmt: str = "csv") -> Invalid:
    with pytest.raises(Invalid) as caught:
        spreadsheet.parse_rubric(data, fmt, name="Imported")
    assert caught.value.code == "bad_rubric_file"
    return caught.value


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_parse_gives_the_same_document(fmt: str) -> None:
    data = spreadsheet.export_document(DOC, fmt)
    assert spreadsheet.parse_rubric(data, fmt, name=DOC["name"]) == DOC


def test_the_export_has_one_row_per_anchored_level_with_examples_in_one_cell() -> None:
    header, *rows = _rows()
    assert tuple(header) == spreadsheet.COLUMNS
    assert len(rows) == 6 * 3 * 5
    first = DOC["competencies"][0]["indicators"][0]["levels"][0]
    assert rows[0][8] == " || ".join(first["examples"])


def test_text_that_looks_like_a_formula_stays_text_in_xlsx() -> None:
    doc = copy.deepcopy(DOC)
    level = doc["competencies"][0]["indicators"][0]["levels"][0]
    level["anchor"] = '=HYPERLINK("http://example.com")'
    level["examples"] = ["+1 more", "@someone said so", "-2 points"]
    data = spreadsheet.export_document(doc, "xlsx")
    assert spreadsheet.parse_rubric(data, "xlsx", name=doc["name"]) == doc


def test_rows_in_any_order_with_blank_lines_give_the_canonical_document() -> None:
    header, *rows = _rows()
    shuffled = [header, *rows[4::-1], ["", "", "", "", "", "", "", "", ""], *rows[5:]]
    assert spreadsheet.parse_rubric(_csv(shuffled), "csv", name=DOC["name"]) == DOC


def test_semicolon_separated_csv_from_a_european_excel_is_read() -> None:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=";").writerows(_rows())
    assert spreadsheet.parse_rubric(buffer.getvalue().encode(), "csv", name=DOC["name"]) == DOC


def _drop_anchor_column(rows: Rows) -> None:
    for row in rows:
        del row[7]


def _set(row: int, column: int, value: str) -> Callable[[Rows], None]:
    def edit(rows: Rows) -> None:
        rows[row - 1][column] = value

    return edit


# (mutation of the exported rows, expected row, expected column, words in the message)
CASES = {
    "missing column": (_drop_anchor_column, 1, "anchor", "lacks anchor"),
    "level above 5": (_set(4, 5, "6"), 4, "level", "1 to 5"),
    "level below 1": (_set(4, 5, "0"), 4, "level", "1 to 5"),
    "level not a number": (_set(4, 5, "three"), 4, "level", "1 to 5"),
    "level missing": (lambda rows: rows.pop(3), 2, "level", "lacks level 3"),
    "duplicate row": (lambda rows: rows.insert(3, list(rows[2])), 4, "level", "row 3"),
    "empty anchor": (_set(6, 7, "  "), 6, "anchor", "anchor is empty"),
    "empty label": (_set(6, 6, ""), 6, "label", "label is empty"),
    "empty competency key": (_set(5, 0, ""), 5, "competency_key", "empty"),
    "competency name differs": (_set(3, 1, "Talking"), 3, "competency_name", "row 2"),
    "indicator text differs": (_set(5, 4, "Other text"), 5, "indicator_text", "row 2"),
    "key with spaces": (_set(2, 3, "own actions"), 2, "indicator_key", "letters, digits"),
    "label too long": (_set(7, 6, "x" * 65), 7, "label", "At most 64"),
    "duplicate header": (_set(1, 2, "level"), 1, "level", "twice"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_broken_csv_is_refused_naming_its_row_and_column(case: str) -> None:
    mutate, row, column, words = CASES[case]
    rows = _rows()
    mutate(rows)
    refusal = _refusal(_csv(rows))
    assert (refusal.details["row"], refusal.details["column"]) == (row, column)
    assert words in refusal.message
    assert refusal.message.startswith(f"Row {row}, column {column!r}: ")


def test_a_broken_xlsx_is_refused_with_spreadsheet_row_numbers() -> None:
    rows: Rows = _rows()
    for row in rows[1:]:
        row[5] = int(row[5])
    rows[8][5] = 7
    refusal = _refusal(_xlsx(rows), "xlsx")
    assert (refusal.details["row"], refusal.details["column"]) == (9, "level")


def test_an_xlsx_with_an_empty_anchor_is_refused() -> None:
    rows = _rows()
    rows[10][7] = None
    refusal = _refusal(_xlsx(rows), "xlsx")
    assert (refusal.details["row"], refusal.details["column"]) == (11, "anchor")


@pytest.mark.parametrize(
    ("data", "fmt", "words"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "csv", "not a CSV file"),
        (b"\xff\xfe\xfa not utf-8", "csv", "UTF-8"),
        (spreadsheet.export_document(DOC, "xlsx"), "csv", "format=xlsx"),
        (spreadsheet.export_document(DOC, "csv"), "xlsx", "not an XLSX workbook"),
        (b"PK\x03\x04 a broken zip", "xlsx", "not an XLSX workbook"),
        (b"", "csv", "empty"),
        (b"a" * (2 * 1024 * 1024 + 1), "csv", "larger than 2 MB"),
        (b"x", "ods", "use csv or xlsx"),
    ],
    ids=["binary", "not-utf8", "xlsx-as-csv", "csv-as-xlsx", "bad-zip", "empty", "2mb", "ods"],
)
def test_a_file_that_is_not_a_rubric_spreadsheet_is_refused(
    data: bytes, fmt: str, words: str
) -> None:
    assert words in _refusal(data, fmt).message


def test_a_header_without_rows_is_refused_at_row_2() -> None:
    refusal = _refusal(_csv([list(spreadsheet.COLUMNS)]))
    assert refusal.details["row"] == 2


# Through the API -------------------------------------------------------------------------------


def _demo_document() -> dict[str, Any]:
    rubric = content()["rubric"]
    return {"name": rubric["name"], "competencies": rubric["competencies"]}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_version_downloads_as_a_spreadsheet_that_parses_back_to_it(
    world: World, fmt: str
) -> None:
    recruiter = world.staff(world.a, "recruiter")
    response = recruiter.get(f"/api/v1/rubrics/{world.a.rubric_version_id}/export?format={fmt}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(spreadsheet.CONTENT_TYPES[fmt][:20])
    assert response.headers["content-disposition"] == (
        f'attachment; filename="parley-default-soft-skill-rubric-v1.{fmt}"'
    )
    document = spreadsheet.parse_rubric(response.content, fmt, name=_demo_document()["name"])
    assert document == _demo_document()


def test_an_import_creates_version_2_and_leaves_version_1_untouched(world: World) -> None:
    psychologist = world.staff(world.a, "psychologist")
    v1_path = f"/api/v1/rubrics/{world.a.rubric_version_id}"
    before = psychologist.get(v1_path).json()
    rows = _rows()
    rows[1][7] = "Revised anchor: no personal action can be identified."
    name = _demo_document()["name"]

    response = psychologist.post(
        "/api/v1/rubrics/import", params={"name": name, "format": "csv"}, content=_csv(rows)
    )

    assert response.status_code == 201, response.text
    v2 = response.json()
    assert (v2["version"], v2["rubric_id"]) == (2, before["rubric_id"])
    assert v2["competencies"][0]["indicators"][0]["levels"][0]["anchor"].startswith("Revised")
    assert psychologist.get(v1_path).json() == before
    assert [v["version"] for v in psychologist.get("/api/v1/rubrics").json()] == [1, 2]
    events = world.staff(world.a, "admin").get("/api/v1/audit").json()
    imports = [e for e in events if e["action"] == "rubric.import"]
    assert [(e["subject"], e["data"]["version"]) for e in imports] == [
        (f"rubric_version:{v2['id']}", 2)
    ]


def test_an_xlsx_import_under_a_new_name_starts_at_version_1(world: World) -> None:
    admin = world.staff(world.a, "admin")
    response = admin.post(
        "/api/v1/rubrics/import",
        params={"name": "Graduate scheme", "format": "xlsx"},
        content=spreadsheet.export_document(DOC, "xlsx"),
    )
    assert response.status_code == 201, response.text
    assert response.json()["version"] == 1
    exported = admin.get(f"/api/v1/rubrics/{response.json()['id']}/export?format=xlsx")
    assert spreadsheet.parse_rubric(exported.content, "xlsx", name=DOC["name"]) == DOC


def test_the_api_refuses_a_broken_file_naming_row_and_column(world: World) -> None:
    rows = _rows()
    rows[4][5] = "9"
    response = world.staff(world.a, "psychologist").post(
        "/api/v1/rubrics/import", params={"name": "Broken"}, content=_csv(rows)
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["details"]) == ("bad_rubric_file", {"row": 5, "column": "level"})
    assert world.staff(world.a, "psychologist").get("/api/v1/rubrics").json()[-1]["version"] == 1


def test_the_api_refuses_a_file_over_2_mb_without_storing_anything(world: World) -> None:
    response = world.staff(world.a, "admin").post(
        "/api/v1/rubrics/import", params={"name": "Huge"}, content=b"x," * (1024 * 1024 + 1)
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "bad_rubric_file"
    assert "2 MB" in response.json()["error"]["message"]


def test_an_edit_in_the_app_becomes_the_next_version_and_the_old_one_stays(world: World) -> None:
    psychologist = world.staff(world.a, "psychologist")
    before = psychologist.get(f"/api/v1/rubrics/{world.a.rubric_version_id}").json()
    edited = copy.deepcopy(before)
    edited["competencies"][0]["indicators"][0]["levels"][2]["anchor"] = "A clearer anchor."

    response = psychologist.post("/api/v1/rubrics/versions", json={
        "name": before["name"], "competencies": edited["competencies"],
    })

    assert response.status_code == 201, response.text
    new = response.json()
    assert new["version"] == before["version"] + 1 and new["name"] == before["name"]
    assert new["competencies"][0]["indicators"][0]["levels"][2]["anchor"] == "A clearer anchor."
    unchanged = psychologist.get(f"/api/v1/rubrics/{world.a.rubric_version_id}").json()
    assert unchanged == before


def test_an_edit_with_gaps_in_the_levels_is_refused_by_field(world: World) -> None:
    psychologist = world.staff(world.a, "psychologist")
    document = copy.deepcopy(rubrics.default_rubric())
    document["competencies"][0]["indicators"][0]["levels"][1]["level"] = 9

    response = psychologist.post("/api/v1/rubrics/versions", json=document)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "bad_levels"


def test_an_edit_with_a_label_or_key_longer_than_its_column_is_refused_by_field(
    world: World,
) -> None:
    psychologist = world.staff(world.a, "psychologist")
    for field, value in (("label", "L" * 65), ("key", "k" * 65)):
        document = copy.deepcopy(rubrics.default_rubric())
        indicator = document["competencies"][0]["indicators"][0]
        (indicator["levels"][0] if field == "label" else indicator)[field] = value

        response = psychologist.post("/api/v1/rubrics/versions", json=document)

        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "validation_error"
