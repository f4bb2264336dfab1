"""Drawing and speaking a captcha answer: a small grey-scale PNG and an 8 kHz WAV.

Both are made with the ``captcha`` package, tuned to cost less
(see ``bench/captcha_rendering.py``):

- the image is 150x50, its digits in black on white with a dozen noise dots and one
  curve, in four greys, about 970 bytes (kept with its challenge, see ``render_png``).
  The package draws each digit anew (a font, a turn, a warp) for every image, which cost
  milliseconds; here each process draws 40 variants of each digit once, and an image
  pastes a random variant of each at a random place: about a tenth of the CPU and a third
  of the bytes of drawing every glyph;
- the audio is no longer the package's (its English recordings are public, and a clip
  made of them scaled was solved by a short script): ``speech`` speaks the digits in
  Bahasa Indonesia from the project's own recordings, every clip's voices varied anew.

The overrides lean on methods of ``captcha`` 0.7 (pinned in ``pyproject.toml``), the
image on its private ``_draw_character``.
"""

from __future__ import annotations

import io
import secrets
import string
import threading
from collections.abc import Callable, Iterator, Sequence

from captcha.image import ImageCaptcha
from PIL import Image
from PIL.ImageDraw import Draw
from PIL.ImageFilter import SMOOTH

from queue_service.domain.captcha import speech

IMAGE_SIZE = (150, 50)
FONT_SIZES = (36, 40, 44)
NOISE_DOTS = 12
# Drawn variants of each digit (turned, warped, in one of the sizes); an image picks one
# per digit at random. 400 glyphs take about 0.4 MB of pixels and 65 ms of CPU to draw.
GLYPH_VARIANTS = 40
# Pixels two neighbouring digits' boxes share, so that the warped digits often touch, as
# in the package's drawing; more makes a 1 melt into its neighbour.
OVERLAP = (0, 2)
# Pixels a digit may stray above or below the middle line.
RISE = 2
# Glyphs are narrowed to this share of the font's box so that six of the widest fit side
# by side, as the package did by squeezing the whole line when it was too wide.
NARROWING = 0.94
# The package's glyph opacity follows the ink's luminance: this grey is the darkest
# ink still drawn fully opaque.
_INK = (130, 130, 130, 255)
# The image is drawn in four greys, which keep the smoothed edges at 2 bits a pixel (a
# quarter of the bytes of 256 greys, and cheaper to compress): 0 is black, 3 white.
_GREYS = 4
_BLACK, _WHITE = 0, _GREYS - 1
_GREY_PALETTE = [channel for level in range(_GREYS) for channel in (round(level * 255 / (_GREYS - 1)),) * 3]


class _LeanImageCaptcha(ImageCaptcha):
    # Wider turns make a 1 read as a 7.
    character_rotate = (-10, 10)

    def draw_glyph(self, digit: str) -> Image.Image:
        """One distorted ``digit``: the package's opacity mask for it, narrowed."""
        glyph = self._draw_character(digit, Draw(Image.new("RGB", (1, 1))), _INK)
        mask = glyph.convert("L").point(self.lookup_table)
        return mask.resize((round(mask.width * NARROWING), mask.height), Image.Resampling.BILINEAR)


def _draw_glyphs() -> dict[str, tuple[Image.Image, ...]]:
    drawer = _LeanImageCaptcha(*IMAGE_SIZE, font_sizes=FONT_SIZES)
    return {digit: tuple(drawer.draw_glyph(digit) for _ in range(GLYPH_VARIANTS)) for digit in string.digits}


class _GlyphCache:
    """The digits' glyphs, drawn once per process on first use.

    Drawing a glyph (FreeType, a turn and a warp, each resampled) is what made an image
    cost milliseconds; pasting one is microseconds. Built lazily rather than at import so
    that importing draws nothing and no thread is left holding the lock across a fork.
    """

    def __init__(self, draw: Callable[[], dict[str, tuple[Image.Image, ...]]]):
        self._draw = draw
        self._glyphs: dict[str, tuple[Image.Image, ...]] | None = None
        self._lock = threading.Lock()

    def get(self) -> dict[str, tuple[Image.Image, ...]]:
        """The glyphs, drawn by the first caller while the others wait."""
        glyphs = self._glyphs
        if glyphs is None:
            with self._lock:
                if self._glyphs is None:
                    self._glyphs = self._draw()
                glyphs = self._glyphs
        return glyphs


