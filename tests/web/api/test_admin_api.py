"""The admin API (SPEC §3 "Admin"): tokens, roles and scoping, settings, dates, bookings,
national closures, each change audited."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading

import pytest

from queue_service.domain import audit, schedules
from queue_service.domain.accounts import BRANCH_ADMIN, COUNTER_STAFF, NATIONAL_ADMIN
from queue_service.domain.tuning import BOUNDS
from queue_service.web.messages import FIELDS

SETTINGS = "/api/v1/admin/branches/jakarta-salemba/settings"
TUESDAY = "/api/v1/admin/branches/jakarta-salemba/dates/2026-11-24"


def error_code(response) -> str:
    return response.get_json()["error"]["code"]


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic dXNlcjpwdw=="}]
)
def test_no_or_bad_token_is_401(client, headers):
    response = client.get(SETTINGS, headers=headers)
    assert response.status_code == 401 and error_code(response) == "unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_settings_read_and_partially_changed(client, token):
    admin = token(BRANCH_ADMIN, "jakarta-salemba")
    before = client.get(SETTINGS, headers=admin).get_json()
    assert set(before) == {
        "online_booking",
        "daily_quota",
        "slot_minutes",
        "slot_capacity",
        "booking_window_days",
        "booking_cutoff_minutes",
        "service_hours",
        "service_quotas",
        "checkin_early_minutes",
        "checkin_grace_minutes",
        "priority_share",
        "walk_in_share",
        "call_ahead_places",
        "recalls_before_no_show",
        "release_time",
        "waiting_room",
    }

    response = client.put(SETTINGS, headers=admin, json={"daily_quota": 7, "slot_capacity": 3})

    assert response.status_code == 200
    assert response.get_json() == {**before, "daily_quota": 7, "slot_capacity": 3}
    assert client.get(SETTINGS, headers=admin).get_json()["daily_quota"] == 7


def test_a_booking_window_longer_than_a_year_is_refused_and_availability_stays_whole(client, token):
    admin = token()
    refused = client.put(SETTINGS, headers=admin, json={"booking_window_days": 5_000_000})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"] == {"booking_window_days": ["Maksimal 366."]}
    assert client.put(SETTINGS, headers=admin, json={"booking_window_days": 366}).status_code == 200
    assert client.get("/api/v1/branches/jakarta-salemba/availability?date=2026-11-24").status_code == 200


def test_a_day_already_over_cannot_be_closed_or_given_a_quota(client, token, book):
    admin = token()
    for day in ("2001-01-01", "2026-11-22"):  # the clock stands on Monday 23 November
        refused = client.put(
            f"/api/v1/admin/branches/jakarta-salemba/dates/{day}",
            headers=admin,
            json={"closed": True, "daily_quota": 3},
        )
        assert refused.status_code == 422
        assert refused.get_json()["error"]["fields"] == {"date": ["Tanggal itu sudah lewat."]}
    today = client.put(
        "/api/v1/admin/branches/jakarta-salemba/dates/2026-11-23", headers=admin, json={"closed": True}
    )
    assert today.status_code == 200


def test_a_change_shows_at_once_in_availability(client, token):
    admin = token()
    client.put(SETTINGS, headers=admin, json={"daily_quota": 2})
    day = client.get("/api/v1/branches/jakarta-salemba/availability?date=2026-11-24").get_json()
    assert (day["daily_quota"], day["remaining"]) == (2, 2)


@pytest.mark.parametrize(
    ("role", "branches", "status"),
    [
        (BRANCH_ADMIN, ("bekasi",), 403),
        (COUNTER_STAFF, ("jakarta-salemba",), 403),
        (BRANCH_ADMIN, ("bekasi", "jakarta-salemba"), 200),
        (NATIONAL_ADMIN, (), 200),
    ],
)
def test_roles_and_branches_decide(client, token, role, branches, status):
    headers = token(role, *branches)
    for response in (
        client.get(SETTINGS, headers=headers),
        client.put(SETTINGS, headers=headers, json={"daily_quota": 9}),
        client.put(TUESDAY, headers=headers, json={"closed": True}),
        client.get("/api/v1/admin/branches/jakarta-salemba/bookings?date=2026-11-24", headers=headers),
    ):
        assert response.status_code == status, response.get_json()
        if status == 403:
            assert error_code(response) == "forbidden"


def test_only_national_admins_close_nationally(client, token):
    branch_admin = token(BRANCH_ADMIN, "jakarta-salemba")
    assert (
        client.put("/api/v1/admin/closures/2026-11-25", headers=branch_admin, json={"note": "x"}).status_code
        == 403
    )
    national = token()
    response = client.put("/api/v1/admin/closures/2026-11-25", headers=national, json={"note": "Banjir"})
    assert response.get_json() == {"date": "2026-11-25", "note": "Banjir"}
    day = client.get("/api/v1/branches/jayapura/availability?date=2026-11-25").get_json()
    assert (day["open"], day["reason"], day["note"]) == (False, "national_closure", "Banjir")
    assert client.delete("/api/v1/admin/closures/2026-11-25", headers=national).status_code == 204
    assert client.get("/api/v1/branches/jayapura/availability?date=2026-11-25").get_json()["open"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"daily_quota": -1}, {"daily_quota"}),
        ({"slot_capacity": 0}, {"slot_capacity"}),
        (
            {"booking_window_days": -1, "booking_cutoff_minutes": -5},
            {"booking_window_days", "booking_cutoff_minutes"},
        ),
        ({"service_hours": {"mon": [["08:00", "15:00"]], "funday": []}}, {"service_hours.funday"}),
        ({"service_hours": {"mon": [["15:00", "08:00"]]}}, {"service_hours.mon"}),
        ({"service_hours": {"mon": [["08:00", "12:00"], ["11:00", "15:00"]]}}, {"service_hours.mon"}),
        ({"service_hours": {"mon": [["08:00", "24:30"]]}}, {"service_hours.mon.0.1"}),
        (
            {"slot_minutes": 45},
            {
                "service_hours.mon",
                "service_hours.tue",
                "service_hours.wed",
                "service_hours.thu",
                "service_hours.fri",
            },
        ),
        ({"service_quotas": {"jht": -2}}, {"service_quotas.jht"}),
        ({"walk_in_share": 95, "priority_share": 101}, {"walk_in_share", "priority_share"}),
        (
            {"call_ahead_places": -1, "recalls_before_no_show": -1},
            {"call_ahead_places", "recalls_before_no_show"},
        ),
    ],
)
def test_every_bad_value_is_named(client, token, body, fields):
    response = client.put(SETTINGS, headers=token(), json=body)
    assert response.status_code == 422 and error_code(response) == "validation_failed"
    assert set(response.get_json()["error"]["fields"]) == fields


@pytest.mark.parametrize("name", sorted(BOUNDS))
def test_the_api_and_its_document_keep_each_setting_in_the_domains_range(client, token, name):
    """Both ends are accepted, one past either end refused with the domain's own message, and
    the document says the same range."""
    bounds = BOUNDS[name]
    document = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    declared = document["BranchSettings"]["properties"][name]
    declared = declared.get("additionalProperties", declared)  # service_quotas: each value
    assert (declared["minimum"], declared.get("maximum")) == (bounds.floor, bounds.ceiling)
    admin = token()

    def put(value):
        return client.put(
            SETTINGS, headers=admin, json={name: {"jht": value} if name == "service_quotas" else value}
        )

    ends = [bounds.floor] if bounds.ceiling is None else [bounds.floor, bounds.ceiling]
    # The smallest slot length divides the demo's hours, so every end is a valid whole.
    assert [put(value).status_code for value in ends] == [200] * len(ends)
    past = [(bounds.floor - 1, bounds.below)]
    if bounds.ceiling is not None:
        past.append((bounds.ceiling + 1, bounds.above))
    for value, key in past:
        response = put(value)
        assert response.status_code == 422
        assert list(response.get_json()["error"]["fields"].values()) == [[FIELDS[key]]]


def test_the_document_lists_the_weekdays_and_spells_an_hour_as_the_domain_reads_it(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    hours = schemas[schemas["BranchSettings"]["properties"]["service_hours"]["$ref"].rsplit("/", 1)[1]]
    assert list(hours["properties"]) == list(schedules.WEEKDAYS)
    assert hours["additionalProperties"] is False
    clock = re.compile(hours["properties"]["mon"]["items"]["items"]["pattern"])
    for text in (f"{hours:02}:{minutes:02}" for hours in range(100) for minutes in range(100)):
        try:
            schedules.minutes_of(text)
            read = True
        except ValueError:
            read = False
        assert bool(clock.fullmatch(text)) == read, text


@pytest.mark.parametrize(
    "body",
    [
        {"daily_quota": "7"},
        {"online_booking": "yes"},
        {"daily_quota": 7.5},
        {"service_hours": {"mon": "08-15"}},
    ],
)
def test_wrong_json_types_are_400(client, token, body):
    response = client.put(SETTINGS, headers=token(), json=body)
    assert response.status_code == 400 and error_code(response) == "bad_request"


def test_hours_may_end_at_midnight(client, token):
    response = client.put(SETTINGS, headers=token(), json={"service_hours": {"sat": [["20:00", "24:00"]]}})
    assert response.status_code == 200
    settings = schedules.BranchSettings(**response.get_json())
    assert schedules.slots_of_day(settings, dt.date(2026, 11, 28))[-1].start == dt.time(23, 30)


def test_unknown_branch_is_404(client, token):
    response = client.get("/api/v1/admin/branches/atlantis/settings", headers=token())
    assert response.status_code == 404


def test_lowering_the_quota_below_what_is_booked_keeps_every_booking(client, token, book, redis):
    made = [book(slot=slot) for slot in ("09:00", "09:30", "10:00")]
    response = client.put(SETTINGS, headers=token(), json={"daily_quota": 1})
    assert response.status_code == 200

    listed = client.get(
        "/api/v1/admin/branches/jakarta-salemba/bookings?date=2026-11-24", headers=token()
    ).get_json()["bookings"]
    assert [b["code"] for b in listed] == [b["code"] for b in made]
    assert {b["status"] for b in listed} == {"booked"}
    day = client.get("/api/v1/branches/jakarta-salemba/availability?date=2026-11-24").get_json()
    assert day["remaining"] == 0


def test_bookings_are_listed_with_nik_and_phone_masked(client, token, book, booking_body):
    body = booking_body()
    book(nik=body["nik"])
    [listed] = client.get(
        "/api/v1/admin/branches/jakarta-salemba/bookings?date=2026-11-24", headers=token()
    ).get_json()["bookings"]
    assert listed["nik"] == body["nik"][:4] + "********" + body["nik"][-4:]
    assert listed["phone"] == "+62812****7890"
    assert body["nik"] not in json.dumps(listed)


def test_a_closed_day_keeps_its_bookings_and_takes_no_more(client, token, book, booking_body):
    kept = book()
    response = client.put(TUESDAY, headers=token(), json={"closed": True, "note": "Renovasi"})
    assert response.get_json() == {"closed": True, "daily_quota": None, "note": "Renovasi"}

    refused = client.post("/api/v1/bookings", json=booking_body())
    assert error_code(refused) == "not_bookable"
    listed = client.get(
        "/api/v1/admin/branches/jakarta-salemba/bookings?date=2026-11-24", headers=token()
    ).get_json()["bookings"]
    assert [(b["code"], b["status"]) for b in listed] == [(kept["code"], "booked")]

    assert client.delete(TUESDAY, headers=token()).status_code == 204
    assert client.post("/api/v1/bookings", json=booking_body()).status_code == 201


def test_a_date_quota_override(client, token, book, booking_body):
    client.put(TUESDAY, headers=token(), json={"daily_quota": 1})
    book()
    assert error_code(client.post("/api/v1/bookings", json=booking_body())) == "day_full"


@pytest.mark.parametrize("body", [{"daily_quota": -3}, {"closed": "yes"}, {"extra": 1}])
def test_bad_date_overrides_are_refused(client, token, body):
    response = client.put(TUESDAY, headers=token(), json=body)
    assert response.status_code in (400, 422)


def test_every_change_is_audited_with_before_and_after(app, client, token, redis):
    headers = token(BRANCH_ADMIN, "jakarta-salemba")
    client.put(
        SETTINGS, headers=headers, json={"daily_quota": 11}, environ_base={"REMOTE_ADDR": "10.20.30.40"}
    )
    client.put(SETTINGS, headers=headers, json={"daily_quota": 11})  # no change, no entry
    client.put(TUESDAY, headers=headers, json={"closed": True, "note": "Libur"})
    client.delete(TUESDAY, headers=headers)

    entries = audit.read(redis, "jakarta-salemba")
    assert [e.action for e in entries] == ["date_cleared", "date", "settings"]
    settings_entry = entries[-1]
    assert (settings_entry.actor, settings_entry.role, settings_entry.address) == (
        "user0",
        BRANCH_ADMIN,
        "10.20.30.40",
    )
    assert json.loads(settings_entry.before)["daily_quota"] == 160  # the demo's
    assert json.loads(settings_entry.after)["daily_quota"] == 11
    assert json.loads(entries[1].after) == {"closed": True, "daily_quota": None, "note": "Libur"}
    assert audit.to_csv(entries).splitlines()[0] == "id,at,actor,role,address,action,target,before,after"


def test_a_lowered_quota_racing_bookings_is_never_exceeded(app, client, token, booking_body, redis):
    headers = token()
    bodies = [booking_body() for _ in range(40)]
    results = []

    def book_one(body):
        results.append(app.test_client().post("/api/v1/bookings", json=body).status_code)

    threads = [threading.Thread(target=book_one, args=(body,)) for body in bodies]
    for thread in threads[:20]:
        thread.start()
    assert client.put(SETTINGS, headers=headers, json={"daily_quota": 5}).status_code == 200
    booked_at_ack = int(redis.hget("antrian:{b:jakarta-salemba}:day:2026-11-24", "total") or 0)
    for thread in threads[20:]:
        thread.start()
    for thread in threads:
        thread.join()

    total = int(redis.hget("antrian:{b:jakarta-salemba}:day:2026-11-24", "total"))
    assert total == max(5, booked_at_ack)  # nothing past the new quota once acknowledged
    assert results.count(201) == total


def test_the_openapi_document_describes_the_admin_api(client):
    document = client.get("/api/v1/openapi.json").get_json()
    settings = document["paths"]["/api/v1/admin/branches/{branch_id}/settings"]
    assert settings["put"]["security"] == [{"adminToken": []}]
    assert {"200", "400", "401", "403", "404", "415", "422", "503"} <= set(settings["put"]["responses"])
    assert "daily_quota" in document["components"]["schemas"]["BranchSettings"]["properties"]


def test_bookings_export_as_csv_masked_unless_full_which_is_audited(client, token, book, booking_body, redis):
    body = booking_body()
    book(nik=body["nik"])
    url = "/api/v1/admin/branches/jakarta-salemba/bookings?date=2026-11-24&format=csv"
    masked = client.get(url, headers=token())
    assert masked.mimetype == "text/csv"
    assert "attachment" in masked.headers["Content-Disposition"]
    header, row = masked.text.splitlines()
    assert header.startswith("code,queue_number,status")
    assert body["nik"] not in row and "+6281234567890" not in row
    assert audit.read(redis, "jakarta-salemba") == []

    siti = token(BRANCH_ADMIN, "jakarta-salemba")
    for without in ("&full=1", "&full=1&reason=%20"):
        refused = client.get(url + without, headers=siti)
        assert refused.status_code == 422 and set(refused.get_json()["error"]["fields"]) == {"reason"}
    assert audit.read(redis, "jakarta-salemba") == []
    full = client.get(url + "&full=1&reason=Verifikasi+klaim+JHT", headers=siti)
    assert body["nik"] in full.text and "+6281234567890" in full.text
    [entry] = audit.read(redis, "jakarta-salemba")
    assert (entry.action, entry.target) == ("bookings_exported_full", "jakarta-salemba/2026-11-24")
    assert json.loads(entry.after) == {"bookings": 1, "reason": "Verifikasi klaim JHT"}


def test_the_audit_log_is_read_filtered_and_exported(client, token, redis):
    siti = token(BRANCH_ADMIN, "jakarta-salemba")
    national = token()
    client.put(SETTINGS, headers=siti, json={"daily_quota": 12})
    client.put(TUESDAY, headers=national, json={"closed": True})

    everything = client.get("/api/v1/admin/branches/jakarta-salemba/audit", headers=siti)
    assert [e["action"] for e in everything.get_json()["entries"]] == ["date", "settings"]
    mine = client.get("/api/v1/admin/branches/jakarta-salemba/audit?actor=user0", headers=siti)
    assert [e["action"] for e in mine.get_json()["entries"]] == ["settings"]
    exported = client.get("/api/v1/admin/branches/jakarta-salemba/audit?format=csv", headers=siti)
    assert len(exported.text.splitlines()) == 3
    assert client.get("/api/v1/admin/branches/bekasi/audit", headers=siti).status_code == 403
    assert client.get("/api/v1/admin/audit", headers=siti).status_code == 403
    assert client.get("/api/v1/admin/audit", headers=national).status_code == 200


@pytest.mark.parametrize(
    ("start", "days", "status"), [("9999-12-30", 5, 422), ("9999-12-31", 2, 422), ("9999-12-30", 2, 200)]
)
def test_a_report_running_past_the_calendars_end_is_refused_not_a_500(client, token, start, days, status):
    response = client.get(
        f"/api/v1/admin/branches/jakarta-salemba/report?start={start}&days={days}", headers=token()
    )
    assert response.status_code == status
    if status == 422:
        assert response.get_json()["error"]["fields"] == {
            "start": ["Laporan tidak bisa melewati tahun 9999."]
        }


def test_the_report_shows_bookings_against_quota(client, token, book):
    book(slot="09:00")
    book(slot="09:00")
    report = client.get("/api/v1/admin/branches/jakarta-salemba/report?days=3", headers=token()).get_json()
    assert [(d["date"], d["booked"], d["quota"]) for d in report["days"]] == [
        ("2026-11-23", 0, 160),
        ("2026-11-24", 2, 160),
        ("2026-11-25", 0, 160),
    ]
    assert report["busiest_slots"] == [{"slot": "09:00", "bookings": 2}]


def test_the_impact_of_a_change_is_shown_before_it_is_made(client, token, book, redis):
    for slot in ("08:00", "09:00", "09:30"):
        book(slot=slot)
    url = "/api/v1/admin/branches/jakarta-salemba/settings/impact"
    # Hours from 09:00 and a quota of 2: one booking outside the hours, one over the quota.
    shorter = {
        "daily_quota": 2,
        "service_hours": {
            **client.get(SETTINGS, headers=token()).get_json()["service_hours"],
            "tue": [["09:00", "12:00"]],
        },
    }

    response = client.post(url, headers=token(), json=shorter)

    assert response.get_json() == {
        "days": [{"date": "2026-11-24", "bookings": 3, "outside_hours": 1, "over_quota": 1}]
    }
    assert client.get(SETTINGS, headers=token()).get_json()["daily_quota"] == 160  # not saved
    assert client.post(url, headers=token(), json={"daily_quota": 10}).get_json() == {"days": []}
    assert client.post(url, headers=token(), json={"slot_capacity": 0}).status_code == 422


def test_national_admins_create_any_account_branch_admins_only_their_staff(client, token):
    national, branch = token(), token(BRANCH_ADMIN, "jakarta-salemba")
    made = client.post(
        "/api/v1/admin/accounts",
        headers=national,
        json={
            "username": "andi",
            "role": "branch_admin",
            "branches": ["bekasi"],
            "password": "kata rahasia panjang",  # not "kata sandi ...": it holds the username
        },
    )
    assert made.status_code == 201
    assert {k: v for k, v in made.get_json().items() if k != "token"} == {
        "username": "andi",
        "role": "branch_admin",
        "branches": ["bekasi"],
        "password": True,
        "disabled": False,
        "must_change_password": False,
        "created_at": "2026-11-23T07:00:00+07:00",
    }
    andi = {"Authorization": f"Bearer {made.get_json()['token']}"}
    assert client.get("/api/v1/admin/branches/bekasi/settings", headers=andi).status_code == 200

    staff = client.post(
        "/api/v1/admin/accounts",
        headers=branch,
        json={"username": "loket1", "role": "counter_staff", "branches": ["jakarta-salemba"]},
    )
    assert staff.status_code == 201
    for body in (
        {"username": "loket2", "role": "counter_staff", "branches": ["bekasi"]},
        {"username": "boss", "role": "national_admin"},
    ):
        assert client.post("/api/v1/admin/accounts", headers=branch, json=body).status_code == 403
    listed = client.get("/api/v1/admin/accounts", headers=branch).get_json()["accounts"]
    assert [a["username"] for a in listed] == ["loket1"]
    staff_token = {"Authorization": f"Bearer {staff.get_json()['token']}"}
    assert client.get("/api/v1/admin/accounts", headers=staff_token).status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "Bad Name", "role": "national_admin"}, "username"),
        ({"username": "user0", "role": "national_admin"}, "username"),  # taken
        ({"username": "x1y", "role": "king"}, "role"),
        ({"username": "x1y", "role": "counter_staff", "branches": []}, "branches"),
        ({"username": "x1y", "role": "branch_admin", "branches": ["atlantis"]}, "branches"),
        ({"username": "x1y", "role": "national_admin", "password": "short"}, "password"),
    ],
)
def test_bad_accounts_are_refused_naming_the_field(client, token, body, field):
    response = client.post("/api/v1/admin/accounts", headers=token(), json=body)
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == [field]


def test_tokens_are_listed_added_and_revoked_at_once(client, token, redis):
    national = token()
    staff = client.post(
        "/api/v1/admin/accounts",
        headers=national,
        json={"username": "loket1", "role": "counter_staff", "branches": ["bekasi"]},
    ).get_json()
    url = "/api/v1/admin/accounts/loket1/tokens"
    extra = client.post(url, headers=national, json={"name": "kiosk pc"}).get_json()["token"]
    listed = client.get(url, headers=national).get_json()["tokens"]
    assert [t["name"] for t in listed] == ["default", "kiosk pc"]
    assert extra not in json.dumps(listed) and staff["token"] not in json.dumps(listed)

    revoked = next(t["id"] for t in listed if t["name"] == "kiosk pc")
    assert client.delete(f"{url}/{revoked}", headers=national).status_code == 204
    assert client.get(url, headers={"Authorization": f"Bearer {extra}"}).status_code == 401
    assert client.get(url, headers={"Authorization": f"Bearer {staff['token']}"}).status_code == 200
    assert client.delete(f"{url}/{revoked}", headers=national).status_code == 404
    assert [e.action for e in audit.read(redis)] == ["token_revoked", "token_created", "account_created"]


def test_counter_staff_cannot_mint_tokens_and_admins_can_for_themselves_and_their_staff(client, token, redis):
    """A token a clerk minted for themself outlived the revocation of the one an admin gave
    them (issue 22): only admins create tokens."""
    national = token()
    staff = client.post(
        "/api/v1/admin/accounts",
        headers=national,
        json={"username": "loket2", "role": "counter_staff", "branches": ["bekasi"]},
    ).get_json()
    own = {"Authorization": f"Bearer {staff['token']}"}

    minted = client.post("/api/v1/admin/accounts/loket2/tokens", headers=own, json={"name": "default"})

    assert minted.status_code == 403
    assert minted.get_json()["error"]["code"] == "forbidden"
    assert [
        t["name"]
        for t in client.get("/api/v1/admin/accounts/loket2/tokens", headers=own).get_json()["tokens"]
    ] == ["default"]
    # Admins mint: a branch admin for its staff and for itself, a national admin for itself.
    branch_admin = token("branch_admin", "bekasi")  # user1 (the national admin is user0)
    for headers, username in ((branch_admin, "loket2"), (branch_admin, "user1"), (national, "user0")):
        minted = client.post(
            f"/api/v1/admin/accounts/{username}/tokens", headers=headers, json={"name": "pc"}
        )
        assert minted.status_code == 201, (username, minted.get_json())
    assert [e.action for e in audit.read(redis)].count("token_created") == 3


def test_every_api_route_is_in_the_openapi_document(app, client):
    documented = client.get("/api/v1/openapi.json").get_json()["paths"]
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule == "/api/v1/openapi.json":
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        assert path in documented, path
        assert {m.lower() for m in rule.methods - {"HEAD", "OPTIONS"}} <= set(documented[path])
