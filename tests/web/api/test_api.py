"""The public JSON API against SPEC §3: shapes, codes, and no 500 for any input."""

import datetime as dt
import json

import pytest

from queue_service import create_app
from queue_service.domain import schedules
from tests.factories import JAKARTA, make_nik
from tests.redis_server import free_port


def error_code(response):
    assert response.is_json, response.data
    return response.json["error"]["code"]


def test_areas_list_branches(client):
    areas = client.get("/api/v1/areas").json["areas"]
    assert len(areas) >= 10
    branch_ids = {b["id"] for area in areas for b in area["branches"]}
    assert len(branch_ids) >= 30
    assert set(areas[0]) == {"id", "name", "branches"}
    assert set(areas[0]["branches"][0]) == {"id", "name"}


def test_services_have_prefixes(client):
    services = client.get("/api/v1/services").json["services"]
    assert {"id": "jht", "name": "Klaim Jaminan Hari Tua (JHT)", "prefix": "A"} in services
    assert len({s["prefix"] for s in services}) == len(services)


def test_demo_catalog_covers_three_time_zones_and_offline_branches(client):
    branch_ids = [b["id"] for a in client.get("/api/v1/areas").json["areas"] for b in a["branches"]]
    branches = [client.get(f"/api/v1/branches/{b}").json for b in branch_ids]
    assert {b["timezone"] for b in branches} == {"Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"}
    assert any(not b["online_booking"] for b in branches)


def test_branch_shape(client):
    branch = client.get("/api/v1/branches/jayapura").json
    assert set(branch) == {"id", "name", "area_id", "address", "timezone", "online_booking", "services"}
    assert branch["timezone"] == "Asia/Jayapura"
    assert {"id": "jht", "name": "Klaim Jaminan Hari Tua (JHT)"} in branch["services"]


def test_unknown_branch_is_a_json_404(client):
    response = client.get("/api/v1/branches/atlantis")
    assert response.status_code == 404 and error_code(response) == "not_found"


def test_availability_shape_and_counts(client, booking_body):
    client.post("/api/v1/bookings", json=booking_body())
    response = client.get("/api/v1/branches/jakarta-salemba/availability?date=2026-11-24&service=jht")
    body = response.json
    assert set(body) >= {"branch_id", "date", "open", "reason", "daily_quota", "remaining", "slots"}
    assert body["open"] is True and body["reason"] is None
    assert body["remaining"] == body["daily_quota"] - 1
    nine = next(s for s in body["slots"] if s["start"] == "09:00")
    assert nine == {
        "start": "09:00",
        "end": "09:30",
        "capacity": nine["capacity"],
        "remaining": nine["capacity"] - 1,
    }


def test_availability_lists_closed_slots_with_nothing_left(client, clock):
    clock.set(dt.datetime(2026, 11, 24, 9, 10, tzinfo=JAKARTA))
    slots = client.get("/api/v1/branches/jakarta-salemba/availability?date=2026-11-24").json["slots"]
    by_start = {s["start"]: s["remaining"] for s in slots}
    assert by_start["08:00"] == by_start["10:00"] == 0  # started; within the 60-minute cutoff
    assert by_start["10:30"] > 0


def test_availability_of_a_holiday_is_closed(client, clock, tune_branch):
    tune_branch("jakarta-salemba", booking_window_days=60)
    body = client.get("/api/v1/branches/jakarta-salemba/availability?date=2026-12-25").json
    assert (body["open"], body["reason"], body["slots"]) == (False, "holiday", [])


@pytest.mark.parametrize(
    "query",
    ["", "?date=tomorrow", "?date=2026-02-30", "?date=2026-11-24&service=NOPE!", "?date=2026-11-24&x=1"],
)
def test_availability_query_errors_name_the_parameter(client, query):
    response = client.get(f"/api/v1/branches/jakarta-salemba/availability{query}")
    assert response.status_code == 422 and error_code(response) == "validation_failed"
    assert response.json["error"]["fields"]


def test_availability_of_a_service_the_branch_lacks(client):
    response = client.get("/api/v1/branches/cilegon/availability?date=2026-11-24&service=card")
    assert response.status_code == 422
    assert list(response.json["error"]["fields"]) == ["service"]


