"""Closures of days in the console (issue 22), as a browser without JavaScript uses it: the
form "Tutup beberapa hari" on a branch's dates page and on the national page, the closure's
page with how many bookings were cancelled and how many participants were texted (live, as the
worker sends), reopening. Sign-in itself is tested elsewhere: a session is started as the
sign-in starts it."""

from __future__ import annotations

import re

import pytest

from queue_service.domain.accounts import BRANCH_ADMIN, NATIONAL_ADMIN
from tests.web.pages.forms import form
from tests.web.pages.test_staff_cancel_pages import signed_in

BRANCH = "jakarta-salemba"
DATES = f"/admin/cabang/{BRANCH}/tanggal"
CLOSE = f"/admin/cabang/{BRANCH}/tutup"
NATIONAL = "/admin/nasional"
CLOSE_ALL = "/admin/nasional/tutup"
NOTE = "Banjir di sekitar kantor"


def text(response) -> str:
    return response.get_data(as_text=True)


def figures(html: str) -> dict[str, str]:
    """The closure page's table rows: header -> value."""
    return dict(re.findall(r'<tr><th scope="row">([^<]+)</th><td>([^<]*)</td></tr>', html))


def close_from(client, page: str, action: str, **typed):
    """Fill in and send the closure form found on ``page`` (its confirmation ticked)."""
    fields = form(text(client.get(page)), action)
    return client.post(
        action, data={**fields, "from": "2026-11-24", "to": "2026-11-26", "note": NOTE, **typed}
    )


@pytest.fixture
def admin(app, client):
    return signed_in(app, client, "admin", "siti", BRANCH_ADMIN, BRANCH)


def test_a_branch_admin_closes_days_from_the_dates_page_and_sees_the_participants_reached(
    admin, book, work, sent_sms, redis
):
    made = [book(date=day) for day in ("2026-11-24", "2026-11-25")]
    work()

    response = close_from(admin, DATES, CLOSE)

    assert response.status_code == 303
    page_url = response.headers["Location"]
    assert re.fullmatch(r"/admin/penutupan/cl-[0-9a-f]{16}", page_url)
    page = text(admin.get(page_url))
    assert NOTE in page and "Jakarta Salemba" in page
    assert figures(page)["Jumlah antrian dibatalkan"] == "2"
    assert (figures(page)["SMS terkirim"], figures(page)["SMS menunggu dikirim"]) == ("0", "2")
    assert 'http-equiv="refresh"' not in page
    assert 'http-equiv="refresh"' in text(admin.get(f"{page_url}?segarkan=1"))  # while SMS wait

    work()

    page = text(admin.get(page_url))
    assert (figures(page)["SMS terkirim"], figures(page)["SMS menunggu dikirim"]) == ("2", "0")
    assert 'http-equiv="refresh"' not in text(admin.get(f"{page_url}?segarkan=1"))  # nothing left to wait for
    assert {line["code"] for line in sent_sms() if line["event"] == "closed"} == {b["code"] for b in made}
    dates = text(admin.get(DATES))
    assert dates.count("ditutup cabang") == 3 and NOTE in dates
    listed = text(admin.get(CLOSE))
    assert page_url in listed


def test_reopening_lifts_the_days_and_says_the_bookings_stay_cancelled(admin, book, booking_body, client):
    book()
    page_url = close_from(admin, DATES, CLOSE).headers["Location"]
    reopen = form(text(admin.get(page_url)), f"{page_url}/buka")

    response = admin.post(f"{page_url}/buka", data=reopen)

    assert response.status_code == 303
    page = text(admin.get(response.headers["Location"]))
    assert "Antrian yang dibatalkan tetap dibatalkan." in page
    assert "dibuka kembali oleh siti" in page
    assert f"{page_url}/buka" not in page  # nothing left to reopen
    assert figures(page)["Jumlah antrian dibatalkan"] == "1"
    assert "ditutup cabang" not in text(admin.get(DATES))


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        ({"from": "2026-11-22"}, "from", "Tanggal itu sudah lewat."),
        ({"to": "2026-11-23"}, "to", "Tanggal akhir tidak boleh sebelum tanggal mulai."),
        ({"note": "  "}, "note", "Wajib diisi."),
        ({"from": ""}, "from", "Tanggal harus berformat YYYY-MM-DD."),
    ],
)
def test_a_bad_form_is_shown_again_naming_the_field_and_closes_nothing(admin, redis, typed, field, message):
    response = close_from(admin, DATES, CLOSE, **typed)
    assert response.status_code == 422
    assert re.search(rf'id="ce-{field}">{re.escape(message)}<', text(response))
    assert redis.hgetall(f"antrian:{{b:{BRANCH}}}:dates") == {}


def test_without_the_confirmation_ticked_nothing_is_closed(admin, redis):
    fields = form(text(admin.get(DATES)), CLOSE)
    del fields["confirm"]
    response = admin.post(CLOSE, data={**fields, "from": "2026-11-24", "to": "2026-11-24", "note": NOTE})
    assert response.status_code == 422
    assert 'id="ce-confirm">Wajib diisi.<' in text(response)
    assert redis.hgetall(f"antrian:{{b:{BRANCH}}}:dates") == {}


def test_without_its_csrf_token_nothing_is_closed(admin, redis):
    response = admin.post(
        CLOSE, data={"from": "2026-11-24", "to": "2026-11-24", "note": NOTE, "confirm": "1"}
    )
    assert response.status_code == 400
    assert redis.hgetall(f"antrian:{{b:{BRANCH}}}:dates") == {}


def test_another_branch_s_admin_may_not_close_it_nor_read_its_closure(app, client, admin, redis):
    page_url = close_from(admin, DATES, CLOSE).headers["Location"]
    other = app.test_client()
    signed_in(app, other, "admin", "budi", BRANCH_ADMIN, "bekasi")
    fields = form(text(other.get("/admin/cabang/bekasi/tanggal")), "/admin/cabang/bekasi/tutup")
    refused = other.post(CLOSE, data={**fields, "from": "2026-11-24", "to": "2026-11-24", "note": NOTE})
    assert refused.status_code == 403
    assert other.get(page_url).status_code == 403
    assert other.get(CLOSE_ALL).status_code == 403


def test_a_national_admin_closes_every_branch_from_the_national_page_in_english(
    app, client, book, booking_body
):
    signed_in(app, client, "admin", "pusat", NATIONAL_ADMIN)
    book(branch_id="makassar", date="2026-11-25")

    response = close_from(client, NATIONAL, CLOSE_ALL)

    assert response.status_code == 303
    page = text(client.get(f"{response.headers['Location']}?lang=en"))
    assert "Every branch" in page and "Bookings cancelled" in page
    assert figures(page)["Bookings cancelled"] == "1"
    refused = client.post("/api/v1/bookings", json=booking_body(branch_id="bekasi", date="2026-11-24"))
    assert refused.status_code == 409
    assert response.headers["Location"] in text(client.get(CLOSE_ALL))
