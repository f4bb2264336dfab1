"""The waiting room in the console (issue 21, SPEC §6 "Fair opening"), as a browser without
JavaScript uses it: its settings on the settings form, and the live room's tab (open now or
when the next opens, its figures, a form to change the rate or pause and resume admission,
CSRF, audited, for that branch's admins and national ones). Sign-in itself is tested
elsewhere: a session is started as the sign-in starts it."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from queue_service.domain import audit, schedules
from queue_service.domain.accounts import BRANCH_ADMIN, COUNTER_STAFF, NATIONAL_ADMIN
from tests.factories import JAKARTA
from tests.web.pages.forms import forms
from tests.web.pages.test_staff_cancel_pages import signed_in

BRANCH = "jakarta-salemba"
SETTINGS_PAGE = f"/admin/cabang/{BRANCH}/pengaturan"
ROOM_PAGE = f"/admin/cabang/{BRANCH}/ruang-tunggu"
RELEASE = dt.datetime(2026, 11, 23, 7, 0, tzinfo=JAKARTA)


def text(response) -> str:
    return response.get_data(as_text=True)


def at(clock, minutes: float) -> None:
    clock.set(RELEASE + dt.timedelta(minutes=minutes))


@pytest.fixture
def admin(app, client):
    return signed_in(app, client, "admin", "siti", BRANCH_ADMIN, BRANCH)


def page_form(client, url: str) -> dict:
    """The fields of the page's form that posts to itself (the CSRF token among them; the
    sign-out form names its own action)."""
    return next(
        f["fields"] for f in forms(text(client.get(url))) if f["method"] == "post" and not f["action"]
    )


@pytest.fixture
def room_open(tune_branch, clock):
    """The branch's room on around a 07:00 release at 60 a minute."""
    tune_branch(BRANCH, release_time="07:00", waiting_room={"enabled": True, "admit_per_minute": 60})
    at(clock, -30)


def join(client, count: int) -> list[str]:
    return [
        client.post(
            f"/api/v1/branches/{BRANCH}/waiting-room", environ_base={"REMOTE_ADDR": f"10.0.0.{n}"}
        ).get_json()["ticket"]
        for n in range(count)
    ]


def test_the_settings_form_sets_the_room_and_names_a_bad_number(admin, redis):
    page = text(admin.get(SETTINGS_PAGE))
    assert 'name="waiting_room.admit_per_minute" inputmode="numeric" value="300"' in page
    assert 'name="waiting_room.enabled" value="1">' in page  # not ticked by default
    values = {**page_form(admin, SETTINGS_PAGE), "action": "save"}
    values.pop("waiting_room.enabled")  # a box left unticked is not sent

    refused = admin.post(SETTINGS_PAGE, data={**values, "waiting_room.lasts_minutes": "721"})
    assert refused.status_code == 422
    assert re.search(r'id="e-waiting_room.lasts_minutes">Maksimal 720.<', text(refused))
    assert schedules.load_settings(redis, BRANCH).waiting_room is None

    typed = {
        "waiting_room.enabled": "1",
        "waiting_room.admit_per_minute": "120",
        "waiting_room.lasts_minutes": "90",
    }
    assert admin.post(SETTINGS_PAGE, data={**values, **typed}).status_code == 302
    stored = schedules.load_settings(redis, BRANCH).waiting_room
    assert stored == {
        "enabled": True,
        "opens_minutes_before": 15,
        "admit_per_minute": 120,
        "lasts_minutes": 90,
        "tickets_per_address": 20,
    }
    page = text(admin.get(SETTINGS_PAGE))
    assert 'name="waiting_room.enabled" value="1" checked' in page
    assert 'name="waiting_room.admit_per_minute" inputmode="numeric" value="120"' in page
    [entry] = audit.read(redis, BRANCH, action="settings")
    assert json.loads(entry.after)["waiting_room"] == stored and entry.actor == "siti"

    # Unticked again: the room is off, its numbers kept.
    values = {**page_form(admin, SETTINGS_PAGE), "action": "save"}
    values.pop("waiting_room.enabled")
    admin.post(SETTINGS_PAGE, data=values)
    assert schedules.load_settings(redis, BRANCH).waiting_room == {**stored, "enabled": False}


def test_the_tab_says_when_the_room_is_off_and_when_the_next_opens(admin, tune_branch, clock):
    page = text(admin.get(ROOM_PAGE))
    assert "Ruang tunggu cabang ini tidak aktif" in page and 'name="admit_per_minute"' not in page
    tune_branch(BRANCH, release_time="07:00", waiting_room={"enabled": True})
    at(clock, -30)
    page = text(admin.get(ROOM_PAGE))
    assert "Tidak ada ruang tunggu yang buka sekarang." in page
    assert "Ruang tunggu berikutnya buka Senin, 23 November 2026 06:45 WIB" in page
    assert 'name="admit_per_minute"' not in page  # nothing to change yet


