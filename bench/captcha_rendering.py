"""Captcha rendering cost: image challenges and audio clips per second on one core.

Runs single-threaded (so the figures are per core) and needs no Redis: a challenge's
creation is one SET; its cost is the drawing. Compares the service's image (pasted from
glyphs drawn once per process) with the drawing it replaced (every glyph drawn, turned and
warped by the ``captcha`` package on each image, kept here as ``PackageDrawnImage``), in
alternating rounds of the same run, and both drawings with the package's defaults.

    .venv/bin/python bench/captcha_rendering.py [--seconds 3] [--rounds 3]

Not named ``bench/captcha.py``: a script run from ``bench/`` has that folder first on
its import path, where such a file would stand in for the ``captcha`` package.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from captcha.audio import AudioCaptcha
from captcha.image import ImageCaptcha
from PIL import ImageOps
from PIL.ImageFilter import SMOOTH

# The checkout this script is in, not whichever one is installed.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from queue_service.domain.captcha import media as captcha_media  # noqa: E402
from queue_service.domain.captcha.gate import new_answer  # noqa: E402


class PackageDrawnImage(ImageCaptcha):
    """The service's image until the glyph cache: the package draws every glyph per image."""

    word_space_probability = 1.0
    word_offset_dx = 0.05
    character_rotate = (-10, 10)
    ink = (130, 130, 130, 255)

    def __init__(self):
        super().__init__(*captcha_media.IMAGE_SIZE, font_sizes=captcha_media.FONT_SIZES)

    def render_png(self, answer: str) -> bytes:
        image = self.create_captcha_image(answer, self.ink, (255, 255, 255))
        self.create_noise_dots(image, self.ink, width=2, number=captcha_media.NOISE_DOTS)
        self.create_noise_curve(image, self.ink)
        out = io.BytesIO()
        ImageOps.autocontrast(image.filter(SMOOTH).convert("L")).save(out, format="png")
        return out.getvalue()


def measure(render: Callable[[str], bytes], seconds: float) -> tuple[float, float, float]:
    """Runs ``render`` on fresh answers for about ``seconds``.

    Returns:
        images per second of wall time, ms of this process's CPU per image, mean bytes.
    """
    count, size = 0, 0
    started, cpu_started = time.perf_counter(), time.process_time()
    while (elapsed := time.perf_counter() - started) < seconds:
        size += len(render(new_answer()))
        count += 1
    return count / elapsed, (time.process_time() - cpu_started) * 1000 / count, size / count


def measure_alternating(
    renders: dict[str, Callable[[str], bytes]], seconds: float, rounds: int
) -> dict[str, tuple[float, float, float]]:
    """Each render in turn, ``rounds`` times; the median of each figure across rounds."""
    per_round: dict[str, list[tuple[float, float, float]]] = {label: [] for label in renders}
    for _ in range(rounds):
        for label, render in renders.items():
            per_round[label].append(measure(render, seconds / rounds))
    return {
        label: tuple(statistics.median(figures) for figures in zip(*results, strict=True))
        for label, results in per_round.items()
    }


def resident_kib() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4


def build_glyph_cache() -> str:
    """Builds the service's glyph cache now, as the first image of a process does."""
    before_kib = resident_kib()
    started, cpu_started = time.perf_counter(), time.process_time()
    glyphs = captcha_media._glyphs.get()
    wall_ms = (time.perf_counter() - started) * 1000
    cpu_ms = (time.process_time() - cpu_started) * 1000
    masks = [mask for variants in glyphs.values() for mask in variants]
    pixels = sum(mask.width * mask.height for mask in masks)
    return (
        f"glyph cache: {len(masks)} masks, {pixels / 1024:.0f} KiB of pixels, "
        f"process +{resident_kib() - before_kib} KiB resident (fonts loaded included); "
        f"built in {wall_ms:.0f} ms ({cpu_ms:.0f} ms CPU)"
    )


def print_row(label: str, per_second: float, cpu_ms: float, size: float) -> None:
    print(
        f"  {label:46} {per_second:8.1f} /s  {1000 / per_second:6.2f} ms  "
        f"{cpu_ms:6.2f} ms CPU  {size / 1024:6.1f} KiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="alternations of the images")
    arguments = parser.parse_args()
    seconds, rounds = arguments.seconds, arguments.rounds

    print(f"captcha rendering, one core, {len(new_answer())}-digit answers, {seconds:g} s each")
    print(f"  {build_glyph_cache()}")
    images = {
        "image, before (package draws each glyph)": PackageDrawnImage().render_png,
        "image, now (pasted from the glyph cache)": captcha_media.render_png,
    }
    for render in images.values():
        render(new_answer())  # warm up: fonts load on first use
    figures = measure_alternating(images, seconds, rounds)
    for label, row in figures.items():
        print_row(label, *row)
    (before_rate, before_cpu, before_size), (now_rate, now_cpu, now_size) = figures.values()
    print(
        f"  now ÷ before, median of {rounds} alternating rounds: images/s x"
        f"{now_rate / before_rate:.1f}, CPU per image ÷{before_cpu / now_cpu:.1f}, "
        f"bytes x{now_size / before_size:.2f}"
    )

    default_image, default_audio = ImageCaptcha(), AudioCaptcha()
    others = [
        (
            "image, package defaults (160x60 RGB PNG)",
            lambda answer: default_image.generate(answer).getvalue(),
        ),
        # A fresh seed a clip, as every challenge has its own (speech.clip_seed).
        (
            "audio, service (WAV, Bahasa Indonesia)",
            lambda answer: captcha_media.render_wav(answer, os.urandom(32)),
        ),
        ("audio, package defaults (WAV)", lambda answer: bytes(default_audio.generate(answer))),
    ]
    for label, render in others:
        render(new_answer())  # warm up: fonts and voices load on first use
        print_row(label, *measure(render, seconds))


if __name__ == "__main__":
    main()
