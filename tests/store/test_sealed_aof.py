"""The embedded store's data files (AOF and RDB) hold no personal data in clear: it reaches
Redis sealed (issue 23)."""

import pytest
import redis as redis_lib

from queue_service import create_app
from queue_service.domain import demo
from queue_service.store import connect as store
from tests.factories import make_nik

NAME, KPJ, PHONE = "Ratna Kusumawardani", "55566677788", "081355577799"


@pytest.fixture
def var_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("v")  # short: Unix socket paths are limited
    yield path
    store.stop_embedded(path)


def test_the_aof_and_rdb_hold_no_name_nik_kpj_or_phone(var_dir, settings, clock):
    app = create_app({**settings, "REDIS_URL": None, "VAR_DIR": str(var_dir)}, clock=clock)
    redis = redis_lib.Redis.from_url(store.embedded_url(var_dir), decode_responses=True)
    demo.seed(redis)
    client = app.test_client()
    nik = make_nik()
    body = {
        "branch_id": "jakarta-salemba",
        "service_id": "jht",
        "date": "2026-11-24",
        "slot": "09:00",
        "name": NAME,
        "nik": nik,
        "kpj": KPJ,
        "phone": PHONE,
        "captcha_id": app.extensions["antrian"].captcha.create().id,
        "captcha_answer": settings["CAPTCHA_TEST_ANSWER"],
    }
    made = client.post("/api/v1/bookings", json=body)
    assert made.status_code == 201, made.get_json()
    assert (
        client.post("/api/v1/bookings/lookup", json={"code": made.json["code"], "nik": nik}).status_code
        == 200
    )
    redis.save()  # the RDB file too
    files = [path for path in var_dir.rglob("*") if path.is_file() and path.suffix != ".sock"]
    data = b"".join(path.read_bytes() for path in files)
    assert made.json["code"].encode() in data  # the files hold the booking...
    clear = [nik, NAME, KPJ, PHONE, "+62" + PHONE[1:], "62" + PHONE[1:]]
    assert [text for text in clear if text.encode() in data] == []  # ...and nothing of its person
    app.extensions["antrian"].close()
    redis.close()
