"""CSV that a spreadsheet opens as data, never as formulas (OWASP "CSV injection").

Excel, LibreOffice and Google Sheets run a cell that begins with ``=``, ``+``, ``-`` or
``@`` (and, in some, a tab or carriage return first) as a formula: a username typed at the
sign-in form as ``=HYPERLINK(...)``, or an e-mail address of the form
``=cmd|'/C calc'!A0@example.com``, would run on the admin's desk when the audit log or the
bookings export is opened. Such a cell is written with a leading apostrophe, which the
spreadsheets read as "text" and show without it. A cell that is just a number (a phone
number ``+628123456789``, ``-5``) cannot run anything and stays as it is.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def safe_cell(value: object) -> str:
    """``value`` as a cell's text, with a leading apostrophe when a spreadsheet would run it."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_text(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    """A header and rows as CSV, every cell made safe."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([safe_cell(value) for value in row] for row in rows)
    return out.getvalue()
