"""The captcha over the API: a challenge and its media by URL, and a booking's challenge
used once, whatever else the booking gets wrong. The gate and the media themselves are in
tests/domain/test_captcha.py."""

from __future__ import annotations

import io
import threading
import time
import wave

import pytest

from queue_service.domain.captcha import media as captcha_media
from queue_service.store import keys
from tests.domain.test_captcha import PNG_MAGIC, open_png
from tests.factories import expiry_gap_ms


def new_challenge(client) -> dict:
    response = client.post("/api/v1/captcha")
    assert response.status_code == 201
    return response.get_json()


def real_answer(redis, captcha_id: str) -> str:
    return redis.get(keys.captcha_answer(captcha_id))


def assert_captcha_failed(response):
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "captcha_failed"


def test_create_returns_challenge_with_relative_media_urls(client):
    challenge = new_challenge(client)

    assert set(challenge) == {"captcha_id", "image_url", "audio_url", "expires_in"}
    assert challenge["image_url"] == f"/api/v1/captcha/{challenge['captcha_id']}/image.png"
    assert challenge["audio_url"] == f"/api/v1/captcha/{challenge['captcha_id']}/audio.wav"
    assert challenge["expires_in"] == 300


def test_answer_is_six_digits_kept_for_the_ttl(client, redis):
    challenge = new_challenge(client)

    answer = real_answer(redis, challenge["captcha_id"])
    assert len(answer) == 6 and answer.isdigit()
    assert 295 <= redis.ttl(keys.captcha_answer(challenge["captcha_id"])) <= 300


def test_image_is_a_png_the_same_at_every_fetch(client):
    challenge = new_challenge(client)

    response = client.get(challenge["image_url"])
    again = client.get(challenge["image_url"])

    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.data.startswith(PNG_MAGIC)
    open_png(response.data)
    assert again.status_code == 200
    assert again.data == response.data
    for fetched in (response, again):
        assert fetched.headers["Cache-Control"] == "no-store"


def test_image_is_kept_for_the_challenges_life_and_no_longer(client, redis):
    challenge = new_challenge(client)
    assert client.get(challenge["image_url"]).status_code == 200

    # The challenge's whole life (five minutes), unlike the audio's minute, never beyond it.
    assert redis.pttl(keys.captcha_image(challenge["captcha_id"])) > 60_000
    gap = expiry_gap_ms(
        redis, keys.captcha_image(challenge["captcha_id"]), keys.captcha_answer(challenge["captcha_id"])
    )
    assert gap <= 1


