"""CSV exports as every download of the product sends them: formulas neutralised, CRLF rows, a UTF-8 BOM and a
Content-Disposition that holds a Chinese file name (shared by the API's and the console's exports)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from fastapi.responses import Response

#: What a spreadsheet takes as the start of a formula (OWASP's list, and the full-width signs a Chinese input
#: method types, which Excel in CJK locales reads the same way).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell that no spreadsheet evaluates (formula injection, CWE-1236).

    Only text is touched: note titles and ids come from creators and platforms, not from whoever opens the
    export, so text starting a formula gets a leading ``'``, which spreadsheets show as "this is text". The
    report's own numbers (``-3.5`` net GMV) are written by ``csv`` from ints and floats: they stay numbers,
    since a quoted number would no longer sum, and a number cannot carry a formula.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def attachment(filename: str) -> str:
    """A Content-Disposition for ``filename``: an ASCII name for every client and the UTF-8 one (RFC 6266), so
    a brand named in Chinese neither breaks the header (latin-1 only) nor injects into it."""
    plain = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


def csv_response(rows: Sequence[dict[str, Any]], columns: Sequence[str], filename: str) -> Response:
    buffer = io.StringIO()
    # RFC 4180's CRLF: csv quotes a field holding any character of the line terminator, so with "\n" alone a
    # bare CR in a title went out unquoted and split the row for readers that end lines at CR.
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({column: csv_cell(row.get(column)) for column in columns} for row in rows)
    # A byte-order mark so Excel opens Chinese text as UTF-8.
    return Response(
        "\ufeff" + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": attachment(filename)},
    )