def test_booking_created(client, booking_body):
    response = client.post("/api/v1/bookings", json=booking_body(phone="0812 3456 7890"))
    assert response.status_code == 201
    body = response.json
    assert set(body) == {
        "code",
        "queue_number",
        "status",
        "branch_id",
        "service_id",
        "date",
        "slot",
        "channel",
        "qr",
    }
    assert body["channel"] == "sms"
    assert body["qr"] == {
        "svg": f"/api/v1/bookings/{body['code']}/qr.svg",
        "png": f"/api/v1/bookings/{body['code']}/qr.png",
    }
    assert body["queue_number"] == "A-001" and body["status"] == "booked"
    assert body["slot"] == {"start": "09:00", "end": "09:30"}
    assert body["date"] == "2026-11-24"


def test_lookup_and_cancel(client, booking_body):
    body = booking_body()
    code = client.post("/api/v1/bookings", json=body).json["code"]
    found = client.post("/api/v1/bookings/lookup", json={"code": code.lower(), "nik": body["nik"]})
    assert found.status_code == 200 and found.json["code"] == code
    cancelled = client.post(f"/api/v1/bookings/{code}/cancel", json={"nik": body["nik"]})
    assert cancelled.json == {"code": code, "status": "cancelled"}
    again = client.post(f"/api/v1/bookings/{code}/cancel", json={"nik": body["nik"]})
    assert again.status_code == 409 and error_code(again) == "cancelled"
    assert (
        client.post("/api/v1/bookings/lookup", json={"code": code, "nik": body["nik"]}).json["status"]
        == "cancelled"
    )


def test_wrong_nik_is_refused_exactly_like_an_unknown_code(client, booking_body):
    body = booking_body()
    code = client.post("/api/v1/bookings", json=body).json["code"]
    wrong_pair = client.post("/api/v1/bookings/lookup", json={"code": code, "nik": make_nik()})
    unknown = client.post("/api/v1/bookings/lookup", json={"code": "ZZZZZZZZZZ", "nik": body["nik"]})
    assert wrong_pair.status_code == unknown.status_code == 404
    assert wrong_pair.data == unknown.data
    assert wrong_pair.headers["X-Request-ID"] != unknown.headers["X-Request-ID"]
    cancel = client.post(f"/api/v1/bookings/{code}/cancel", json={"nik": make_nik()})
    assert cancel.status_code == 404 and cancel.data == unknown.data


@pytest.mark.parametrize(
    ("setup", "overrides", "status", "code"),
    [
        ({"slot_capacity": 0}, {}, 409, "slot_full"),
        ({"daily_quota": 0}, {}, 409, "day_full"),
        ({}, {"date": "2026-11-28"}, 409, "not_bookable"),
        ({}, {"slot": "09:10"}, 409, "not_bookable"),
        ({}, {"branch_id": "atlantis"}, 422, "validation_failed"),
        ({}, {"nik": "1234"}, 422, "validation_failed"),
        ({}, {"nik": 3171011201900001}, 400, "bad_request"),
        ({}, {"captcha_answer": None}, 403, "captcha_failed"),
    ],
)
def test_booking_refusals(client, booking_body, tune_branch, setup, overrides, status, code):
    if setup:
        tune_branch("jakarta-salemba", **setup)
    response = client.post("/api/v1/bookings", json=booking_body(**overrides))
    assert response.status_code == status and error_code(response) == code


def test_already_booked(client, booking_body):
    body = booking_body()
    assert client.post("/api/v1/bookings", json=body).status_code == 201
    again = client.post("/api/v1/bookings", json=booking_body(nik=body["nik"], branch_id="bekasi"))
    assert again.status_code == 409 and error_code(again) == "already_booked"


def test_every_field_failure_is_named(client, booking_body):
    response = client.post(
        "/api/v1/bookings",
        json=booking_body(
            name="R2D2",
            nik="9971011201900001",
            kpj="123",
            phone="0215551234",
            email="nope",
            date="24-11-2026",
            slot="9am",
            surprise=1,
        ),
    )
    assert response.status_code == 422
    fields = response.json["error"]["fields"]
    assert set(fields) == {"name", "nik", "kpj", "phone", "email", "date", "slot", "surprise"}
    assert fields["nik"] == ["Kode provinsi pada NIK (2 digit pertama) tidak dikenal."]


