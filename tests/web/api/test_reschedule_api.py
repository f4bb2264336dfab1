"""POST /api/v1/bookings/<code>/reschedule: beyond SPEC §3, the pages' operation as JSON."""

from tests.factories import make_nik


def move(client, code, **body):
    return client.post(f"/api/v1/bookings/{code}/reschedule", json=body)


def test_a_booking_moves_to_another_date_with_that_days_number(client, book, booking_body):
    nik = make_nik()
    book(nik=make_nik(), date="2026-11-25")
    booking = book(nik=nik)
    response = move(client, booking["code"], nik=nik, date="2026-11-25", slot="10:00")
    assert response.status_code == 200
    assert response.json == {
        **booking,
        "date": "2026-11-25",
        "queue_number": "A-002",
        "slot": {"start": "10:00", "end": "10:30"},
    }
    looked_up = client.post("/api/v1/bookings/lookup", json={"code": booking["code"], "nik": nik})
    assert looked_up.json["date"] == "2026-11-25"


def test_refusals_use_the_apis_codes(client, book):
    nik = make_nik()
    booking = book(nik=nik)
    assert move(client, booking["code"], nik=make_nik(), date="2026-11-25", slot="10:00").status_code == 404
    closed = move(client, booking["code"], nik=nik, date="2026-11-28", slot="09:00")  # a Saturday
    assert closed.status_code == 409 and closed.json["error"]["code"] == "not_bookable"
    bad = move(client, booking["code"], nik=nik, date="25-11-2026", slot="10")
    assert bad.status_code == 422 and set(bad.json["error"]["fields"]) == {"date", "slot"}
    assert client.post(f"/api/v1/bookings/{booking['code']}/reschedule", data="x").status_code == 415


def test_a_move_to_the_place_held_answers_the_booking_unchanged(client, book):
    nik = make_nik()
    booking = book(nik=nik)
    same = move(client, booking["code"], nik=nik, date=booking["date"], slot=booking["slot"]["start"])
    assert same.status_code == 200
    assert {k: same.json[k] for k in ("code", "queue_number", "date", "slot")} == {
        k: booking[k] for k in ("code", "queue_number", "date", "slot")
    }


def test_the_openapi_document_describes_it(client):
    document = client.get("/api/v1/openapi.json").json
    operation = document["paths"]["/api/v1/bookings/{code}/reschedule"]["post"]
    assert set(operation["responses"]) >= {"200", "404", "409", "422"}
    assert "RescheduleRequest" in document["components"]["schemas"]
