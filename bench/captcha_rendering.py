"""Captcha rendering cost: image challenges and audio clips per second on one core.

Runs single-threaded (so the figures are per core) and needs no Redis: a challenge's
creation is one SET; its cost is the drawing. Compares the service's tuned drawing
(``queue_service.captcha_media``) with the ``captcha`` package's defaults.

    .venv/bin/python bench/captcha_rendering.py [--seconds 3]

Not named ``bench/captcha.py``: a script run from ``bench/`` has that folder first on
its import path, where such a file would stand in for the ``captcha`` package.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from captcha.audio import AudioCaptcha
from captcha.image import ImageCaptcha

from queue_service.domain.captcha import media as captcha_media
from queue_service.domain.captcha.gate import new_answer


def measure(render: Callable[[str], bytes], seconds: float) -> tuple[float, float]:
    """Runs ``render`` on fresh answers for about ``seconds``; returns (per second, mean bytes)."""
    render(new_answer())  # warm up: fonts and voices load on first use
    count, size = 0, 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        size += len(render(new_answer()))
        count += 1
    return count / elapsed, size / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    seconds = parser.parse_args().seconds

    default_image, default_audio = ImageCaptcha(), AudioCaptcha()
    rows = [
        ("image, service (150x50 grey PNG)", captcha_media.render_png),
        ("image, package defaults (160x60 RGB PNG)",
         lambda answer: default_image.generate(answer).getvalue()),
        ("audio, service (WAV)", captcha_media.render_wav),
        ("audio, package defaults (WAV)", lambda answer: bytes(default_audio.generate(answer))),
    ]
    print(f"captcha rendering, one core, {len(new_answer())}-digit answers, {seconds:g} s each")
    for label, render in rows:
        per_second, size = measure(render, seconds)
        print(f"  {label:42} {per_second:8.1f} /s  {1000 / per_second:7.2f} ms  "
              f"{size / 1024:6.1f} KiB")


if __name__ == "__main__":
    main()
