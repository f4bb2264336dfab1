"""The one password policy (issue 22): length, the common passwords of zxcvbn's list (also
with digits or signs around them, and repetitions), and never the username."""

from __future__ import annotations

import pytest

from queue_service.domain import passwords


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("pendek", "password_length"),
        ("x" * 11, "password_length"),
        ("kata sandi " + "x" * 190, "password_length"),
        ("1qaz2wsx3edc", "password_common"),
        ("QWERTY123456", "password_common"),
        ("password2024!", "password_common"),
        ("!!sunshine!!!", "password_common"),
        ("aaaaaaaaaaaaaaa", "password_common"),
        ("abababababababab", "password_common"),
        ("loket.budi.2026", "password_contains_username"),
        ("BUDI tiap pagi", "password_contains_username"),
        ("kata sandi panjang", None),
        ("Kopi susu di Salemba 7", None),
    ],
)
def test_a_new_password_meets_one_policy(password, problem):
    assert passwords.problem(password, "budi") == problem


def test_temporary_passwords_are_random_readable_and_pass_the_policy():
    made = {passwords.temporary_password() for _ in range(50)}
    assert len(made) == 50
    for temporary in made:
        groups = temporary.split("-")
        assert [len(group) for group in groups] == [5, 5, 5, 5]
        assert not set(temporary) & set("01lIO")
        assert passwords.problem(temporary, "budi") is None
