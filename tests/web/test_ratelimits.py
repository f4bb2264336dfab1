"""Rate limits: per client address, per NIK and phone, failed look-ups, and store outages."""

from __future__ import annotations

import time

import pytest
import redis as redis_lib
from flask import Flask

from config import load_settings
from queue_service import create_app
from queue_service.store import connect as store
from queue_service.store import keys
from queue_service.web.limits import client_address, rate_limit_storage_uri
from tests.factories import make_nik
from tests.redis_proxy import ReplyDroppingProxy
from tests.redis_server import free_port

# The production defaults (SPEC §2), instead of conftest's unreachable ceilings.
DEFAULT_LIMITS = {
    name: value for name, value in load_settings(environ={}).items() if name.startswith("RATELIMIT_")
}


@pytest.fixture
def settings(settings):
    return {**settings, **DEFAULT_LIMITS}


def assert_rate_limited(response):
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["X-RateLimit-Remaining"] == "0"


def from_address(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def book(client, body, address="10.0.0.1"):
    return client.post("/api/v1/bookings", json=body, **from_address(address))


def test_defaults_are_the_specs():
    assert DEFAULT_LIMITS == {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_CAPTCHA": "20 per minute",
        "RATELIMIT_BOOKING": "10 per minute",
        "RATELIMIT_LOOKUP": "10 per minute",
        "RATELIMIT_READ": "120 per minute",
        "RATELIMIT_PER_PERSON": "5 per hour",
        "RATELIMIT_FAILED_LOOKUP": "20 per hour",
    }


def test_unparsable_limit_is_refused_at_start():
    with pytest.raises(ValueError, match="RATELIMIT_BOOKING"):
        load_settings(environ={"RATELIMIT_BOOKING": "ten a minute"})


def test_captcha_creation_limited_per_address(client):
    for _ in range(20):
        response = client.post("/api/v1/captcha", **from_address("10.0.0.1"))
        assert response.status_code == 201
    # The figures are on refusals only: on every answer they cost two reads of the store.
    assert "X-RateLimit-Limit" not in response.headers and "Retry-After" not in response.headers

    assert_rate_limited(client.post("/api/v1/captcha", **from_address("10.0.0.1")))
    assert client.post("/api/v1/captcha", **from_address("10.0.0.2")).status_code == 201


def test_rate_limited_body_is_the_json_error(client):
    for _ in range(20):
        client.post("/api/v1/captcha")

    response = client.post("/api/v1/captcha", headers={"Accept-Language": "en"})

    assert response.mimetype == "application/json"
    assert response.get_json() == {
        "error": {"code": "rate_limited", "message": "Too many requests. Try again later."}
    }
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_booking_attempts_limited_per_address(client, booking_body):
    for _ in range(10):
        assert book(client, booking_body(captcha_answer="0")).status_code == 403

    response = book(client, booking_body())
    assert_rate_limited(response)
    assert book(client, booking_body(), address="10.0.0.2").status_code == 201


def test_rate_limited_booking_leaves_the_challenge_unused(client, booking_body):
    for _ in range(10):
        book(client, booking_body(captcha_answer="0"))
    body = booking_body()

    assert_rate_limited(book(client, body))
    # The refused request was never read: the challenge is still good elsewhere.
    assert book(client, body, address="10.0.0.2").status_code == 201


def test_per_nik_limit_holds_for_one_address_behind_a_proxy(make_app, booking_body):
    client = make_app(TRUSTED_PROXY_COUNT=1).test_client()
    nik = make_nik()

    statuses = []
    for attempt in range(5):
        body = booking_body(nik=nik, phone=f"08123456{attempt:04d}")
        statuses.append(
            client.post("/api/v1/bookings", json=body, headers={"X-Forwarded-For": "203.0.113.7"}).status_code
        )
    sixth = client.post(
        "/api/v1/bookings",
        json=booking_body(nik=nik, phone="081234569999"),
        headers={"X-Forwarded-For": "203.0.113.7"},
    )

    assert statuses == [201, 409, 409, 409, 409]
    assert_rate_limited(sixth)
    assert int(sixth.headers["Retry-After"]) > 60  # the hour's window, not a minute's
    assert sixth.headers["X-RateLimit-Limit"] == "5"


def test_every_part_of_a_per_person_limit_holds(make_app, booking_body):
    client = make_app(RATELIMIT_PER_PERSON="100 per hour;2 per day").test_client()
    nik = make_nik()

    statuses = [book(client, booking_body(nik=nik, slot=slot)).status_code for slot in ("09:00", "09:30")]
    third = book(client, booking_body(nik=nik, slot="10:00"))

    assert statuses == [201, 409]
    assert_rate_limited(third)
    assert int(third.headers["Retry-After"]) > 3600  # the day's window, not the hour's
    assert third.headers["X-RateLimit-Limit"] == "2"


def test_a_stranger_with_someones_nik_cannot_lock_them_out(client, booking_body):
    # Five solved captchas with the victim's NIK, each refused for another
    # reason, used to spend the NIK's hourly allowance everywhere.
    victim = make_nik()
    for attempt in range(5):
        refused = book(client, booking_body(nik=victim, slot="07:00"), address="198.51.100.66")
        assert refused.status_code == 409, attempt
    assert_rate_limited(book(client, booking_body(nik=victim), address="198.51.100.66"))

    own = book(client, booking_body(nik=victim), address="10.9.0.1")

    assert own.status_code == 201


def test_per_phone_limit_holds_for_one_address(client, booking_body):
    for slot in ("09:00", "09:30", "10:00", "10:30", "11:00"):
        body = booking_body(phone="081298765432", slot=slot)
        assert book(client, body, address="10.1.0.1").status_code == 201

    assert_rate_limited(book(client, booking_body(phone="0812-9876-5432"), address="10.1.0.1"))
    assert book(client, booking_body(), address="10.1.0.1").status_code == 201
    assert book(client, booking_body(phone="081298765432"), address="10.2.0.2").status_code == 201


def test_failed_captchas_do_not_spend_a_persons_allowance(client, booking_body):
    nik = make_nik()
    for attempt in range(8):
        response = book(client, booking_body(nik=nik, captcha_answer="0"), address=f"10.3.0.{attempt}")
        assert response.status_code == 403

    assert book(client, booking_body(nik=nik), address="10.3.1.1").status_code == 201


def test_limit_counters_hold_no_personal_data(client, redis, booking_body):
    body = booking_body()
    book(client, body)

    names = " ".join(redis.keys("LIMITS:*"))
    assert "LIMITER/antrian/" in names
    assert body["nik"] not in names
    assert "1234567890" not in names


def test_lookups_and_cancels_share_a_limit(client):
    for attempt in range(10):
        if attempt % 2:
            response = client.post("/api/v1/bookings/lookup", json={"code": "x", "nik": "y"})
        else:
            response = client.post("/api/v1/bookings/ABCDEFGHJK/cancel", json={"nik": "x"})
        assert response.status_code == 404

    assert_rate_limited(client.post("/api/v1/bookings/lookup", json={"code": "x", "nik": "y"}))


def test_failed_lookups_throttle_the_address(make_app, booking_body):
    client = make_app(RATELIMIT_FAILED_LOOKUP="3 per hour").test_client()
    body = booking_body()
    code = client.post("/api/v1/bookings", json=body).get_json()["code"]
    mine = {"code": code, "nik": body["nik"]}

    for _ in range(5):  # successes are not counted
        assert client.post("/api/v1/bookings/lookup", json=mine).status_code == 200
    for guess in ("0000000000", "0000000001", "0000000002"):
        response = client.post("/api/v1/bookings/lookup", json={"code": guess, "nik": body["nik"]})
        assert response.status_code == 404

    assert_rate_limited(client.post("/api/v1/bookings/lookup", json=mine))
    assert client.post("/api/v1/bookings/lookup", json=mine, **from_address("10.9.9.9")).status_code == 200


def test_reads_share_a_limit(make_app):
    client = make_app(RATELIMIT_READ="4 per minute").test_client()
    captcha = client.post("/api/v1/captcha").get_json()

    for url in (
        "/api/v1/areas",
        "/api/v1/services",
        "/api/v1/branches/jakarta-salemba",
        captcha["image_url"],
    ):
        assert client.get(url).status_code == 200

    assert_rate_limited(client.get(captcha["audio_url"]))
    assert client.get("/healthz").status_code == 200


def test_limits_can_be_turned_off(make_app):
    client = make_app(RATELIMIT_ENABLED=False).test_client()

    for _ in range(25):
        response = client.post("/api/v1/captcha")
        assert response.status_code == 201
    assert "X-RateLimit-Limit" not in response.headers


def test_ipv6_clients_are_counted_per_64():
    app = Flask(__name__)

    def address_of(remote: str) -> str:
        with app.test_request_context(environ_base={"REMOTE_ADDR": remote}):
            return client_address()

    assert address_of("2001:db8:1:2:aaaa::1") == address_of("2001:db8:1:2:bbbb::9")
    assert address_of("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert address_of("2001:db8:1:3::1") != address_of("2001:db8:1:2::1")
    assert address_of("::ffff:192.0.2.7") == "192.0.2.7"
    assert address_of("192.0.2.7") == "192.0.2.7"


def test_storage_uri_follows_the_data_store():
    assert rate_limit_storage_uri("redis://h:6379/0") == "redis://h:6379/0"
    assert rate_limit_storage_uri("rediss://:pw@h:6380/1") == "rediss://:pw@h:6380/1"
    assert rate_limit_storage_uri("unix:///srv/var/redis.sock") == "redis+unix:///srv/var/redis.sock"
    assert rate_limit_storage_uri("redis://node1:7000", cluster=True) == "redis+cluster://node1:7000"


def test_limits_work_on_the_embedded_unix_socket_store(settings, tmp_path_factory):
    var = tmp_path_factory.mktemp("emb")
    app = create_app(
        {**settings, "REDIS_URL": None, "VAR_DIR": str(var), "RATELIMIT_CAPTCHA": "2 per minute"}
    )
    try:
        assert app.config["RATELIMIT_STORAGE_URI"].startswith("redis+unix://")
        client = app.test_client()
        assert client.post("/api/v1/captcha").status_code == 201
        assert client.post("/api/v1/captcha").status_code == 201
        assert_rate_limited(client.post("/api/v1/captcha"))
    finally:
        store.stop_embedded(var)


@pytest.fixture
def closed_port_url():
    return f"redis://127.0.0.1:{free_port()}/0"


@pytest.mark.parametrize(
    "method, url",
    [
        ("post", "/api/v1/bookings"),
        ("post", "/api/v1/captcha"),
        ("post", "/api/v1/bookings/lookup"),
        ("get", "/api/v1/areas"),
        ("get", "/api/v1/captcha/AAAAAAAAAAAAAAAAAAAAAA/image.png"),
    ],
)
def test_store_outage_is_503_not_500(settings, closed_port_url, booking_body, method, url):
    client = create_app({**settings, "REDIS_URL": closed_port_url}).test_client()

    body = booking_body(captcha_id="AAAAAAAAAAAAAAAAAAAAAA")
    started = time.monotonic()
    response = getattr(client, method)(url, json=body)

    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "unavailable"
    assert time.monotonic() - started < 3  # refused at once, not after retries or a timeout


def test_booking_fails_closed_when_only_the_limiter_store_is_down(settings, closed_port_url, booking_body):
    app = create_app({**settings, "RATELIMIT_STORAGE_URI": closed_port_url})
    body = booking_body()

    response = app.test_client().post("/api/v1/bookings", json=body)

    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "unavailable"


def test_store_error_after_the_view_is_503(app):
    # e.g. the limiter's headers, computed after the view, when the store drops mid-request
    @app.after_request
    def _drop(response):
        raise redis_lib.ConnectionError("gone")

    response = app.test_client().get("/healthz")

    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "unavailable"


def test_a_committed_booking_answers_201_when_the_store_dies_right_after(
    make_app, redis_server, booking_body, redis
):
    # The limiter once read the store again after the commit, for its headers, and the
    # failure became the response: ten bookings saved, their callers told 503.
    limiter_store = ReplyDroppingProxy(redis_server.port)
    app = make_app(RATELIMIT_STORAGE_URI=limiter_store.url)
    reservations = app.extensions["antrian"].reservations
    notify = reservations._on_event

    def store_dies_after_commit(event, booking):
        limiter_store.close()
        notify(event, booking)

    reservations._on_event = store_dies_after_commit
    response = app.test_client().post("/api/v1/bookings", json=booking_body())

    assert response.status_code == 201, response.get_json()
    code = response.get_json()["code"]
    assert redis.hget(keys.booking("jakarta-salemba", code), "status") == "booked"
    assert "X-RateLimit-Limit" not in response.headers  # left out, not made up


def test_default_limits_keep_flask_limiters_own_check(redis_server):
    # CommitSafeLimiter drops flask-limiter's before-request check only while no limit needs it.
    from flask import Flask

    from queue_service.web.limits import CommitSafeLimiter

    app = Flask(__name__)
    app.config["RATELIMIT_STORAGE_URI"] = redis_server.url
    limiter = CommitSafeLimiter(
        lambda: "one", default_limits=["2 per minute"], key_prefix=f"default-{make_nik()}"
    )
    limiter.init_app(app)
    app.add_url_rule("/", "index", lambda: "ok")
    client = app.test_client()

    assert [client.get("/").status_code for _ in range(3)] == [200, 200, 429]


@pytest.fixture
def round_trips(monkeypatch):
    """How many times redis-py sends to a server (each command or pipeline is one round trip),
    counted while ``round_trips.counting``."""
    from redis.connection import AbstractConnection

    class Counter:
        counting = False
        sent = 0

    counter = Counter()
    send = AbstractConnection.send_packed_command

    def counted(self, command, check_health=True):
        if counter.counting:
            counter.sent += 1
        return send(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)
    return counter


def test_the_per_person_count_rides_on_the_bookings_first_round_trip(
    client, booking_body, round_trips, redis
):
    assert book(client, booking_body()).status_code == 201  # scripts loaded, pools filled
    body = booking_body()
    round_trips.counting = True
    response = book(client, body)
    round_trips.counting = False

    assert response.status_code == 201
    # The address's limit, the context with the captcha and the person's count, the booking.
    assert round_trips.sent == 3
    assert len(redis.keys("antrian:{a:*")) == 3  # two NIKs' counters, their one phone's


def test_per_person_limit_holds_with_the_limiter_in_a_store_of_its_own(make_app, redis_server, booking_body):
    app = make_app(RATELIMIT_STORAGE_URI=redis_server.url)
    assert not app.extensions["antrian"].reservations.allowance.rides_on_booking  # counted apart
    client = app.test_client()
    nik = make_nik()
    statuses = [book(client, booking_body(nik=nik, phone=f"08123456{n:04d}")).status_code for n in range(5)]
    sixth = book(client, booking_body(nik=nik, phone="081234569999"))

    assert statuses == [201, 409, 409, 409, 409]
    assert_rate_limited(sixth)


def test_the_per_person_count_survives_a_script_flush(client, booking_body, redis):
    # A restarted Redis knows no scripts: the count's bare EVALSHA is answered NOSCRIPT.
    nik = make_nik()
    assert book(client, booking_body(nik=nik)).status_code == 201
    redis.script_flush()
    statuses = [book(client, booking_body(nik=nik, slot="10:00")).status_code for _ in range(4)]

    assert statuses == [409, 409, 409, 409]
    assert_rate_limited(book(client, booking_body(nik=nik, slot="10:00")))


def test_a_booking_that_starts_over_counts_its_attempt_once(client, app, booking_body, redis, monkeypatch):
    # An admin's settings change between the read and the booking makes reserve start over
    # with a fresh read: the count rode on the first one only.
    from queue_service.domain import schedules
    from queue_service.domain.reservations import reserve

    read_context = reserve.load_context
    reads = []

    def tuned_once(store, booking_request, person_count=None, captcha=None):
        context = read_context(store, booking_request, person_count, captcha)
        reads.append(person_count)
        if len(reads) == 1:
            schedules.store_settings(
                redis,
                "jakarta-salemba",
                schedules.BranchSettings(**{**vars(context.settings), "booking_cutoff_minutes": 30}),
            )
        return context

    monkeypatch.setattr(reserve, "load_context", tuned_once)
    body = booking_body(phone="081211112222")
    assert book(client, body).status_code == 201

    assert len(reads) == 2 and reads[0] is not None and reads[1] is None
    counters = redis.keys("antrian:{a:*")
    assert len(counters) == 2 and all(redis.get(name) == "1" for name in counters)
