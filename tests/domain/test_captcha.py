"""The self-hosted captcha's gate and media: the answer's leniency, one image per challenge
(pasted from glyphs drawn once, drawn at its first fetch and kept with the challenge), and no
test answer in production (the API's captcha, single use included, is tested in
tests/web/api/test_captcha_api.py)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis as redis_lib
from PIL import Image

from queue_service import create_app
from queue_service.domain.captcha import media as captcha_media
from queue_service.domain.captcha.gate import SelfHostedCaptcha
from queue_service.domain.errors import CaptchaFailedError, NotFoundError
from queue_service.store import keys
from tests.factories import expiry_gap_ms

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


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


def test_every_drawing_differs_so_no_two_challenges_share_an_image():
    same = {captcha_media.render_png("482913") for _ in range(5)}
    others = {captcha_media.render_png(answer) for answer in ("000000", "111111", "482914")}

    assert len(same) == 5
    assert len(same | others) == 8


@pytest.fixture
def binary(redis_server, redis):
    """A client of the (flushed) data store that returns bytes, as the gate needs."""
    client = redis_lib.Redis.from_url(redis_server.url)
    yield client
    client.close()


def counting_renders(monkeypatch, before_return: Callable[[], None] = lambda: None) -> list[bytes]:
    """Counts the gate's drawings; returns the list each drawn PNG is appended to."""
    drawn = []
    render = captcha_media.render_png

    def counted(answer: str) -> bytes:
        image = render(answer)
        drawn.append(image)
        before_return()
        return image

    monkeypatch.setattr(captcha_media, "render_png", counted)
    return drawn


def test_a_challenge_is_drawn_once_and_every_fetch_serves_that_image(binary, monkeypatch):
    drawn = counting_renders(monkeypatch)
    gate = SelfHostedCaptcha(binary, ttl_seconds=300, answer_factory=lambda: "482913")
    challenge, other = gate.create(), gate.create()

    fetches = [gate.image(challenge.id) for _ in range(3)]

    assert len(drawn) == 1
    assert fetches == [drawn[0]] * 3
    open_png(fetches[0])
    assert binary.get(keys.captcha_image(challenge.id)) == drawn[0]
    # Another challenge, though its answer is the same, has an image of its own.
    assert gate.image(other.id) != fetches[0]


def test_concurrent_first_fetches_serve_one_image(binary, monkeypatch):
    threads_count = 8
    # Every thread has drawn its own image before any of them stores one.
    all_drawn = threading.Barrier(threads_count, timeout=30)
    drawn = counting_renders(monkeypatch, before_return=all_drawn.wait)
    gate = SelfHostedCaptcha(binary, ttl_seconds=300)
    challenge = gate.create()
    served = []

    def fetch():
        served.append(gate.image(challenge.id))

    threads = [threading.Thread(target=fetch) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(set(drawn)) == threads_count  # the race happened: eight different drawings
    assert len(served) == threads_count
    assert set(served) == {binary.get(keys.captcha_image(challenge.id))}
    assert gate.image(challenge.id) == served[0]


def test_the_kept_image_lives_as_long_as_its_challenge_and_no_longer(binary):
    gate = SelfHostedCaptcha(binary, ttl_seconds=1)
    challenge = gate.create()
    gate.image(challenge.id)

    # The challenge's whole life, to the millisecond (set by one script from the answer's
    # TTL), and not beyond it.
    assert expiry_gap_ms(binary, keys.captcha_image(challenge.id), keys.captcha_answer(challenge.id)) <= 1

    time.sleep(1.2)

    assert binary.exists(keys.captcha_image(challenge.id)) == 0
    with pytest.raises(NotFoundError):
        gate.image(challenge.id)


def test_a_consumed_challenge_drops_its_image_and_serves_none(binary):
    gate = SelfHostedCaptcha(binary, ttl_seconds=300, answer_factory=lambda: "000042")
    challenge = gate.create()
    gate.image(challenge.id)
    gate.audio(challenge.id)

    gate.verify(challenge.id, "000042")

    assert binary.exists(keys.captcha_image(challenge.id), keys.captcha_audio(challenge.id)) == 0
    with pytest.raises(NotFoundError):
        gate.image(challenge.id)
    with pytest.raises(NotFoundError):
        gate.audio(challenge.id)


def test_an_image_drawn_while_its_challenge_was_consumed_is_not_kept(binary, monkeypatch):
    gate = SelfHostedCaptcha(binary, ttl_seconds=300, answer_factory=lambda: "000042")
    challenge = gate.create()
    # The booking attempt consumes the challenge while the image is being drawn.
    counting_renders(monkeypatch, before_return=lambda: gate.verify(challenge.id, "000042"))

    with pytest.raises(NotFoundError):
        gate.image(challenge.id)
    assert binary.exists(keys.captcha_image(challenge.id)) == 0


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
