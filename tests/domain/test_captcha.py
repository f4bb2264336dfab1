"""The self-hosted captcha: challenges, their image and audio, and single use."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path

import pytest
import redis as redis_lib
from PIL import Image

from queue_service import create_app
from queue_service.domain.captcha import media as captcha_media
from queue_service.domain.captcha.gate import SelfHostedCaptcha
from queue_service.domain.errors import CaptchaFailedError, NotFoundError
from queue_service.store import keys

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


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


def test_image_is_a_png(client):
    challenge = new_challenge(client)

    response = client.get(challenge["image_url"])

    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.data.startswith(PNG_MAGIC)
    assert response.headers["Cache-Control"] == "no-store"
    open_png(response.data)


def open_png(data: bytes) -> Image.Image:
    """The image in ``data``, checked to be a whole 150x50 PNG in four greys."""
    assert data.startswith(PNG_MAGIC)
    Image.open(io.BytesIO(data)).verify()
    image = Image.open(io.BytesIO(data))
    image.load()
    assert (image.format, image.size, image.mode) == ("PNG", (150, 50), "P")
    assert image.getpalette()[:12] == [0, 0, 0, 85, 85, 85, 170, 170, 170, 255, 255, 255]
    return image


def test_image_is_digits_in_four_greys():
    image = open_png(captcha_media.render_png("482913"))

    black, _, _, white = (count / (150 * 50) for count in image.histogram()[:4])
    assert sum(image.histogram()[4:]) == 0
    # Digits in black on white paper: neither blank nor a blot.
    assert 0.1 < black < 0.5 and white > 0.3


def test_images_are_drawn_afresh():
    same = {captcha_media.render_png("482913") for _ in range(5)}
    others = {captcha_media.render_png(answer) for answer in ("000000", "111111", "482914")}

    assert len(same) == 5
    assert len(same | others) == 8


def counting_glyph_cache(monkeypatch) -> list[int]:
    """Gives the media a fresh glyph cache; returns the list its builds append to."""
    builds = []

    def draw_glyphs():
        builds.append(threading.get_ident())
        time.sleep(0.05)  # so that the other threads arrive while the glyphs are drawn
        return captcha_media._draw_glyphs()

    monkeypatch.setattr(captcha_media, "_glyphs", captcha_media._GlyphCache(draw_glyphs))
    return builds


def test_glyphs_are_drawn_once_per_process_not_per_image(monkeypatch):
    builds = counting_glyph_cache(monkeypatch)

    for answer in ("482913", "000000", "999999"):
        open_png(captcha_media.render_png(answer))

    assert len(builds) == 1


def test_threads_drawing_at_once_during_the_first_build_share_one(monkeypatch):
    builds = counting_glyph_cache(monkeypatch)
    start = threading.Barrier(16, timeout=30)
    images = {}

    def draw(number: int):
        start.wait()
        images[number] = captcha_media.render_png(f"{number:06d}")

    threads = [threading.Thread(target=draw, args=(number,)) for number in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(builds) == 1
    assert sorted(images) == list(range(16))
    for image in images.values():
        open_png(image)


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

    time.sleep(1.2)

    assert client.get(challenge["image_url"]).status_code == 404
    assert_captcha_failed(
        client.post("/api/v1/bookings", json=booking_body(captcha_id=challenge["captcha_id"]))
    )


def test_gate_answers_ignore_case_and_spaces(redis_server, redis):
    binary = redis_lib.Redis.from_url(redis_server.url)
    gate = SelfHostedCaptcha(binary, ttl_seconds=60, test_answer="AbC", answer_factory=lambda: "482913")

    gate.verify(gate.create().id, " 482 913 ")
    gate.verify(gate.create().id, "aBc")
    with pytest.raises(CaptchaFailedError):
        gate.verify(gate.create().id, "482914")
    binary.close()


def test_gate_without_test_answer_accepts_only_the_real_one(redis_server, redis):
    binary = redis_lib.Redis.from_url(redis_server.url)
    gate = SelfHostedCaptcha(binary, ttl_seconds=60, answer_factory=lambda: "000042")
    challenge = gate.create()

    with pytest.raises(CaptchaFailedError):
        gate.verify(challenge.id, "12345")
    with pytest.raises(NotFoundError):
        gate.image(challenge.id)
    binary.close()


def test_test_answer_refused_in_production(settings):
    with pytest.raises(ValueError, match="CAPTCHA_TEST_ANSWER must not be set"):
        create_app({**settings, "APP_ENV": "production"})


def test_cli_refuses_test_answer_in_production(tmp_path):
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "APP_ENV": "production",
        "CAPTCHA_TEST_ANSWER": "12345",
        "VAR_DIR": str(tmp_path / "var"),
    }

    result = subprocess.run(
        [sys.executable, "-m", "queue_service.cli", "seed-demo"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "CAPTCHA_TEST_ANSWER must not be set when APP_ENV=production" in result.stderr
