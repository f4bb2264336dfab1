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
  do) and scaled by a slowly wandering ``WOBBLE``; the pace changes along the word: in
  ``PACE_KNOTS`` stretches, each read up to ``PACE_SWING`` times faster or slower than the
  others (as a speaker lingers on one syllable and hurries another), so that a recording
  brought to the digit's length does not line up with it throughout;
- filtered by a random tilt (``TILT``, brighter or duller) and a peak or notch that sweeps
  along the digit from one frequency and gain to another (``PEAK_HZ``, ``PEAK_DB``);
- at a loudness of ``LOUDNESS`` of the recording's.

Then the chorus is moved up in frequency by a number of hertz (``SHIFT_HZ``) that glides
from one value to another along the digit (single-sideband modulation, a Hilbert pair of
all-pass chains): a change of speed multiplies every frequency by one ratio, a shift adds
one number of hertz, so the formants' ratios (and the harmonics') no longer match any
speed of any recording; the words stay clear, the voice sounds a little metallic.

Between the digits, pauses of ``PAUSE_SECONDS``; under them all, babble (the recordings
played backwards, in random voices and order, two streams at ``BABBLE_GAIN`` of a voice's
loudness) and coloured noise (``NOISE_GAIN``). Between the digits the babble and noise grow
``PAUSE_BABBLE`` times louder (near, but below, the speech's loudness), so that the loud
stretches of a clip are not only its digits, and fall back before the next digit. Speech
stays well above what lies under it: the tests check every digit at least ``MIN_SNR_DB``
above it. Three beeps start the clip, as before.

The test suite's solver (``tests/domain/test_captcha_audio_solver.py``) matches every
recording anyone can download against the clips and must solve at most a tenth of them.

Every random number of a clip comes from a generator seeded by an HMAC, under the
deployment's secret, of the challenge's id (``clip_seed``). So a challenge sounds the same
at every rendering (its clip is kept a minute only, and a later fetch renders it again:
renderings cannot be averaged, nor voted on), while without the secret nobody can know,
from an id, which voice, pitch, speed or noise its clip will have: the secret keys the
variation, the challenge's randomness is its answer's (``secrets``), never these numbers.

Pure Python (no numpy in the service): about 80 ms of one core a clip (twice the 41 ms of
the chorus alone: the shift and the sweeping filter run sample by sample), rendered once a
minute at most per challenge (``bench/captcha_rendering.py``).
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
PACE_KNOTS = 4  # stretches of a digit each read at its own pace
PACE_SWING = 2.0  # a stretch is read up to this many times faster or slower than the others
WOBBLE = 0.15  # each grain's loudness wanders this share either way
SHIFT_HZ = (70.0, 260.0)
LOUDNESS = (0.75, 1.0)
CHORUS_GAIN = (0.6, 0.95)
CHORUS_DELAY = (0, 320)  # samples, up to 40 ms
TILT = (-0.5, 0.5)
PEAK_HZ = (300.0, 3000.0)
PEAK_DB = (-6.0, 6.0)
PAUSE_SECONDS = (0.45, 0.95)
LEAD_SECONDS = (0.3, 0.6)
TAIL_SECONDS = (0.3, 0.5)
BABBLE_GAIN = (0.1, 0.18)
NOISE_GAIN = (0.03, 0.06)
PAUSE_BABBLE = (2.0, 3.0)  # the background between digits this many times louder
# The whole clip's level, so that the loudest chorus over babble fits in 8 bits unclipped.
OUTPUT_GAIN = 0.7
# The tests hold every digit at least this far above the babble and noise under it.
MIN_SNR_DB = 3.0

_HOP = GRAIN // 2
# The sweeping peak's frequency and gain change every this many samples.
_SWEEP_BLOCK = 80
# Samples over which the background grows louder after a digit, and quieter before one.
_RAMP = 400
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


def _pace(length: int, chance: random.Random) -> list[float]:
    """Where, as a share of the recording, each output grain of a ``length``-long digit reads:
    the pace changes at ``PACE_KNOTS`` random points, each stretch read at its own speed."""
    speeds = [
        math.exp(chance.uniform(-math.log(PACE_SWING), math.log(PACE_SWING))) for _ in range(PACE_KNOTS)
    ]
    cuts = sorted(chance.random() for _ in range(PACE_KNOTS - 1))
    spans = [after - before for before, after in zip([0.0, *cuts], [*cuts, 1.0], strict=True)]
    # Stretch k takes spans[k] of the output and reads spans[k] * speeds[k] of the recording.
    read = [span * speed for span, speed in zip(spans, speeds, strict=True)]
    total = sum(read)
    places, edge, done = [], 0.0, 0.0
    stretches = list(zip(spans, read, strict=True))
    k = 0
    for start in range(0, length, _HOP):
        share = start / length
        while k < len(stretches) - 1 and share > edge + stretches[k][0]:
            edge += stretches[k][0]
            done += stretches[k][1]
            k += 1
        span, taken = stretches[k]
        places.append((done + taken * (share - edge) / max(span, 1e-9)) / total)
    return places


def _stretch(samples: list[float], length: int, loudness: float, chance: random.Random) -> list[float]:
    """``samples`` made ``length`` long at the same pitch: jittered overlap-add of Hann grains,
    read at a pace that changes along the digit (``_pace``)."""
    out = [0.0] * (length + GRAIN)
    last = max(len(samples) - GRAIN, 0)
    if len(samples) < GRAIN:
        samples = samples + [0.0] * (GRAIN - len(samples))
    gain = loudness
    for start, place in zip(range(0, length, _HOP), _pace(length, chance), strict=True):
        source = min(max(round(place * len(samples)) + chance.randint(-JITTER, JITTER), 0), last)
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


def _peak(hertz: float, decibels: float, q: float) -> tuple[float, float, float, float, float]:
    """A peaking filter's coefficients (RBJ biquad): b0, b1, b2, a1, a2."""
    amplitude = 10 ** (decibels / 40)
    omega = 2 * math.pi * hertz / RATE
    alpha = math.sin(omega) / (2 * q)
    cosine = math.cos(omega)
    a0 = 1 + alpha / amplitude
    return (
        (1 + alpha * amplitude) / a0,
        -2 * cosine / a0,
        (1 - alpha * amplitude) / a0,
        -2 * cosine / a0,
        (1 - alpha / amplitude) / a0,
    )


def _colour(samples: list[float], chance: random.Random) -> list[float]:
    """A tilt (first difference or sum) at random, and a peak or notch (RBJ biquad) that
    sweeps, along the digit, from one random frequency and gain to another."""
    tilt = chance.uniform(*TILT)
    samples = [value + tilt * before for value, before in zip(samples, [0.0, *samples[:-1]], strict=True)]
    low, high = math.log(PEAK_HZ[0]), math.log(PEAK_HZ[1])
    hertz_from, hertz_to = chance.uniform(low, high), chance.uniform(low, high)
    gain_from, gain_to = chance.uniform(*PEAK_DB), chance.uniform(*PEAK_DB)
    q = chance.uniform(0.7, 2.0)
    # Scaled back so that the tilt and the peak change the colour, not the loudness.
    scale = 1 / (1 + abs(tilt))
    out: list[float] = []
    x1 = x2 = y1 = y2 = 0.0
    blocks = max(len(samples) // _SWEEP_BLOCK, 1)
    for block in range(0, len(samples), _SWEEP_BLOCK):
        share = min(block / _SWEEP_BLOCK / blocks, 1.0)
        b0, b1, b2, a1, a2 = _peak(
            math.exp(hertz_from + (hertz_to - hertz_from) * share),
            gain_from + (gain_to - gain_from) * share,
            q,
        )
        for x in samples[block : block + _SWEEP_BLOCK]:
            y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
            x2, x1, y2, y1 = x1, x, y1, y
            out.append(y * scale)
    return out


# Two chains of first-order all-pass filters whose outputs differ in phase by 90 degrees
# across 40-3960 Hz at 8 kHz (Olli Niemitalo's coefficients, squared): a Hilbert pair.
_QUADRATURE = (
    tuple(a * a for a in (0.6923878, 0.9360654322959, 0.9882295226860, 0.9987488452737)),
    tuple(a * a for a in (0.4021921162426, 0.8561710882420, 0.9722909545651, 0.9952884791278)),
)


def _shift(samples: list[float], start_hertz: float, end_hertz: float) -> list[float]:
    """Every frequency of ``samples`` moved up by a number of hertz gliding from
    ``start_hertz`` to ``end_hertz`` (single-sideband modulation): unlike a change of speed,
    the harmonics and formants move by one number of hertz, not one ratio, so that no speed
    of a recording lines up with all of them, and the number changes along the digit."""
    (c1, c2, c3, c4), (d1, d2, d3, d4) = _QUADRATURE
    # Each section: y[n] = c * (x[n] + y[n-2]) - x[n-2]; states: (x[n-1], x[n-2], y[n-1], y[n-2]).
    state = [0.0] * 32
    cosine, sine = 1.0, 0.0
    out: list[float] = []
    real_delay = 0.0
    steps = max(len(samples) - 1, 1)
    for n, x in enumerate(samples):
        if n % _SWEEP_BLOCK == 0:
            step = 2 * math.pi * (start_hertz + (end_hertz - start_hertz) * n / steps) / RATE
            rotate_cos, rotate_sin = math.cos(step), math.sin(step)
        a = x
        for index, c in enumerate((c1, c2, c3, c4)):
            base = 4 * index
            y = c * (a + state[base + 3]) - state[base + 1]
            state[base + 1], state[base] = state[base], a
            state[base + 3], state[base + 2] = state[base + 2], y
            a = y
        real, real_delay = real_delay, a
        b = x
        for index, d in enumerate((d1, d2, d3, d4)):
            base = 16 + 4 * index
            y = d * (b + state[base + 3]) - state[base + 1]
            state[base + 1], state[base] = state[base], b
            state[base + 3], state[base + 2] = state[base + 2], y
            b = y
        out.append(real * cosine + b * sine)
        cosine, sine = cosine * rotate_cos - sine * rotate_sin, sine * rotate_cos + cosine * rotate_sin
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
    return _shift(out, chance.uniform(*SHIFT_HZ), chance.uniform(*SHIFT_HZ))


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


def _louder_between(track: list[float], spans: list[tuple[int, int]], start: int, boost: float) -> None:
    """The background between the digits (after ``start``) made ``boost`` times louder, in and
    out over ``_RAMP`` samples, so that the pauses are as busy as the digits."""
    edges = [start, *(edge for span in spans for edge in span), len(track)]
    for first, last in zip(edges[::2], edges[1::2], strict=True):
        ramp = min(_RAMP, (last - first) // 2)
        for n in range(first, last):
            near = min(n - first, last - 1 - n)
            track[n] *= boost if near >= ramp else 1 + (boost - 1) * near / ramp


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
    _louder_between(background, spans, len(beeps), chance.uniform(*PAUSE_BABBLE))
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