_glyphs = _GlyphCache(_draw_glyphs)


class _Chance:
    """Random integers for one image, from the operating system's source like ``secrets``.

    ``secrets.randbelow`` reads the source once per number; the fifty numbers of an image
    cost more that way than pasting all its glyphs, so they are read 64 at a time.
    """

    def __init__(self):
        self._words = self._read()

    @staticmethod
    def _read() -> Iterator[int]:
        while True:
            yield from memoryview(secrets.token_bytes(128)).cast("H")

    def between(self, low: int, high: int) -> int:
        """Uniform in ``low..high``, inclusive (biased by at most (high - low + 1) / 65536)."""
        return low + next(self._words) % (high - low + 1)

    def choice(self, options: Sequence[Image.Image]) -> Image.Image:
        return options[self.between(0, len(options) - 1)]


def _layout(masks: list[Image.Image], chance: _Chance) -> list[tuple[int, int]]:
    """Where each glyph goes: side by side and overlapping, at a random start and height."""
    width, height = IMAGE_SIZE
    overlaps = [chance.between(*OVERLAP) for _ in masks[1:]]
    excess = sum(mask.width for mask in masks) - sum(overlaps) - width
    for gap in range(max(excess, 0)):  # too wide: overlap more rather than leave the image
        overlaps[gap % len(overlaps)] += 1
    x = chance.between(0, max(-excess, 0))
    places = []
    for mask, overlap in zip(masks, [*overlaps, 0], strict=True):
        middle = (height - mask.height) // 2
        y = min(max(middle + chance.between(-RISE, RISE), 0), height - mask.height)
        places.append((x, y))
        x += mask.width - overlap
    return places


def _draw_noise(image: Image.Image, chance: _Chance) -> None:
    # The package's dots and curve, with the numbers of this image's ``chance``.
    width, height = image.size
    draw = Draw(image)
    for _ in range(NOISE_DOTS):
        x, y = chance.between(0, width), chance.between(0, height)
        draw.line(((x, y), (x - 1, y - 1)), fill=_BLACK, width=2)
    # The lower part of an ellipse, from the left fifth across the digits.
    left, top = chance.between(0, width // 5), chance.between(height // 5, height - height // 5)
    box = (left, top, chance.between(width // 5, width), chance.between(top, height - height // 5))
    draw.arc(box, chance.between(0, 20), chance.between(160, 200), fill=_BLACK)


def _compose(answer: str) -> Image.Image:
    variants, chance = _glyphs.get(), _Chance()
    masks = [chance.choice(variants[digit]) for digit in answer]
    image = Image.new("L", IMAGE_SIZE, _WHITE)
    for mask, place in zip(masks, _layout(masks, chance), strict=True):
        image.paste(_BLACK, place, mask)
    _draw_noise(image, chance)
    image = image.filter(SMOOTH)
    image.putpalette(_GREY_PALETTE)
    return image


def render_png(answer: str) -> bytes:
    """A PNG image of ``answer`` (digits), distorted and noisy but legible."""
    out = io.BytesIO()
    # Drawn once per challenge and kept with it in the data store (gate.py), so bytes count
    # more than CPU: zlib's default level costs 0.08 ms more than the fastest, once, for 9%
    # fewer bytes (~970 B, was ~1,060), which Redis's allocator turns into ~1,130 B a kept
    # image by MEMORY USAGE, was ~1,330; level 9 saves 6 B more for another 0.1 ms.
    _compose(answer).save(out, format="png", bits=2, compress_level=6)
    return out.getvalue()


def render_wav(answer: str, seed: bytes) -> bytes:
    """A WAV clip (8 kHz, 8-bit mono) speaking ``answer`` digit by digit in Bahasa Indonesia,
    every voice varied by numbers drawn from ``seed`` (see ``speech``)."""
    return speech.speak(answer, seed)