def test_errors_speak_english_on_request(client, booking_body):
    response = client.post(
        "/api/v1/bookings", json=booking_body(kpj="1"), headers={"Accept-Language": "en-US,en;q=0.9"}
    )
    assert response.json["error"]["fields"] == {"kpj": ["KPJ must be 11 digits."]}
    assert response.json["error"]["message"] == "Some fields are not valid."


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"[]",
        b"null",
        b"42",
        b'"text"',
        b"{",
        b'{"nik": {"$gt": ""}}',
        b"\xff\xfe",
        b'{"a": 1e999}',
    ],
)
@pytest.mark.parametrize(
    "path", ["/api/v1/bookings", "/api/v1/bookings/lookup", "/api/v1/bookings/ABCDEFGHJK/cancel"]
)
def test_malformed_bodies_are_json_errors_never_500(client, raw, path):
    response = client.post(path, data=raw, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert response.is_json and error_code(response) in {
        "bad_request",
        "validation_failed",
        "captcha_failed",
        "not_found",
    }


def test_wrong_types_in_lookup_are_a_400_naming_the_field(client):
    response = client.post("/api/v1/bookings/lookup", json={"code": ["A"], "nik": 1})
    assert response.status_code == 400
    assert set(response.json["error"]["fields"]) == {"code", "nik"}


def test_oversized_bodies_are_refused(client):
    response = client.post(
        "/api/v1/bookings", data=b"{" + b" " * 100_000 + b"}", content_type="application/json"
    )
    assert response.status_code == 400 and error_code(response) == "bad_request"


def test_unknown_routes_and_methods_are_json(client):
    missing = client.get("/api/v1/no/such/thing")
    assert missing.status_code == 404 and error_code(missing) == "not_found"
    wrong_method = client.delete("/api/v1/areas")
    assert wrong_method.status_code == 405 and error_code(wrong_method) == "method_not_allowed"
    assert "GET" in wrong_method.headers["Allow"]


def test_health_and_readiness(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"] == {"data_store": "ok", "job_queue": "ok"}


def test_a_store_outage_is_a_503_not_a_500(settings, clock):
    closed = f"redis://127.0.0.1:{free_port()}/0"
    app = create_app({**settings, "REDIS_URL": closed, "REDIS_SOCKET_TIMEOUT": 1}, clock=clock)
    client = app.test_client()
    for response in (
        client.get("/api/v1/areas"),
        client.get("/readyz"),
        client.get("/api/v1/branches/jakarta-salemba/availability?date=2026-11-24"),
    ):
        assert response.status_code == 503 and error_code(response) == "unavailable"
    assert client.get("/readyz").headers["X-Unready"] == "data_store,job_queue"  # the same Redis
    assert client.get("/healthz").status_code == 200


def test_readyz_names_the_store_that_does_not_answer(settings, clock):
    closed = f"redis://127.0.0.1:{free_port()}/0"
    app = create_app({**settings, "QUEUE_REDIS_URL": closed, "REDIS_SOCKET_TIMEOUT": 1}, clock=clock)
    unready = app.test_client().get("/readyz")
    assert unready.status_code == 503 and error_code(unready) == "unavailable"
    assert unready.headers["X-Unready"] == "job_queue"


def test_an_unexpected_error_is_json_internal_error(app, client, monkeypatch):
    def explode(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(schedules, "load_settings", explode)
    response = client.get("/api/v1/branches/jakarta-salemba")
    assert response.status_code == 500 and error_code(response) == "internal_error"
    assert b"boom" not in response.data and b"Traceback" not in response.data


def test_openapi_document_describes_the_booking_schema(client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    booking_request = document["components"]["schemas"]["BookingRequest"]
    assert {"nik", "kpj", "phone", "captcha_id", "captcha_answer"} <= set(booking_request["required"])
    post = document["paths"]["/api/v1/bookings"]["post"]
    assert set(post["responses"]) >= {"201", "403", "409", "422"}
    query = document["paths"]["/api/v1/branches/{branch_id}/availability"]["get"]["parameters"]
    assert {p["name"] for p in query} == {"branch_id", "date", "service"}
    assert "201" in document["paths"]["/api/v1/captcha"]["post"]["responses"]
    assert (
        "audio/wav"
        in document["paths"]["/api/v1/captcha/{captcha_id}/audio.wav"]["get"]["responses"]["200"]["content"]
    )


def test_cancel_after_the_slot_started_is_too_late(client, clock, booking_body):
    body = booking_body()
    code = client.post("/api/v1/bookings", json=body).json["code"]
    clock.set(dt.datetime(2026, 11, 24, 9, 5, tzinfo=JAKARTA))
    response = client.post(f"/api/v1/bookings/{code}/cancel", json={"nik": body["nik"]})
    assert response.status_code == 409 and error_code(response) == "too_late"


def test_the_root_is_the_home_page_and_points_to_the_api(client):
    response = client.get("/")
    assert response.mimetype == "text/html"
    assert (
        '<link rel="service-desc" type="application/json" href="/api/v1/openapi.json">'
        in response.get_data(as_text=True)
    )
    assert client.get("/api/v1/openapi.json").status_code == 200


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 5000,
        b'{"captcha_id": "x", "captcha_answer": "\\ud800"}',
        b'{"code": "ABCDEFGHJK", "nik": "\\udfff"}',
    ],
)
@pytest.mark.parametrize(
    "path", ["/api/v1/bookings", "/api/v1/bookings/lookup", "/api/v1/bookings/ABCDEFGHJK/cancel"]
)
def test_deep_nesting_and_lone_surrogates_are_bad_requests(client, raw, path):
    response = client.post(path, data=raw, content_type="application/json")
    assert response.status_code == 400 and error_code(response) == "bad_request"


def test_a_store_refusing_writes_is_a_503(app, client, booking_body, monkeypatch):
    import redis.exceptions

    def read_only(*_args, **_kwargs):
        raise redis.exceptions.ReadOnlyError("You can't write against a read only replica.")

    # As just after a Sentinel failover, when the old primary has become a replica.
    # The first write of a booking: the one-step script, or the claim step by step.
    for first_write in ("book", "claim_nik"):
        monkeypatch.setattr(app.extensions["antrian"].reservations.scripts, first_write, read_only)
    response = client.post("/api/v1/bookings", json=booking_body())
    assert response.status_code == 503 and error_code(response) == "unavailable"


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
@pytest.mark.parametrize(
    "path", ["/api/v1/bookings", "/api/v1/bookings/lookup", "/api/v1/bookings/ABCDEFGHJK/cancel"]
)
def test_a_body_not_sent_as_json_is_refused_415(client, booking_body, redis, content_type, path):
    # A page on another site can post these without a CORS preflight.
    raw = json.dumps(booking_body()).encode()
    headers = {"Content-Type": content_type} if content_type else {}

    response = client.post(path, data=raw, headers=headers)

    assert response.status_code == 415 and error_code(response) == "unsupported_media_type"
    assert response.json["error"]["message"].startswith("Kirim isi permintaan sebagai JSON")
    assert redis.keys("antrian:{b:*}:booking:*") == []


def test_json_with_a_charset_is_json(client, booking_body):
    response = client.post(
        "/api/v1/bookings", data=json.dumps(booking_body()), content_type="application/json; charset=utf-8"
    )
    assert response.status_code == 201


def test_the_openapi_document_lists_429_on_limited_reads_and_503_everywhere(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert "503" in operation["responses"], (method, path)
    for read in (
        "/api/v1/areas",
        "/api/v1/services",
        "/api/v1/branches/{branch_id}",
        "/api/v1/branches/{branch_id}/availability",
        "/api/v1/branches/{branch_id}/queue",
        "/api/v1/captcha/{captcha_id}/image.png",
        "/api/v1/captcha/{captcha_id}/audio.wav",
        "/api/v1/bookings/{code}/qr.svg",
        "/api/v1/bookings/{code}/qr.png",
    ):
        assert "429" in paths[read]["get"]["responses"], read


def test_options_answers_json(client):
    response = client.options("/api/v1/areas")
    assert response.status_code == 200 and response.is_json
    assert set(response.get_json()["allow"]) == {"GET", "HEAD", "OPTIONS"}
    assert response.headers["X-Request-ID"]