def test_the_room_live_and_its_rate_and_pause_changed_audited(admin, client, clock, room_open, redis):
    at(clock, -5)
    join(client, 30)
    page = text(admin.get(ROOM_PAGE))
    assert re.search(r"Menunggu undian</th><td>30<", page)
    assert "belum diundi" in page

    at(clock, 0.1)  # the lottery is drawn at the first ask after the release; 7 let in by now
    client.post(f"/api/v1/branches/{BRANCH}/waiting-room", environ_base={"REMOTE_ADDR": "10.0.9.9"})
    page = text(admin.get(ROOM_PAGE))
    assert re.search(r"Menunggu giliran</th><td>24<", page) and re.search(r"Sudah masuk</th><td>7<", page)
    seed = redis.hget(f"{{branch:{BRANCH}}}:room:20261123", "seed") or re.search(
        r"<code>([0-9a-f]{64})</code>", page
    ).group(1)
    assert f"<code>{seed}</code>" in page and "diundi: 30 peserta" in page

    fields = page_form(admin, ROOM_PAGE)
    assert fields["admit_per_minute"] == "60"
    changed = admin.post(ROOM_PAGE, data={**fields, "admit_per_minute": "6", "action": "rate"})
    assert changed.status_code == 303
    page = text(admin.get(changed.headers["Location"]))
    assert "Laju diubah" in page and re.search(r"Laju \(peserta per menit\)</th><td>6<", page)

    at(clock, 0.5)  # 7 + floor(0.4 x 6) = 9
    admin.post(ROOM_PAGE, data={**page_form(admin, ROOM_PAGE), "action": "pause"})
    at(clock, 1.5)
    page = text(admin.get(ROOM_PAGE))
    assert "Dijeda" in page and re.search(r"Sudah masuk</th><td>9<", page)
    assert 'value="resume"' in page and 'value="pause"' not in page
    admin.post(ROOM_PAGE, data={**page_form(admin, ROOM_PAGE), "action": "resume"})
    assert re.search(r"Sudah masuk</th><td>9<", text(admin.get(ROOM_PAGE)))  # no catching up
    at(clock, 1.5 + 10 / 60)
    assert re.search(r"Sudah masuk</th><td>10<", text(admin.get(ROOM_PAGE)))

    entries = audit.read(redis, BRANCH, action="waiting_room_rate")
    assert [(json.loads(e.before), json.loads(e.after)) for e in reversed(entries)] == [
        (
            {"admit_per_minute": 60, "paused": False, "admitted": 7},
            {"admit_per_minute": 6, "paused": False, "admitted": 7},
        ),
        (
            {"admit_per_minute": 6, "paused": False, "admitted": 9},
            {"admit_per_minute": 6, "paused": True, "admitted": 9},
        ),
        (
            {"admit_per_minute": 6, "paused": True, "admitted": 9},
            {"admit_per_minute": 6, "paused": False, "admitted": 9},
        ),
    ]
    assert {(e.actor, e.address) for e in entries} == {("siti", "127.0.0.1")}


def test_a_bad_rate_is_named_and_a_change_without_an_open_room_refused(admin, clock, room_open):
    at(clock, 1)
    fields = page_form(admin, ROOM_PAGE)
    refused = admin.post(ROOM_PAGE, data={**fields, "admit_per_minute": "0", "action": "rate"})
    assert refused.status_code == 422 and 'id="e-admit_per_minute">Minimal 1.<' in text(refused)
    words = admin.post(ROOM_PAGE, data={**fields, "admit_per_minute": "cepat", "action": "rate"})
    assert words.status_code == 422

    at(clock, 61)  # the room has closed since the form was shown
    closed = admin.post(ROOM_PAGE, data={**fields, "action": "pause"})
    assert closed.status_code == 409 and "Tidak ada ruang tunggu yang buka sekarang" in text(closed)


def test_without_its_csrf_token_nothing_changes(admin, clock, room_open, redis):
    at(clock, 1)
    refused = admin.post(ROOM_PAGE, data={"action": "pause"})
    assert refused.status_code == 400
    assert audit.read(redis, BRANCH, action="waiting_room_rate") == []


@pytest.mark.parametrize(("role", "branches"), [(BRANCH_ADMIN, ("bekasi",)), (COUNTER_STAFF, (BRANCH,))])
def test_another_branchs_admin_and_counter_staff_are_refused(
    app, client, clock, room_open, redis, role, branches
):
    at(clock, 1)
    other = signed_in(app, client, "admin", "andi", role, *branches)
    assert other.get(ROOM_PAGE).status_code == 403
    token = re.search(r'name="csrf_token" value="([^"]+)"', text(other.get("/admin/"))).group(1)
    assert other.post(ROOM_PAGE, data={"csrf_token": token, "action": "pause"}).status_code == 403
    assert audit.read(redis, BRANCH, action="waiting_room_rate") == []


def test_a_national_admin_pauses_and_the_tab_speaks_english(app, client, clock, room_open):
    at(clock, 1)
    national = signed_in(app, client, "admin", "pusat", NATIONAL_ADMIN)
    page = text(national.get(f"{ROOM_PAGE}?lang=en"))
    assert "Open now" in page and "Admitted" in page
    assert (
        national.post(ROOM_PAGE, data={**page_form(national, ROOM_PAGE), "action": "pause"}).status_code
        == 303
    )
    assert "Paused" in text(national.get(f"{ROOM_PAGE}?lang=en"))
