"""Regenerate the audio captcha's recordings: the digits spoken in Bahasa Indonesia.

    apt-get install espeak-ng        # only here; the service never runs it
    .venv/bin/python tools/make_captcha_voices.py

Writes ``queue_service/domain/captcha/voices/<voice>/<digit>.wav`` (8 kHz, mono, 16-bit
PCM), one folder per espeak-ng variant of its Indonesian voice in ``VOICES``: each digit's
word (``WORDS``) synthesised at espeak-ng's 22,050 Hz, low-passed and resampled to 8 kHz,
trimmed of leading and trailing silence and scaled to one loudness (RMS), so that the
rendering (``media.py``) needs to scale nothing. The files are package data
(``pyproject.toml``) and committed; run this again only to change the voices, then run
``tests/domain/test_captcha_audio*.py``.

Needs numpy (the test extra), which the service does not.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

WORDS = ("nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan")
# espeak-ng's Indonesian voice with variants of its voice (pitch, formants, breathiness) and
# of its synthesiser (klatt): a male, a deeper male, a woman and the klatt voice.
VOICES = ("id+m1", "id+m3", "id+f2", "id+klatt")
# Words a minute: a little slower than espeak-ng's 175, as a phone line's prompts speak.
WORDS_PER_MINUTE = 150
RATE = 8000
# The loudness every recording is scaled to (RMS of its speech, of 32,767).
TARGET_RMS = 4000
# Below this share of the loudest 10 ms, a 10 ms frame at either end counts as silence.
SILENCE_SHARE = 0.02

OUT = Path(__file__).resolve().parent.parent / "queue_service" / "domain" / "captcha" / "voices"


def speak(voice: str, word: str) -> tuple[np.ndarray, int]:
    """The word as espeak-ng says it: samples (float) and their rate."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "word.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(WORDS_PER_MINUTE), "-w", str(path), word], check=True
        )
        with wave.open(str(path)) as recording:
            assert recording.getsampwidth() == 2 and recording.getnchannels() == 1
            rate = recording.getframerate()
            samples = np.frombuffer(recording.readframes(recording.getnframes()), "<i2")
    return samples.astype(np.float64), rate


def resample(samples: np.ndarray, rate: int, new_rate: int) -> np.ndarray:
    """Windowed-sinc resampling (low-passed below the new Nyquist frequency)."""
    cutoff = 0.45 * new_rate / rate  # of the old rate: 3.6 kHz at 8 kHz
    taps = np.arange(-64, 65)
    length = round(len(samples) * new_rate / rate)
    positions = np.arange(length) * rate / new_rate
    out = np.zeros(length)
    padded = np.concatenate([np.zeros(64), samples, np.zeros(65)])
    for index, position in enumerate(positions):
        whole = int(position)
        offsets = taps - (position - whole)
        kernel = 2 * cutoff * np.sinc(2 * cutoff * offsets) * np.blackman(len(taps) + 2)[1:-1]
        out[index] = padded[whole + 64 + taps] @ kernel
    return out


def trim(samples: np.ndarray) -> np.ndarray:
    frame = RATE // 100
    frames = len(samples) // frame
    energy = np.array([np.abs(samples[i * frame : (i + 1) * frame]).max() for i in range(frames)])
    loud = np.flatnonzero(energy > SILENCE_SHARE * energy.max())
    return samples[loud[0] * frame : (loud[-1] + 1) * frame]


def make(voice: str, word: str) -> bytes:
    samples, rate = speak(voice, word)
    samples = trim(resample(samples, rate, RATE))
    samples *= TARGET_RMS / np.sqrt(np.mean(samples**2))
    # A 5 ms fade at either end, so that no clip starts or stops with a click.
    fade = np.linspace(0, 1, RATE // 200)
    samples[: len(fade)] *= fade
    samples[-len(fade) :] *= fade[::-1]
    return np.clip(np.round(samples), -32767, 32767).astype("<i2").tobytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    arguments = parser.parse_args()
    if shutil.which("espeak-ng") is None:
        raise SystemExit("espeak-ng is not installed (apt-get install espeak-ng)")
    total = 0
    for voice in VOICES:
        folder = arguments.out / voice.replace("+", "-")
        folder.mkdir(parents=True, exist_ok=True)
        for digit, word in enumerate(WORDS):
            frames = make(voice, word)
            with wave.open(str(folder / f"{digit}.wav"), "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(RATE)
                out.writeframes(frames)
            total += len(frames) + 44
    print(f"{len(VOICES)} voices x {len(WORDS)} digits in {arguments.out}: {total / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
