"""store.sealing: AES-GCM under DATA_KEYS, each value bound to its record and field."""

import base64

import pytest

from queue_service.store.sealing import DataKeysError, Keyring, SealError, new_key_entry

K1 = "k1:" + base64.b64encode(b"1" * 32).decode()
K2 = "k2:" + base64.b64encode(b"2" * 32).decode()
RECORD = "antrian:{b:jakarta-salemba}:booking:7K3QX9MZ2W"


def test_a_value_is_sealed_under_the_first_key_and_opened_by_any():
    rotated = Keyring.parse(f"{K2},{K1}")
    old = Keyring.parse(K1).seal("Budi Santoso", RECORD, "person")
    assert old.startswith("v1:k1:") and "Budi" not in old
    assert rotated.open(old, RECORD, "person") == "Budi Santoso"
    new = rotated.seal("Budi Santoso", RECORD, "person")
    assert new.startswith("v1:k2:") and rotated.sealed_with_first(new) and not rotated.sealed_with_first(old)
    assert new != rotated.seal("Budi Santoso", RECORD, "person")  # a fresh nonce each time


def test_a_value_sealed_with_a_dropped_key_fails_loudly_naming_it():
    sealed = Keyring.parse(K1).seal("3171011201900001", RECORD, "person")
    with pytest.raises(SealError, match="data key 'k1', which DATA_KEYS no longer holds"):
        Keyring.parse(K2).open(sealed, RECORD, "person")


@pytest.mark.parametrize(
    ("record", "field"), [("antrian:{b:jakarta-salemba}:booking:AAAAAAAAAA", "person"), (RECORD, "other")]
)
def test_a_value_moved_to_another_record_or_field_does_not_open(record, field):
    keyring = Keyring.parse(K1)
    sealed = keyring.seal("3171011201900001", RECORD, "person")
    with pytest.raises(SealError, match="altered, or not sealed for this record"):
        keyring.open(sealed, record, field)


def test_an_altered_or_clear_value_does_not_open():
    keyring = Keyring.parse(K1)
    sealed = keyring.seal("3171011201900001", RECORD, "person")
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(SealError):
        keyring.open(flipped, RECORD, "person")
    with pytest.raises(SealError, match="not a sealed value"):
        keyring.open("3171011201900001", RECORD, "person")


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("", "names no key"),
        ("k1", "entry 1: expected id:base64key"),
        ("k 1:" + K1[3:], "entry 1: expected id:base64key"),
        (f"{K1},{K1}", "entry 2: the id 'k1' is used twice"),
        ("k1:bm90IGEga2V5", "entry 1 (k1): the key must be base64 of 16, 24 or 32 bytes"),
        ("k1:!!!", "entry 1 (k1): the key must be base64"),
    ],
)
def test_malformed_data_keys_are_refused_naming_the_entry(text, names):
    with pytest.raises(DataKeysError, match=names.replace("(", r"\(").replace(")", r"\)")):
        Keyring.parse(text)


def test_a_new_entry_is_a_32_byte_key():
    entry = new_key_entry("2027")
    assert Keyring.parse(entry).sealing_id == "2027"
    assert len(base64.b64decode(entry.partition(":")[2])) == 32
