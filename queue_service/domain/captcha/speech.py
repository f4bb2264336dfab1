"""The audio captcha: the answer's digits spoken in Bahasa Indonesia, every clip its own.

The recordings are the project's (``voices/<voice>/<digit>.wav``: espeak-ng's Indonesian
voice in four variants, "nol, satu, dua, … sembilan", 8 kHz 16-bit, made by
``tools/make_captcha_voices.py``); anyone can download them, so no clip contains one as it
is, nor a scaled or sped-up copy: each digit of each clip is made anew.

Each digit is two voices saying it together (a chorus), each of them:

- a voice picked at random, and a second, other one for the chorus at ``CHORUS_GAIN`` of
  the first's loudness, ``CHORUS_DELAY`` later;
- resampled with a pitch (every frequency, formants included) scaled by ``PITCH``, the
  factor gliding by up to ``GLIDE`` either way between ``KNOTS`` random points, so that no
  single speed-up of a recording lines up with it;
- stretched or squeezed to ``TEMPO`` times the recording's length, independently of the
  pitch, by overlap-add of ``GRAIN``-sample Hann grains, each read from a place jittered
  by up to ``JITTER`` samples (the waveform no longer follows the recording's, the words
  do) and scaled by a slowly wandering ``WOBBLE``;
- filtered by a random tilt (``TILT``, brighter or duller) and a peak or notch
  (``PEAK_HZ``, ``PEAK_DB``);
- at a loudness of ``LOUDNESS`` of the recording's.

Between the digits, pauses of ``PAUSE_SECONDS``; under them all, babble (the recordings
played backwards, in random voices and order, two streams at ``BABBLE_GAIN`` of a voice's
loudness) and coloured noise (``NOISE_GAIN``). Speech stays well above both: the tests
check every digit at least ``MIN_SNR_DB`` above what lies under it. Three beeps start the
clip, as before.

Every random number of a clip comes from a generator seeded by an HMAC, under the
deployment's secret, of the challenge's id (``clip_seed``). So a challenge sounds the same
at every rendering (its clip is kept a minute only, and a later fetch renders it again:
renderings cannot be averaged, nor voted on), while without the secret nobody can know,
from an id, which voice, pitch, speed or noise its clip will have: the secret keys the
variation, the challenge's randomness is its answer's (``secrets``), never these numbers.

Pure Python (no numpy in the service): about 45 ms of one core a clip, as for the
``captcha`` package's English clips it replaces (``bench/captcha_rendering.py``).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import random
import struct
import wave
from pathlib import Path

RATE = 8000
DIGITS = "0123456789"
VOICES_DIR = Path(__file__).resolve().parent / "voices"

# Ranges each digit's parameters are drawn from (uniformly unless said).
PITCH = (0.84, 1.2)  # log-uniform; below 1 deeper, above 1 higher
GLIDE = 0.06  # the pitch wanders up to this share either way, along the digit
KNOTS = 4  # points the glide passes through
TEMPO = (0.85, 1.2)  # length against the recording's
GRAIN = 240  # 30 ms grains, overlapping by half
JITTER = 24  # 3 ms either way
WOBBLE = 0.15  # each grain's loudness wanders this share either way
LOUDNESS = (0.75, 1.0)
CHORUS_GAIN = (0.45, 0.8)
CHORUS_DELAY = (0, 320)  # samples, up to 40 ms
TILT = (-0.5, 0.5)
PEAK_HZ = (300.0, 3000.0)
PEAK_DB = (-6.0, 6.0)
PAUSE_SECONDS = (0.45, 0.95)
LEAD_SECONDS = (0.3, 0.6)
TAIL_SECONDS = (0.3, 0.5)
BABBLE_GAIN = (0.08, 0.16)
NOISE_GAIN = (0.03, 0.06)
# The whole clip's level, so that the loudest chorus over babble fits in 8 bits unclipped.
OUTPUT_GAIN = 0.7
# The tests hold every digit at least this far above the babble and noise under it.
MIN_SNR_DB = 3.0

_HOP = GRAIN // 2
# Hann grains at half overlap sum to one.
_WINDOW = [0.5 - 0.5 * math.cos(2 * math.pi * k / GRAIN) for k in range(GRAIN)]
# Sample values (16-bit scale) to 8-bit unsigned, clipped: index by int(value) >> 8 + offset.
_BYTE_OFFSET = 4096
_TO_BYTE = bytes(min(max(level - _BYTE_OFFSET + 128, 0), 255) for level in range(2 * _BYTE_OFFSET))
_SEED_LABEL = b"antrian captcha audio\x00"


def clip_seed(secret: bytes, captcha_id: str) -> bytes:
    """The seed of a challenge's clip: an HMAC of its id under the deployment's secret."""
    return hmac.new(secret, _SEED_LABEL + captcha_id.encode(), hashlib.sha256).digest()


def _read(path: Path) -> list[float]:
    with wave.open(str(path)) as recording:
        if (recording.getframerate(), recording.getsampwidth(), recording.getnchannels()) != (RATE, 2, 1):
            raise ValueError(f"{path}: not 8 kHz 16-bit mono")
        frames = recording.readframes(recording.getnframes())
    return [float(value) for value in struct.unpack(f"<{len(frames) // 2}h", frames)]


@functools.cache
def recordings() -> dict[str, tuple[tuple[float, ...], ...]]:
    """The shipped recordings: each voice's ten digits, in order, as samples."""
    voices = sorted(path for path in VOICES_DIR.iterdir() if path.is_dir())
    if not voices:
        raise RuntimeError(f"no captcha voices in {VOICES_DIR}")
    return {voice.name: tuple(tuple(_read(voice / f"{digit}.wav")) for digit in DIGITS) for voice in voices}


