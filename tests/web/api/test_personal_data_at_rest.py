"""Personal data at rest (issue 23): after bookings, a hold with its one-time code and their
SMS, no key or value in Redis holds a name, NIK, KPJ, phone or e-mail in clear; everything
that shows them (look-up, check-in, SMS, exports, the console) works as before."""

import datetime as dt

from queue_service.domain.accounts import BRANCH_ADMIN, NATIONAL_ADMIN
from queue_service.domain.reservations import Reservations
from queue_service.domain.reservations.records import CHUNK
from queue_service.store import keys
from tests.factories import JAKARTA, booking_request, make_nik
from tests.redis_scan import every_text, found_in_clear

BRANCH = "jakarta-salemba"
BUDI = {
    "name": "Budi Santoso Wicaksono",
    "kpj": "12345678901",
    "phone": "081234567890",
    "email": "budi@contoh.id",
}
# Booked through the domain: the API takes no e-mail any more, but a record may hold one.
SRI = {
    "name": "Sri Wahyuni",
    "kpj": "10987654321",
    "phone": "+6285711112222",
    "email": "sri.wahyuni@contoh.id",
}


def clear_forms(person: dict, nik: str) -> list[str]:
    """Everything that would give the person away: each field as typed and the phone in the
    forms it is stored or shown in."""
    local = "0" + person["phone"].removeprefix("+62").removeprefix("0")
    return [
        nik,
        person["name"],
        person["kpj"],
        local,
        "+62" + local[1:],
        "62" + local[1:],
        person.get("email", ""),
    ]


def test_nothing_personal_is_in_clear_and_everything_reads_as_before(
    app, client, booking_body, redis, clock, work, sent_sms, settings
):
    budi_nik, sri_nik = make_nik(), make_nik()
    booked = client.post("/api/v1/bookings", json=booking_body(nik=budi_nik, **BUDI)).get_json()
    holding = Reservations(
        redis, nik_secret=settings["SECRET_KEY"].encode(), hold_minutes=10, bookings_per_phone=10
    )
    held = holding.reserve(booking_request(nik=sri_nik, **SRI), clock())
    assert held.status == "pending" and redis.hget(keys.booking(BRANCH, held.code), "otp")
    work()  # the confirmation to Budi, the one-time code to Sri
    secrets = [*clear_forms(BUDI, budi_nik), *clear_forms(SRI, sri_nik)]
    assert found_in_clear(redis, *secrets) == []
    for key in (keys.booking(BRANCH, booked["code"]), keys.booking(BRANCH, held.code)):
        assert redis.object("encoding", key) in ("listpack", "ziplist")  # compact; ziplist before 7.0
        assert all(len(text) <= CHUNK for name, text in every_text(redis) if name == key)

    # The SMS went to the phones in clear, with what they say.
    to = {line["event"]: line["to"] for line in sent_sms()}
    assert to == {"booked": "+6281234567890", "otp": SRI["phone"]}
    # Look-up, as before.
    found = client.post("/api/v1/bookings/lookup", json={"code": booked["code"], "nik": budi_nik}).get_json()
    assert found["code"] == booked["code"] and found["queue_number"] == booked["queue_number"]
    assert holding.lookup(held.code, sri_nik).phone == SRI["phone"]
    # The admin list (masked), the masked and the full export.
    admin = app.extensions["antrian"].accounts
    _account, secret = admin.create("nasional", NATIONAL_ADMIN)
    headers = {"Authorization": f"Bearer {secret}"}
    listed = client.get(
        f"/api/v1/admin/branches/{BRANCH}/bookings?date=2026-11-24", headers=headers
    ).get_json()
    budi_row = next(row for row in listed["bookings"] if row["code"] == booked["code"])
    assert budi_row["name"] == BUDI["name"] and budi_row["nik"] == budi_nik[:4] + "********" + budi_nik[-4:]
    url = f"/api/v1/admin/branches/{BRANCH}/bookings?date=2026-11-24&format=csv"
    masked = client.get(url, headers=headers).text
    assert booked["code"] in masked and budi_nik not in masked
    full = client.get(url + "&full=1&reason=Verifikasi+klaim", headers=headers).text
    assert budi_nik in full and "+6281234567890" in full and SRI["email"] in full
    # The console's list of the day.
    admin.create("siti", BRANCH_ADMIN, (BRANCH,), password="kata sandi panjang")
    page = client.get("/admin/masuk").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    client.post(
        "/admin/masuk", data={"csrf_token": token, "username": "siti", "password": "kata sandi panjang"}
    )
    day = client.get(f"/admin/cabang/{BRANCH}/antrian?tanggal=2026-11-24").get_data(as_text=True)
    assert booked["queue_number"] in day and BUDI["name"] in day and budi_nik not in day
    # Check-in at the kiosk on the day.
    _kiosk, kiosk_token = app.extensions["antrian"].kiosks.create(BRANCH, "Pintu depan", clock())
    clock.set(dt.datetime(2026, 11, 24, 8, 50, tzinfo=JAKARTA))
    checked = client.post(
        "/api/v1/kiosk/checkins",
        json={"code": booked["code"]},
        headers={"Authorization": f"Bearer {kiosk_token}"},
    )
    assert checked.status_code == 200 and checked.get_json()["status"] == "checked_in"
    assert found_in_clear(redis, *secrets) == []


def test_a_booking_stays_under_600_bytes_as_booked(client, booking_body, redis, reservations, clock):
    plain = client.post("/api/v1/bookings", json=booking_body()).get_json()["code"]
    with_email = reservations.reserve(booking_request(email="budi.santoso@example.com"), clock()).code
    sizes = [redis.memory_usage(keys.booking(BRANCH, code), samples=0) for code in (plain, with_email)]
    assert all(size < 600 for size in sizes), sizes


def test_the_address_a_booking_came_from_is_sealed_with_its_person(app, client, booking_body, redis):
    booked = client.post(
        "/api/v1/bookings", json=booking_body(), environ_base={"REMOTE_ADDR": "203.0.113.77"}
    ).get_json()
    record = redis.hgetall(keys.booking(BRANCH, booked["code"]))
    assert "address" not in record
    assert not any("203.0.113.77" in value for value in record.values())
    # The console's hoarding view and the admin's booking read it, opened.
    assert app.extensions["antrian"].reservations.get(BRANCH, booked["code"]).address == "203.0.113.77"
