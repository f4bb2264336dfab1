"""The audio captcha's clips (queue_service/domain/captcha/speech.py): a WAV of the digits in
Bahasa Indonesia, the same for one challenge at every rendering, another for every
challenge, and every digit well above the babble and noise under it. The machine solver
is tests/domain/test_captcha_audio_solver.py."""

from __future__ import annotations

import io
import math
import wave

from queue_service.domain.captcha import speech
from queue_service.domain.captcha.gate import SelfHostedCaptcha

SECRET = b"a deployment's secret key"


def test_a_clip_is_an_8_khz_8_bit_wav_of_a_few_seconds():
    clip = speech.speak("482913", speech.clip_seed(SECRET, "challenge"))

    with wave.open(io.BytesIO(clip)) as opened:
        assert (opened.getframerate(), opened.getsampwidth(), opened.getnchannels()) == (8000, 1, 1)
        assert 5 < opened.getnframes() / 8000 < 14
    assert len(clip) < 110_000


def test_the_shipped_voices_say_every_digit():
    bank = speech.recordings()

    assert len(bank) >= 4
    for digits in bank.values():
        assert len(digits) == 10
        assert all(0.2 < len(samples) / speech.RATE < 1.0 for samples in digits)


def test_one_challenge_one_clip_another_challenge_or_deployment_another():
    seed = speech.clip_seed(SECRET, "challenge-1")

    assert speech.speak("482913", seed) == speech.speak("482913", seed)
    assert speech.speak("482913", speech.clip_seed(SECRET, "challenge-2")) != speech.speak("482913", seed)
    assert speech.speak("482913", speech.clip_seed(b"another deployment", "challenge-1")) != speech.speak(
        "482913", seed
    )


def test_the_gate_speaks_a_challenge_with_its_deployments_secret(redis_server, redis):
    import redis as redis_lib

    binary = redis_lib.Redis.from_url(redis_server.url)
    gate = SelfHostedCaptcha(binary, ttl_seconds=60, answer_factory=lambda: "482913", secret=SECRET)
    challenge = gate.create()

    assert gate.audio(challenge.id) == speech.speak("482913", speech.clip_seed(SECRET, challenge.id))
    binary.close()


def rms(samples: list[float]) -> float:
    return math.sqrt(sum(value * value for value in samples) / len(samples))


def test_every_digit_stands_well_above_the_babble_and_noise_under_it():
    for number in range(20):
        voices, background, spans = speech.tracks("0123456789", speech.clip_seed(SECRET, f"c{number}"))
        assert len(spans) == 10
        for start, end in spans:
            snr = 20 * math.log10(rms(voices[start:end]) / rms(background[start:end]))
            assert snr >= speech.MIN_SNR_DB, (number, start, snr)
        # And nothing clips: the loudest sample fits in 8 bits.
        assert (
            max(abs(a + b) for a, b in zip(voices, background, strict=True)) * speech.OUTPUT_GAIN < 128 * 256
        )
