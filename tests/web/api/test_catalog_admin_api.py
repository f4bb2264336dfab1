"""The catalog's admin API (SPEC §6 "Catalog and accounts"): a national admin opens a new area
with a WITA branch and a new service where a participant then books; retiring a branch and
dropping a service keep every existing booking working end to end; who may; every refusal."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from queue_service.domain import audit
from queue_service.domain.accounts import BRANCH_ADMIN, COUNTER_STAFF, NATIONAL_ADMIN
from queue_service.web.messages import FIELDS
from tests.factories import make_nik

WITA = ZoneInfo("Asia/Makassar")
TUESDAY = "2026-11-24"
AREA = {"id": "kalimantan-timur", "name": "Kalimantan Timur"}
SERVICE = {
    "id": "pkp",
    "name": "Pengaduan Klaim Perusahaan",
    "prefix": "P",
    "requirements": {
        "documents": ["KTP elektronik (asli)", "Surat kuasa dari perusahaan"],
        "reasons": [{"id": "telat", "name": "Klaim terlambat", "documents": ["Kronologi"], "note": None}],
        "note": "Datang bersama bagian SDM.",
    },
}
BRANCH = {
    "id": "samarinda-seberang",
    "name": "Samarinda Seberang",
    "area_id": "kalimantan-timur",
    "address": "Jl. Bung Tomo No. 1, Samarinda Seberang",
    "timezone": "Asia/Makassar",
    "services": ["pkp", "jht"],
    "retired": False,
}
HOURS = {
    "online_booking": True,
    "service_hours": {day: [["08:00", "12:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
}


def error(response) -> dict:
    return response.get_json()["error"]


def texts(*keys: str) -> list[str]:
    return [FIELDS[key] for key in keys]


@pytest.fixture
def national(token):
    return token(NATIONAL_ADMIN)


@pytest.fixture
def opened(client, national):
    """The new area, service and WITA branch, its hours set through the settings API."""
    assert client.post("/api/v1/admin/areas", json=AREA, headers=national).status_code == 201
    assert client.post("/api/v1/admin/services", json=SERVICE, headers=national).status_code == 201
    assert client.post("/api/v1/admin/branches", json=BRANCH, headers=national).status_code == 201
    settings = f"/api/v1/admin/branches/{BRANCH['id']}/settings"
    assert client.put(settings, json=HOURS, headers=national).status_code == 200
    return BRANCH["id"]


@pytest.fixture
def kiosk(app, clock):
    _kiosk, secret = app.extensions["antrian"].kiosks.create(BRANCH["id"], "Pintu", clock())
    return {"Authorization": f"Bearer {secret}"}


def test_a_new_area_wita_branch_and_service_take_bookings_once_hours_are_set(client, national, book):
    created = client.post("/api/v1/admin/areas", json=AREA, headers=national)
    assert created.status_code == 201 and created.get_json() == AREA
    created = client.post("/api/v1/admin/services", json=SERVICE, headers=national)
    assert created.status_code == 201 and created.get_json() == SERVICE
    created = client.post("/api/v1/admin/branches", json=BRANCH, headers=national)
    assert created.status_code == 201 and created.get_json() == BRANCH

    shown = client.get(f"/api/v1/branches/{BRANCH['id']}").get_json()
    assert shown["timezone"] == "Asia/Makassar" and shown["online_booking"] is False
    assert [s["id"] for s in shown["services"]] == ["jht", "pkp"]
    closed = client.get(f"/api/v1/branches/{BRANCH['id']}/availability?date={TUESDAY}&service=pkp").get_json()
    assert (closed["open"], closed["reason"]) == (False, "online_booking_off")

    settings = f"/api/v1/admin/branches/{BRANCH['id']}/settings"
    assert client.get(settings, headers=national).get_json()["service_hours"]["tue"] == []
    assert client.put(settings, json=HOURS, headers=national).status_code == 200

    day = client.get(f"/api/v1/branches/{BRANCH['id']}/availability?date={TUESDAY}&service=pkp").get_json()
    assert day["open"] is True and day["slots"][0]["start"] == "08:00"
    made = book(branch_id=BRANCH["id"], service_id="pkp", slot="09:00")
    assert made["queue_number"] == "P-001" and made["status"] == "booked"

    areas = client.get("/api/v1/areas").get_json()["areas"]
    assert {
        "id": "kalimantan-timur",
        "name": "Kalimantan Timur",
        "branches": [{"id": BRANCH["id"], "name": BRANCH["name"]}],
    } in areas
    assert {"id": "pkp", "name": SERVICE["name"], "prefix": "P"} in client.get("/api/v1/services").get_json()[
        "services"
    ]


def test_each_change_is_in_the_national_audit_with_before_and_after(client, national, redis, opened):
    renamed = {**BRANCH, "name": "Samarinda Seberang Baru"}
    del renamed["id"]
    assert (
        client.put(f"/api/v1/admin/branches/{BRANCH['id']}", json=renamed, headers=national).status_code
        == 200
    )

    actions = [(entry.action, entry.target) for entry in audit.read(redis)]
    assert actions[:4] == [
        ("branch_changed", BRANCH["id"]),
        ("branch_created", BRANCH["id"]),
        ("service_created", "pkp"),
        ("area_created", "kalimantan-timur"),
    ]
    [changed] = audit.read(redis, action="branch_changed")
    assert changed.changes() == [("name", '"Samarinda Seberang"', '"Samarinda Seberang Baru"')]


@pytest.mark.parametrize("role", [BRANCH_ADMIN, COUNTER_STAFF])
def test_only_national_admins_change_the_catalog(client, token, redis, role):
    headers = token(role, "jakarta-salemba")
    for method, path, body in (
        ("post", "/api/v1/admin/areas", AREA),
        ("put", "/api/v1/admin/areas/banten", {"name": "Banten Raya"}),
        ("post", "/api/v1/admin/services", SERVICE),
        ("put", "/api/v1/admin/services/info", {"name": "Info", "prefix": "H"}),
        ("post", "/api/v1/admin/branches", {**BRANCH, "area_id": "banten"}),
        ("put", "/api/v1/admin/branches/jakarta-salemba", {**BRANCH, "area_id": "dki-jakarta"}),
    ):
        response = getattr(client, method)(path, json=body, headers=headers)
        assert response.status_code == 403 and error(response)["code"] == "forbidden", path
    assert client.post("/api/v1/admin/areas", json=AREA).status_code == 401
    assert [e for e in audit.read(redis) if e.action.startswith(("area_", "branch_", "service_"))] == []
    assert client.get("/api/v1/branches/jakarta-salemba").get_json()["area_id"] == "dki-jakarta"


def test_retiring_a_branch_refuses_new_bookings_and_keeps_existing_ones_working(
    client, national, opened, book, kiosk, token, clock
):
    booked = book(branch_id=opened, service_id="pkp", slot="09:00")
    other = book(branch_id=opened, service_id="jht", slot="09:00")
    retired = {**BRANCH, "retired": True}
    assert client.put(f"/api/v1/admin/branches/{opened}", json=retired, headers=national).status_code == 200

    refused = client.post("/api/v1/bookings", json=_body(client, branch_id=opened, service_id="pkp"))
    assert refused.status_code == 409 and error(refused)["code"] == "not_bookable"
    day = client.get(f"/api/v1/branches/{opened}/availability?date={TUESDAY}&service=pkp").get_json()
    assert (day["open"], day["reason"], day["slots"]) == (False, "branch_retired", [])
    assert opened not in str(client.get("/api/v1/areas").get_json())
    shown = client.get(f"/api/v1/branches/{opened}").get_json()
    assert shown["retired"] is True and shown["online_booking"] is False

    _keeps_working(client, booked, other, kiosk, token(COUNTER_STAFF, opened), clock)


def test_dropping_a_service_refuses_its_new_bookings_and_keeps_existing_ones_working(
    client, national, opened, book, kiosk, token, clock
):
    booked = book(branch_id=opened, service_id="pkp", slot="09:00")
    other = book(branch_id=opened, service_id="pkp", slot="09:00")
    dropped = {**BRANCH, "services": ["jht"]}
    assert client.put(f"/api/v1/admin/branches/{opened}", json=dropped, headers=national).status_code == 200

    refused = client.post("/api/v1/bookings", json=_body(client, branch_id=opened, service_id="pkp"))
    assert refused.status_code == 409 and error(refused)["code"] == "not_bookable"
    day = client.get(f"/api/v1/branches/{opened}/availability?date={TUESDAY}&service=pkp").get_json()
    assert (day["open"], day["reason"]) == (False, "service_withdrawn")
    assert [s["id"] for s in client.get(f"/api/v1/branches/{opened}").get_json()["services"]] == ["jht"]
    assert book(branch_id=opened, service_id="jht", slot="09:00")["queue_number"] == "A-001"

    _keeps_working(client, booked, other, kiosk, token(COUNTER_STAFF, opened), clock)


def _body(client, **overrides) -> dict:
    return {
        "date": TUESDAY,
        "slot": "09:00",
        "name": "Siti Aminah",
        "nik": make_nik(),
        "kpj": "12345678901",
        "phone": "081234567890",
        "captcha_id": client.post("/api/v1/captcha").get_json()["captcha_id"],
        "captcha_answer": "12345",
        **overrides,
    }


def _keeps_working(client, booked: dict, other: dict, kiosk: dict, staff: dict, clock) -> None:
    """Look-up, cancellation, kiosk check-in on the day, the counter's call and the queue."""
    found = client.post("/api/v1/bookings/lookup", json={"code": booked["code"], "nik": booked["nik"]})
    assert found.status_code == 200 and found.get_json()["status"] == "booked"
    cancelled = client.post(f"/api/v1/bookings/{other['code']}/cancel", json={"nik": other["nik"]})
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"

    clock.set(dt.datetime(2026, 11, 24, 8, 30, tzinfo=WITA))
    checked = client.post("/api/v1/kiosk/checkins", json={"code": booked["code"]}, headers=kiosk)
    assert checked.status_code == 200 and checked.get_json()["status"] == "checked_in"
    queue = client.get(f"/api/v1/branches/{booked['branch_id']}/queue").get_json()
    assert [w["queue_number"] for w in queue["waiting"]] == [booked["queue_number"]]
    called = client.post("/api/v1/counter/calls", json={"counter": "Loket 1"}, headers=staff)
    assert called.status_code == 200 and called.get_json()["queue_number"] == booked["queue_number"]
    queue = client.get(f"/api/v1/branches/{booked['branch_id']}/queue").get_json()
    assert queue["now_serving"] == [{"counter": "Loket 1", "queue_number": booked["queue_number"]}]
    served = client.post(f"/api/v1/counter/calls/{booked['queue_number']}/served", json={}, headers=staff)
    assert served.status_code == 200 and served.get_json()["status"] == "served"


