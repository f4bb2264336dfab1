"""Drawing and speaking a captcha answer: a small grey-scale PNG and an 8 kHz WAV.

Both are made with the ``captcha`` package, tuned to cost less
(see ``bench/captcha_rendering.py``):

- the image is 150x50 with no blank glyphs between the digits, a dozen noise dots and
  one curve, in black on white, saved as grey-scale: about half the package
  default's time and a third of its bytes, and easier to read;
- the audio keeps the package's voices and babble but pauses 0.6–1.4 s between digits
  (not 1–3 s) and draws its white noise in one call: about a sixth of the time and
  60% of the bytes.

The overrides lean on methods of ``captcha`` 0.7 (pinned in ``pyproject.toml``).
"""

from __future__ import annotations

import functools
import io
import os
import secrets
import threading

from captcha.audio import BEEP, END_BEEP, SILENCE, WAVE_SAMPLE_RATE, AudioCaptcha, mix_wave
from captcha.image import ImageCaptcha
from PIL import Image, ImageOps
from PIL.ImageFilter import SMOOTH

IMAGE_SIZE = (150, 50)
FONT_SIZES = (36, 40, 44)
NOISE_DOTS = 12
# The package's glyph opacity follows the ink's luminance: this grey is the darkest
# ink still drawn fully opaque. Auto-contrast then turns it black.
_INK = (130, 130, 130, 255)
_PAPER = (255, 255, 255)


class _LeanImageCaptcha(ImageCaptcha):
    # A glyph is preceded by a blank one when a random draw exceeds this: 1.0 never does.
    word_space_probability = 1.0
    word_offset_dx = 0.05
    # Wider turns make a 1 read as a 7.
    character_rotate = (-10, 10)

    def generate_image(self, chars: str, bg_color=None, fg_color=None) -> Image.Image:
        image = self.create_captcha_image(chars, _INK, _PAPER)
        self.create_noise_dots(image, _INK, width=2, number=NOISE_DOTS)
        self.create_noise_curve(image, _INK)
        return ImageOps.autocontrast(image.filter(SMOOTH).convert("L"))


# Maps a random byte to the package's white noise of level 4 (values 126..129).
_NOISE_LEVELS = bytes.maketrans(bytes(range(256)), bytes(126 + value % 4 for value in range(256)))


class _LeanAudioCaptcha(AudioCaptcha):
    pause_seconds = (0.6, 1.4)

    def create_background_noise(self, length: int, chars: str) -> bytearray:
        # As the package's, with the white noise drawn in one call instead of one per sample.
        noise = bytearray(os.urandom(length).translate(_NOISE_LEVELS))
        position = 0
        while position < length:
            sound = self._noise_pick()
            end = position + len(sound) + 1
            noise[position:end] = mix_wave(sound, noise[position:end])
            position = end + secrets.randbelow(WAVE_SAMPLE_RATE // 10 + 1)
        return noise

    def create_wave_body(self, chars: str) -> bytearray:
        # As the package's, with shorter pauses between the digits.
        shortest, longest = (int(seconds * WAVE_SAMPLE_RATE) for seconds in self.pause_seconds)
        voices = [self._twist_pick(char) for char in chars]
        pauses = [shortest + secrets.randbelow(longest - shortest + 1) for _ in chars]
        body = self.create_background_noise(
            max(len(voice) for voice in voices) * len(chars) + sum(pauses), chars)
        position = pauses[0]
        for voice, pause in zip(voices, pauses, strict=True):
            end = position + len(voice) + 1
            body[position:end] = mix_wave(voice, body[position:end])
            position = end + pause
        return BEEP + SILENCE + BEEP + SILENCE + BEEP + body + END_BEEP


# One drawer per thread: they cache FreeType faces, which are not safe to share.
_local = threading.local()


@functools.cache
def _speaker() -> _LeanAudioCaptcha:
    # Loaded whole before use: the package's lazy loading fills its voice table key by key,
    # which another thread could see half done. Two threads racing here both load fully.
    speaker = _LeanAudioCaptcha()
    speaker.load()
    return speaker


def render_png(answer: str) -> bytes:
    """A PNG image of ``answer`` (digits), distorted and noisy but legible."""
    drawer = getattr(_local, "image", None)
    if drawer is None:
        drawer = _local.image = _LeanImageCaptcha(*IMAGE_SIZE, font_sizes=FONT_SIZES)
    out = io.BytesIO()
    drawer.generate_image(answer).save(out, format="png")
    return out.getvalue()


def render_wav(answer: str) -> bytes:
    """A WAV clip (8 kHz, 8-bit mono) speaking ``answer`` digit by digit over babble."""
    return bytes(_speaker().generate(answer))
