"""queue-service rotate-data-key: every live booking sealed again with the first key of
DATA_KEYS, in batches, resumable; a record under a key no longer held fails loudly."""

import base64

import pytest

from queue_service.domain import demo
from queue_service.domain.reservations import Reservations
from queue_service.domain.reservations.resealing import reseal_bookings
from queue_service.store import keys, sealing
from tests.factories import booking_request

K1 = "k1:" + base64.b64encode(b"1" * 32).decode()
K2 = "k2:" + base64.b64encode(b"2" * 32).decode()
BRANCH = "jakarta-salemba"


@pytest.fixture
def settings(settings):
    """The command line runs with the new key first, the old one after."""
    return {**settings, "DATA_KEYS": f"{K2},{K1}"}


@pytest.fixture
def under_k1(redis, clock):
    """Three bookings and an erased one, sealed with k1; a record written before sealing."""
    demo.seed(redis)
    sealing.install(sealing.Keyring.parse(K1))
    reservations = Reservations(redis, nik_secret=b"secret", bookings_per_phone=100)
    made = [reservations.reserve(booking_request(name=f"Peserta {n}"), clock()) for n in "ABC"]
    erased = reservations.reserve(booking_request(), clock())
    reservations.cancel(erased.code, erased.nik, clock())
    reservations.erase(erased.code, erased.nik, clock())
    old = made[0]
    legacy = keys.booking(BRANCH, "LEGACY0001")
    record = redis.hgetall(keys.booking(BRANCH, old.code))
    record = {name: value for name, value in record.items() if not name.startswith("person:")}
    redis.hset(
        legacy, mapping={**record, "name": "Lama Sekali", "nik": old.nik, "kpj": old.kpj, "phone": old.phone}
    )
    return reservations, made, legacy


def pieces(redis, code: str) -> str:
    record = redis.hgetall(keys.booking(BRANCH, code))
    return "".join(record[f"person:{n}"] for n in range(len([f for f in record if f.startswith("person:")])))


def test_rotate_data_key_reseals_with_the_first_key_and_everything_still_reads(runner, redis, under_k1):
    reservations, made, _legacy = under_k1
    assert all(pieces(redis, booking.code).startswith("v1:k1:") for booking in made)
    done = runner("rotate-data-key", "--batch", "2")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert (
        lines[-2] == "bookings: 5 scanned, 4 sealed again with k2, 0 already with it, 1 with nothing to seal"
    )
    assert len(lines) >= 3  # a line per batch of two
    assert lines[-1].startswith("done: every live booking is sealed with k2")
    assert all(pieces(redis, booking.code).startswith("v1:k2:") for booking in made)
    # Readable with k2 alone: k1 may leave DATA_KEYS now.
    sealing.install(sealing.Keyring.parse(K2))
    for booking in made:
        assert reservations.lookup(booking.code, booking.nik) == booking
    legacy = reservations.get(BRANCH, "LEGACY0001")
    assert (legacy.name, legacy.nik) == ("Lama Sekali", made[0].nik)
    assert not {"name", "nik", "kpj", "phone"} & set(redis.hgetall(keys.booking(BRANCH, "LEGACY0001")))
    # A second run (or one resumed after a stop) changes nothing.
    again = runner("rotate-data-key")
    assert "0 sealed again with k2, 4 already with it" in again.stdout


def test_a_run_stopped_halfway_is_resumed_by_the_next(redis, under_k1):
    sealing.install(sealing.Keyring.parse(f"{K2},{K1}"))

    class Stop(Exception):
        pass

    def stop_after_first(progress):
        raise Stop

    with pytest.raises(Stop):
        reseal_bookings(redis, batch=2, on_batch=stop_after_first)
    resumed = reseal_bookings(redis, batch=2)
    assert (resumed.scanned, resumed.resealed + resumed.current, resumed.skipped) == (5, 4, 1)
    assert resumed.current >= 1


def test_a_record_under_a_dropped_key_fails_loudly(runner, redis, under_k1):
    reservations, made, _legacy = under_k1
    sealing.install(sealing.Keyring.parse(K2))
    with pytest.raises(
        sealing.SealError, match="sealed under data key 'k1', which DATA_KEYS no longer holds"
    ):
        reservations.get(BRANCH, made[0].code)
    redis.hset(keys.booking(BRANCH, made[1].code), "person:0", "v1:k9:" + pieces(redis, made[1].code)[6:64])
    failed = runner("rotate-data-key")
    assert failed.returncode == 1 and "data key 'k9', which DATA_KEYS no longer holds" in failed.stderr


def test_a_client_address_kept_in_clear_before_it_was_sealed_goes_into_the_seal(runner, redis, under_k1):
    # Records written before the client's address was sealed with the rest of the person hold
    # it in a field of its own; their seal holds the other five fields, as a record's seal
    # without an address still does.
    reservations, made, _legacy = under_k1
    key = keys.booking(BRANCH, made[1].code)
    redis.hset(key, "address", "198.51.100.7")
    assert reservations.get(BRANCH, made[1].code).address == "198.51.100.7"

    done = runner("rotate-data-key")

    assert done.returncode == 0, done.stderr
    sealing.install(sealing.Keyring.parse(K2))
    assert redis.hget(key, "address") is None
    assert reservations.get(BRANCH, made[1].code).address == "198.51.100.7"
    assert reservations.get(BRANCH, made[2].code).address is None