@pytest.fixture
def book(client, booking_body):
    """Book through the API: the 201 body, with the NIK it was booked with (for its look-up)."""

    def make(**overrides) -> dict:
        body = booking_body(**overrides)
        response = client.post("/api/v1/bookings", json=body)
        assert response.status_code == 201, response.get_json()
        return {**response.get_json(), "nik": body["nik"]}

    return make


def test_an_id_taken_or_changed_and_an_unknown_one_are_refused(client, national, opened):
    taken = client.post("/api/v1/admin/areas", json={"id": "banten", "name": "Banten"}, headers=national)
    assert taken.status_code == 422 and error(taken)["fields"] == {"id": texts("id_taken")}
    moved = client.put("/api/v1/admin/services/pkp", json={**SERVICE, "id": "pkp-2"}, headers=national)
    assert moved.status_code == 422 and error(moved)["fields"] == {"id": texts("id_mismatch")}
    unknown = client.put("/api/v1/admin/areas/atlantis", json={"name": "Atlantis"}, headers=national)
    assert unknown.status_code == 404 and error(unknown)["code"] == "not_found"
    not_a_slug = client.put("/api/v1/admin/areas/Atlantis", json={"name": "Atlantis"}, headers=national)
    assert not_a_slug.status_code == 404


def test_values_are_named_by_field(client, national, opened):
    bad = client.post(
        "/api/v1/admin/branches",
        json={**BRANCH, "id": "Bad Id", "timezone": "Asia/Singapore", "area_id": "atlantis"},
        headers=national,
    )
    assert bad.status_code == 422
    assert error(bad)["fields"] == {
        "id": texts("invalid_slug"),
        "timezone": texts("unknown_timezone"),
    }
    unknown = client.post(
        "/api/v1/admin/branches",
        json={**BRANCH, "id": "samarinda-ilir", "area_id": "atlantis", "services": ["pkp", "nope"]},
        headers=national,
    )
    assert error(unknown)["fields"] == {
        "area_id": texts("unknown_area"),
        "services": texts("unknown_service"),
    }
    prefix = client.post("/api/v1/admin/services", json={**SERVICE, "id": "pkp-2"}, headers=national)
    assert error(prefix)["fields"] == {"prefix": texts("prefix_taken")}
    typed = client.post("/api/v1/admin/branches", json={**BRANCH, "retired": "yes"}, headers=national)
    assert typed.status_code == 400 and error(typed)["fields"] == {"retired": texts("not_boolean")}
    nested = client.post(
        "/api/v1/admin/services",
        json={**SERVICE, "id": "pkp-3", "prefix": "Q", "requirements": {"reasons": [{"id": "x"}]}},
        headers=national,
    )
    assert nested.status_code == 422
    assert error(nested)["fields"] == {"requirements.reasons.0.name": texts("required")}


