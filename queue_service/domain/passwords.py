"""Console passwords: the one policy a new password meets, its hash, and temporary passwords.

A password is at least ``MIN_PASSWORD_LENGTH`` characters, is not one of the common passwords
of the ``zxcvbn`` package's list (30,000 taken from leaked password sets, the most used
first), nor one of them with digits or signs put before or after it, nor a few characters
repeated, and neither equals nor contains its account's username. Length is what makes a
password hard to guess; the list refuses the long ones that are guessed first anyway
(``1qaz2wsx3edc``, ``password2024!``). Passwords are stored only as argon2 hashes.
"""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_PASSWORD_LENGTH = 12
# argon2 takes any length; a bound keeps a form from sending it megabytes to hash.
MAX_PASSWORD_LENGTH = 200
# A common password with digits or signs added around it is still a common one, when what is
# left is this long at least (shorter cores, "ab", would refuse half of all passwords).
_MIN_CORE = 4
# Fewer different characters than this is a repetition ("aaaaaaaaaaaa", "abababababab").
_MIN_DISTINCT = 5

_HASHER = PasswordHasher()
# Temporary passwords: letters and digits that are not mistaken for one another when read
# off a screen (no 0/O, 1/l/I), in four groups of five: 100 bits.
_TEMPORARY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"

# The problems ``problem`` names, with the sentence the command line prints for each.
TEXTS = {
    "password_length": f"a password needs at least {MIN_PASSWORD_LENGTH} characters (at most "
    f"{MAX_PASSWORD_LENGTH})",
    "password_common": "that password is among the most common ones: choose another",
    "password_contains_username": "a password may not contain the username",
}


def problem(password: str, username: str) -> str | None:
    """What keeps ``password`` from being ``username``'s new password (a key of ``TEXTS``),
    or None when it may be."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        return "password_length"
    folded = password.casefold()
    if username and username.casefold() in folded:
        return "password_contains_username"
    core = folded.strip("0123456789!@#$%^&*()-_=+.,;:?~ ")
    if (
        folded in _common()
        or (len(core) >= _MIN_CORE and core in _common())
        or len(set(folded)) < _MIN_DISTINCT
    ):
        return "password_common"
    return None


@functools.cache
def _common() -> frozenset[str]:
    """The common passwords, read once and only when first needed."""
    return frozenset(FREQUENCY_LISTS["passwords"])


def hash_password(password: str) -> str:
    """The argon2 hash of a console password (the policy is the caller's: ``problem``)."""
    return _HASHER.hash(password)


def verify(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches the hash ``stored``. Without a hash (no account, or one
    without a console password) a decoy is checked, so that both cost one argon2 run and the
    time taken tells nobody which usernames exist."""
    try:
        _HASHER.verify(stored or _DECOY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return stored is not None


def temporary_password() -> str:
    """A random password for an admin's reset, shown once (``abcde-fghij-kmnpq-rstuv``)."""
    groups = ("".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(5)) for _ in range(4))
    return "-".join(groups)


# Verified against when there is no hash, so that both cases cost one argon2 run.
_DECOY_HASH = _HASHER.hash(secrets.token_urlsafe(16))
