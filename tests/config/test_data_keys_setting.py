"""DATA_KEYS: refused unset in production, or malformed anywhere; generated under VAR_DIR in
development, once, and shared by every process of the machine."""

import pytest

from config import load_settings
from queue_service.store import connect
from tests.factories import DATA_KEYS

PRODUCTION = {"APP_ENV": "production", "SECRET_KEY": "s" * 32}


def test_production_without_data_keys_is_refused_naming_it():
    with pytest.raises(ValueError, match="DATA_KEYS must be set when APP_ENV=production"):
        load_settings(PRODUCTION)
    assert load_settings({**PRODUCTION, "DATA_KEYS": DATA_KEYS})["DATA_KEYS"] == DATA_KEYS


def test_malformed_data_keys_are_refused_in_development_too():
    with pytest.raises(ValueError, match="DATA_KEYS entry 2 \\(k2\\): the key must be base64"):
        load_settings({"DATA_KEYS": f"{DATA_KEYS},k2:c2hvcnQ="})


def test_development_generates_one_key_under_var_dir_owner_only(tmp_path):
    settings = {"DATA_KEYS": None, "VAR_DIR": str(tmp_path / "var")}
    first = connect.data_keyring(settings)
    assert first == connect.data_keyring(settings) and first.sealing_id == "local"
    assert (tmp_path / "var" / "data_keys").stat().st_mode & 0o777 == 0o600
    assert connect.data_keyring({**settings, "DATA_KEYS": DATA_KEYS}).sealing_id == "t1"
