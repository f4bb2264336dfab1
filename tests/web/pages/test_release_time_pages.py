"""The pages of ``release_time`` (issue 21, SPEC §6 "Fair opening"): the newest day of the
window says when it opens, in the branch's zone, until it does; the console's settings form
sets it. Moments come from the injected clock."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from queue_service.domain import schedules
from queue_service.domain.accounts import BRANCH_ADMIN

MONDAY = dt.date(2026, 11, 23)
NEWEST = "2026-12-07"  # Monday plus the demo's 14-day window
MAKASSAR = ZoneInfo("Asia/Makassar")
JAYAPURA = ZoneInfo("Asia/Jayapura")
DATES = "/cabang/makassar/jht"
NEWEST_LINK = f'href="/cabang/makassar/jht/{NEWEST}"'


def text(response) -> str:
    return response.get_data(as_text=True)


def at(hour: int, minute: int, zone=MAKASSAR) -> dt.datetime:
    return dt.datetime.combine(MONDAY, dt.time(hour, minute), tzinfo=zone)


def newest_item(html: str) -> str:
    """The list item of the newest day (the last of the window)."""
    return html[html.index("Senin, 7 Desember 2026") :].split("</li>")[0]


def test_the_newest_day_says_when_it_opens_until_it_does(client, clock, tune_branch):
    tune_branch("makassar", release_time="07:00")
    clock.set(at(6, 59))
    html = text(client.get(DATES))
    assert "Dibuka pukul 07:00 WITA" in newest_item(html)
    assert NEWEST_LINK not in html  # disabled, as other closed days
    assert 'href="/cabang/makassar/jht/2026-12-04"' in html  # the days before it are open

    clock.set(at(7, 0))
    html = text(client.get(DATES))
    assert NEWEST_LINK in html and "Dibuka pukul" not in html


def test_the_opening_is_told_in_english_and_in_each_branchs_zone(client, clock, tune_branch):
    tune_branch("jayapura", release_time="08:15")
    clock.set(at(8, 14, JAYAPURA))
    html = text(client.get("/cabang/jayapura/jht?lang=en"))
    assert "Opens at 08:15 WIT" in html and f'href="/cabang/jayapura/jht/{NEWEST}' not in html


def test_the_newest_days_slot_page_says_when_it_opens(client, clock, tune_branch):
    tune_branch("makassar", release_time="07:00")
    clock.set(at(6, 59))
    html = text(client.get(f"/cabang/makassar/jht/{NEWEST}"))
    assert "Tanggal ini tidak dapat dipesan." in html and "Dibuka pukul 07:00 WITA" in html
    assert 'name="slot"' not in html

    clock.set(at(7, 0))
    assert 'name="slot"' in text(client.get(f"/cabang/makassar/jht/{NEWEST}"))


def test_by_default_there_is_no_opening_time_to_tell(client, clock):
    clock.set(at(0, 0))
    html = text(client.get(DATES))
    assert NEWEST_LINK in html and "Dibuka pukul" not in html


# The console's settings form.

PASSWORD = "kata sandi panjang"
SETTINGS_PAGE = "/admin/cabang/makassar/pengaturan"


@pytest.fixture
def signed_in(app, client):
    app.extensions["antrian"].accounts.create("wati", BRANCH_ADMIN, ("makassar",), password=PASSWORD)
    token = re.search(r'name="csrf_token" value="([^"]+)"', text(client.get("/admin/masuk"))).group(1)
    client.post("/admin/masuk", data={"csrf_token": token, "username": "wati", "password": PASSWORD})
    return client


def settings_form(client) -> tuple[str, dict]:
    page = text(client.get(SETTINGS_PAGE))
    values = dict(re.findall(r'<input[^>]* name="([a-z_0-9]+)"[^>]* value="([^"]*)"', page))
    values.pop("action", None)
    if 'name="online_booking" value="1" checked' in page:
        values["online_booking"] = "1"
    return page, values


def test_the_settings_form_sets_the_release_time(signed_in, redis):
    page, values = settings_form(signed_in)
    assert 'name="release_time" value="00:00"' in page and "(WITA)" in page

    saved = signed_in.post(SETTINGS_PAGE, data={**values, "release_time": "07:00", "action": "save"})
    assert saved.status_code == 302
    assert schedules.load_settings(redis, "makassar").release_time == "07:00"
    assert 'name="release_time" value="07:00"' in settings_form(signed_in)[0]


def test_the_settings_form_names_a_bad_release_time_beside_its_field(signed_in, redis):
    _page, values = settings_form(signed_in)
    response = signed_in.post(SETTINGS_PAGE, data={**values, "release_time": "7 pagi", "action": "save"})
    assert response.status_code == 422
    assert 'id="e-release_time"' in text(response) and "HH:MM" in text(response)
    assert schedules.load_settings(redis, "makassar").release_time == "00:00"