@functools.cache
def _beeps() -> list[float]:
    """Three short beeps and the silences after them: the clip's start."""
    beep = [
        6000.0 * math.sin(2 * math.pi * 880 * n / RATE) * min(1.0, n / 80, (800 - n) / 80) for n in range(800)
    ]
    silence = [0.0] * (RATE // 5)
    return (beep + silence) * 3


@functools.cache
def _noise_table() -> tuple[float, ...]:
    """Two seconds of coloured noise (white, low-passed and tilted), unit RMS."""
    chance = random.Random(b"antrian captcha noise")
    white = [chance.gauss(0.0, 1.0) for _ in range(2 * RATE)]
    low, noise = 0.0, []
    for value in white:
        low = 0.9 * low + 0.1 * value
        noise.append(2.5 * low + 0.4 * value)
    scale = 1 / math.sqrt(sum(value * value for value in noise) / len(noise))
    return tuple(value * scale for value in noise)


def _glide(samples: tuple[float, ...] | list[float], pitch: float, chance: random.Random) -> list[float]:
    """``samples`` read at a speed gliding around ``pitch`` (linear interpolation)."""
    rates = [pitch * (1 + chance.uniform(-GLIDE, GLIDE)) for _ in range(KNOTS)]
    span = (len(samples) - 1) / (KNOTS - 1)
    out: list[float] = []
    start = 0.0
    for first, last in zip(rates, rates[1:], strict=False):
        # Within a stretch the reading speed goes linearly from first to last.
        steps = max(int(span * 2 / (first + last)), 1)
        growth = (last - first) / steps
        positions = [start + step * (first + 0.5 * growth * step) for step in range(steps)]
        start = positions[-1] + last
        out += [
            samples[whole] + (samples[whole + 1] - samples[whole]) * (position - whole)
            for position in positions
            if (whole := int(position)) < len(samples) - 1
        ]
    return out


def _stretch(samples: list[float], length: int, loudness: float, chance: random.Random) -> list[float]:
    """``samples`` made ``length`` long at the same pitch: jittered overlap-add of Hann grains."""
    out = [0.0] * (length + GRAIN)
    last = max(len(samples) - GRAIN, 0)
    if len(samples) < GRAIN:
        samples = samples + [0.0] * (GRAIN - len(samples))
    gain = loudness
    for start in range(0, length, _HOP):
        source = min(max(round(start * len(samples) / length) + chance.randint(-JITTER, JITTER), 0), last)
        gain = min(
            max(gain * (1 + chance.uniform(-0.05, 0.05)), loudness * (1 - WOBBLE)), loudness * (1 + WOBBLE)
        )
        out[start : start + GRAIN] = [
            have + value * weight * gain
            for have, value, weight in zip(
                out[start : start + GRAIN], samples[source : source + GRAIN], _WINDOW, strict=True
            )
        ]
    return out[:length]


def _colour(samples: list[float], chance: random.Random) -> list[float]:
    """A tilt (first difference or sum) and a peaking filter (RBJ biquad) at random."""
    tilt = chance.uniform(*TILT)
    samples = [value + tilt * before for value, before in zip(samples, [0.0, *samples[:-1]], strict=True)]
    amplitude = 10 ** (chance.uniform(*PEAK_DB) / 40)
    omega = 2 * math.pi * chance.uniform(*PEAK_HZ) / RATE
    alpha = math.sin(omega) / (2 * chance.uniform(0.7, 2.0))
    cosine = math.cos(omega)
    a0 = 1 + alpha / amplitude
    b0, b1, b2 = (1 + alpha * amplitude) / a0, -2 * cosine / a0, (1 - alpha * amplitude) / a0
    a1, a2 = -2 * cosine / a0, (1 - alpha / amplitude) / a0
    # Scaled back so that the tilt and the peak change the colour, not the loudness.
    scale = 1 / (1 + abs(tilt))
    out = []
    x1 = x2 = y1 = y2 = 0.0
    for x in samples:
        y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
        x2, x1, y2, y1 = x1, x, y1, y
        out.append(y * scale)
    return out


def _voice(recording: tuple[float, ...], length: int, loudness: float, chance: random.Random) -> list[float]:
    pitch = math.exp(chance.uniform(math.log(PITCH[0]), math.log(PITCH[1])))
    return _colour(_stretch(_glide(recording, pitch, chance), length, loudness, chance), chance)


def _digit(digit: str, chance: random.Random) -> list[float]:
    """One digit: two voices saying it at once, each its own pitch, pace and colour."""
    bank = recordings()
    lead, chorus = chance.sample(sorted(bank), 2)
    length = round(len(bank[lead][int(digit)]) * chance.uniform(*TEMPO))
    loudness = chance.uniform(*LOUDNESS)
    out = _voice(bank[lead][int(digit)], length, loudness, chance)
    delay = chance.randint(*CHORUS_DELAY)
    second = _voice(bank[chorus][int(digit)], length - delay, loudness * chance.uniform(*CHORUS_GAIN), chance)
    out[delay:] = [have + value for have, value in zip(out[delay:], second, strict=True)]
    return out


def _add(track: list[float], start: int, sound: list[float] | tuple[float, ...], gain: float = 1.0) -> None:
    end = min(start + len(sound), len(track))
    track[start:end] = [have + value * gain for have, value in zip(track[start:end], sound, strict=False)]


def _background(length: int, chance: random.Random) -> list[float]:
    """Coloured noise in pieces at varying levels, and two streams of babble over it."""
    table = _noise_table()
    speech_rms = 4000.0  # the recordings' loudness (tools/make_captcha_voices.py)
    track: list[float] = []
    while len(track) < length:
        start, gain = chance.randrange(len(table) - RATE // 4), speech_rms * chance.uniform(*NOISE_GAIN)
        track += [value * gain for value in table[start : start + RATE // 4]]
    del track[length:]
    backwards = [recording[::-1] for voice in recordings().values() for recording in voice]
    for _ in range(2):
        position = chance.randrange(RATE // 4)
        while position < length:
            sound = chance.choice(backwards)
            _add(track, position, sound, chance.uniform(*BABBLE_GAIN))
            position += round(len(sound) * chance.uniform(0.7, 1.1))
    return track


def tracks(answer: str, seed: bytes) -> tuple[list[float], list[float], list[tuple[int, int]]]:
    """The clip's speech and background, apart, and where each digit lies in them.

    Sample values are on the recordings' 16-bit scale; ``speak`` adds the two and encodes.
    """
    chance = random.Random(seed)
    beeps = _beeps()
    voices = [_digit(digit, chance) for digit in answer]
    gaps = [chance.uniform(*LEAD_SECONDS)] + [chance.uniform(*PAUSE_SECONDS) for _ in voices[1:]]
    gaps.append(chance.uniform(*TAIL_SECONDS))
    length = len(beeps) + sum(map(len, voices)) + round(sum(gaps) * RATE)
    speech = [0.0] * length
    speech[: len(beeps)] = beeps
    spans, position = [], len(beeps)
    for voice, gap in zip(voices, gaps, strict=False):
        position += round(gap * RATE)
        speech[position : position + len(voice)] = voice
        spans.append((position, position + len(voice)))
        position += len(voice)
    background = [0.0] * len(beeps) + _background(length - len(beeps), chance)
    return speech, background, spans


def speak(answer: str, seed: bytes) -> bytes:
    """A WAV clip (8 kHz, 8-bit mono) of ``answer``'s digits spoken in Bahasa Indonesia.

    The same ``answer`` and ``seed`` make the same bytes.
    """
    speech, background, _ = tracks(answer, seed)
    table, offset = _TO_BYTE, _BYTE_OFFSET
    gain = OUTPUT_GAIN
    frames = bytes(
        [table[(int((a + b) * gain) >> 8) + offset] for a, b in zip(speech, background, strict=True)]
    )
    return wav(frames)


def wav(frames: bytes) -> bytes:
    """8 kHz 8-bit mono WAV bytes holding ``frames``."""
    padding = b"\x00" * (len(frames) % 2)
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + len(frames) + len(padding),
        b"WAVE",
        b"fmt ",
        16,
        1,  # PCM
        1,  # mono
        RATE,
        RATE,  # bytes a second
        1,  # bytes a frame
        8,  # bits a sample
        b"data",
        len(frames),
    )
    return header + frames + padding