def test_a_time_zone_or_prefix_under_bookings_from_today_on_is_refused_saying_why(
    client, national, opened, book
):
    book(branch_id=opened, service_id="pkp", slot="09:00")
    moved = client.put(
        f"/api/v1/admin/branches/{opened}", json={**BRANCH, "timezone": "Asia/Jayapura"}, headers=national
    )
    assert moved.status_code == 422 and error(moved)["fields"] == {"timezone": texts("has_bookings")}
    renamed = client.put("/api/v1/admin/services/pkp", json={**SERVICE, "prefix": "Q"}, headers=national)
    assert renamed.status_code == 422 and error(renamed)["fields"] == {"prefix": texts("has_bookings")}
    assert FIELDS["has_bookings"] == "Tidak dapat diubah selama masih ada antrian mulai hari ini."


def test_the_openapi_document_describes_the_six_operations(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path, method, ok in (
        ("/api/v1/admin/areas", "post", "201"),
        ("/api/v1/admin/areas/{area_id}", "put", "200"),
        ("/api/v1/admin/branches", "post", "201"),
        ("/api/v1/admin/branches/{branch_id}", "put", "200"),
        ("/api/v1/admin/services", "post", "201"),
        ("/api/v1/admin/services/{service_id}", "put", "200"),
    ):
        operation = paths[path][method]
        assert ok in operation["responses"] and "403" in operation["responses"]
        assert operation["security"] == [{"adminToken": []}]
        assert "`has_bookings`" in operation["responses"]["422"]["description"]