def test_concurrent_first_fetches_of_an_image_serve_one(app, monkeypatch):
    fetches = 4
    render = captcha_media.render_png
    all_drawn = threading.Barrier(fetches, timeout=30)

    def drawn_before_any_is_kept(answer: str) -> bytes:
        image = render(answer)
        all_drawn.wait()
        return image

    monkeypatch.setattr(captcha_media, "render_png", drawn_before_any_is_kept)
    challenge = new_challenge(app.test_client())
    served = []

    def fetch():
        response = app.test_client().get(challenge["image_url"])
        served.append((response.status_code, response.data))

    threads = [threading.Thread(target=fetch) for _ in range(fetches)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(served) == fetches
    assert {status for status, _ in served} == {200}
    assert len({image for _, image in served}) == 1


def test_audio_is_a_wav_kept_the_same_across_fetches_and_ranges(client):
    challenge = new_challenge(client)

    first = client.get(challenge["audio_url"])
    second = client.get(challenge["audio_url"])
    part = client.get(challenge["audio_url"], headers={"Range": "bytes=0-99"})

    assert first.status_code == 200
    assert first.mimetype == "audio/wav"
    assert first.data[:4] == b"RIFF" and first.data[8:12] == b"WAVE"
    with wave.open(io.BytesIO(first.data)) as clip:
        assert clip.getframerate() == 8000 and clip.getnframes() > 8000
    assert second.data == first.data
    assert part.status_code == 206
    assert part.data == first.data[:100]
    assert part.headers["Content-Range"] == f"bytes 0-99/{len(first.data)}"


def test_media_of_unknown_challenge_is_not_found(client):
    for url in (
        "/api/v1/captcha/AAAAAAAAAAAAAAAAAAAAAA/image.png",
        "/api/v1/captcha/AAAAAAAAAAAAAAAAAAAAAA/audio.wav",
        "/api/v1/captcha/not-an-id/image.png",
    ):
        response = client.get(url)
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"


def test_real_answer_books_once(client, redis, booking_body):
    challenge = new_challenge(client)
    answer = real_answer(redis, challenge["captcha_id"])

    first = client.post(
        "/api/v1/bookings", json=booking_body(captcha_id=challenge["captcha_id"], captcha_answer=answer)
    )
    again = client.post(
        "/api/v1/bookings", json=booking_body(captcha_id=challenge["captcha_id"], captcha_answer=answer)
    )

    assert first.status_code == 201
    assert_captcha_failed(again)


def test_test_answer_books_once(client, booking_body):
    body = booking_body()

    assert client.post("/api/v1/bookings", json=body).status_code == 201
    assert_captcha_failed(client.post("/api/v1/bookings", json=booking_body(captcha_id=body["captcha_id"])))


def test_wrong_answer_fails_and_burns_the_challenge(client, redis, booking_body):
    challenge = new_challenge(client)
    answer = real_answer(redis, challenge["captcha_id"])
    wrong = f"{(int(answer) + 1) % 10**6:06d}"

    assert_captcha_failed(
        client.post(
            "/api/v1/bookings", json=booking_body(captcha_id=challenge["captcha_id"], captcha_answer=wrong)
        )
    )
    assert_captcha_failed(
        client.post(
            "/api/v1/bookings", json=booking_body(captcha_id=challenge["captcha_id"], captcha_answer=answer)
        )
    )
    assert client.get(challenge["image_url"]).status_code == 404


def test_image_is_dropped_with_its_challenge(client, redis, booking_body):
    challenge = new_challenge(client)
    assert client.get(challenge["image_url"]).status_code == 200

    client.post("/api/v1/bookings", json=booking_body(captcha_id=challenge["captcha_id"]))

    assert redis.exists(keys.captcha_image(challenge["captcha_id"])) == 0
    assert client.get(challenge["image_url"]).status_code == 404


def test_audio_is_dropped_with_its_challenge(client, redis, booking_body):
    challenge = new_challenge(client)
    assert client.get(challenge["audio_url"]).status_code == 200
    # Kept a minute at most, though the challenge lives five.
    assert 0 < redis.pttl(keys.captcha_audio(challenge["captcha_id"])) <= 60_000

    client.post("/api/v1/bookings", json=booking_body(captcha_id=challenge["captcha_id"]))

    assert redis.exists(keys.captcha_audio(challenge["captcha_id"])) == 0
    assert client.get(challenge["audio_url"]).status_code == 404


def test_a_consumed_challenge_is_remembered_in_its_own_key_for_a_minute(client, redis, booking_body):
    challenge = new_challenge(client)
    client.get(challenge["audio_url"])
    client.get(challenge["image_url"])
    assert (
        client.post("/api/v1/bookings", json=booking_body(captcha_id=challenge["captcha_id"])).status_code
        == 201
    )

    # No key of its own for the consumption (a key is about 100 bytes before its value).
    assert list(redis.scan_iter(match=f"*{{c:{challenge['captcha_id']}}}*")) == [
        keys.captcha_answer(challenge["captcha_id"])
    ]
    assert 0 < redis.pttl(keys.captcha_answer(challenge["captcha_id"])) <= 60_000
    for url in (challenge["image_url"], challenge["audio_url"]):
        assert client.get(url).status_code == 404


def test_attempt_with_invalid_fields_still_consumes_the_challenge(client, booking_body):
    body = booking_body(nik="123")

    invalid = client.post("/api/v1/bookings", json=body)
    retry = client.post("/api/v1/bookings", json={**body, "nik": booking_body()["nik"]})

    assert invalid.status_code == 422
    assert_captcha_failed(retry)


def test_captcha_is_checked_before_other_fields(client, booking_body):
    # A wrong captcha with a malformed NIK says nothing about the NIK.
    response = client.post("/api/v1/bookings", json=booking_body(nik="123", captcha_answer="0"))

    assert_captcha_failed(response)
    assert "fields" not in response.get_json()["error"]


@pytest.mark.parametrize(
    "captcha_fields",
    [
        {},
        {"captcha_id": "AAAAAAAAAAAAAAAAAAAAAA"},
        {"captcha_answer": "12345"},
        {"captcha_id": 12345, "captcha_answer": "12345"},
        {"captcha_id": None, "captcha_answer": None},
        {"captcha_id": "x" * 5000, "captcha_answer": "12345"},
    ],
)
def test_missing_or_malformed_captcha_fields_are_captcha_failed(client, booking_body, captcha_fields):
    body = {
        name: value for name, value in booking_body().items() if name not in ("captcha_id", "captcha_answer")
    }

    assert_captcha_failed(client.post("/api/v1/bookings", json={**body, **captcha_fields}))


def test_named_challenge_with_missing_answer_is_consumed(client, booking_body):
    body = booking_body()
    without_answer = {name: value for name, value in body.items() if name != "captcha_answer"}

    assert_captcha_failed(client.post("/api/v1/bookings", json=without_answer))
    assert_captcha_failed(client.post("/api/v1/bookings", json=body))


def test_expired_challenge_fails(make_app, booking_body):
    client = make_app(CAPTCHA_TTL_SECONDS=1).test_client()
    challenge = new_challenge(client)
    assert challenge["expires_in"] == 1
    assert client.get(challenge["image_url"]).status_code == 200

    time.sleep(1.2)

    assert client.get(challenge["image_url"]).status_code == 404
    assert_captcha_failed(
        client.post("/api/v1/bookings", json=booking_body(captcha_id=challenge["captcha_id"]))
    )
