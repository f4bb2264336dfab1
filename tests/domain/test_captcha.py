"""The self-hosted captcha's gate and media: the answer's leniency, images drawn afresh from
glyphs drawn once, and no test answer in production (the API's captcha, single use included,
is tested in tests/web/api/test_captcha_api.py)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis as redis_lib
from PIL import Image

from queue_service import create_app
from queue_service.domain.captcha import media as captcha_media
from queue_service.domain.captcha.gate import SelfHostedCaptcha
from queue_service.domain.errors import CaptchaFailedError, NotFoundError

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
