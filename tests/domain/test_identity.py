import pytest

from queue_service.domain import identity, privacy
from queue_service.domain.codes import ALPHABET, LENGTH, new_code, normalise_code


@pytest.mark.parametrize(
    "nik", ["3171011201900001", "3171015201900001", "9601012902000001", "1101010101010001"]
)
def test_valid_niks_pass(nik):
    assert identity.check_nik(nik) == nik


@pytest.mark.parametrize(
    ("nik", "key"),
    [
        ("317101120190001", "nik_format"),  # 15 digits
        ("31710112019000a1", "nik_format"),
        ("9971011201900001", "nik_province"),  # 99 is no province
        ("3171013201900001", "nik_birth_date"),  # day 32
        ("3171017201900001", "nik_birth_date"),  # day 72 - 40 = 32
        ("3171011213900001", "nik_birth_date"),  # month 13
        ("3171012902010001", "nik_birth_date"),  # 29 Feb 1901 and 2001 never existed
        ("3171011201900000", "nik_sequence"),
    ],
)
def test_invalid_niks_name_the_fault(nik, key):
    with pytest.raises(ValueError, match=key):
        identity.check_nik(nik)


@pytest.mark.parametrize("nik", ["３１７１０１１２０１９００００１", "٣١٧١٠١١٢٠١٩٠٠٠٠١"])
def test_only_ascii_digits_make_a_nik(nik):
    # Other scripts' digits would let one NIK book a date once per spelling.
    with pytest.raises(ValueError, match="nik_format"):
        identity.check_nik(nik)
    with pytest.raises(ValueError, match="kpj_format"):
        identity.check_kpj(nik[:11])


def test_long_punctuation_runs_in_names_are_refused():
    # The old pattern backtracked exponentially on these: seconds at 25 characters, hours at 100.
    for name in ("a" + "." * 97 + "1", "a" + "-" * 60 + "b" * 30 + "1", "a" + ". " * 49 + "!"):
        with pytest.raises(ValueError, match="name_characters"):
            identity.check_name(name)


def test_women_add_forty_to_the_birth_day():
    assert identity.check_nik("3171015201900001")  # 52 -> 12
    with pytest.raises(ValueError, match="nik_birth_date"):
        identity.check_nik("3171010001900001")  # day 0


def test_kpj_is_eleven_digits():
    assert identity.check_kpj("12345678901") == "12345678901"
    for bad in ("1234567890", "123456789012", "1234567890a"):
        with pytest.raises(ValueError, match="kpj_format"):
            identity.check_kpj(bad)


@pytest.mark.parametrize("typed", ["081234567890", "0812-3456-7890", "+62 812 3456 7890", "6281234567890"])
def test_mobile_numbers_normalise_to_e164(typed):
    assert identity.check_phone(typed) == "+6281234567890"


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("0215551234", "phone_not_mobile"),  # a Jakarta landline
        ("+6591234567", "phone_not_indonesian"),  # Singapore
        ("hello", "phone_format"),
        ("0812", "phone_not_indonesian"),
    ],
)
def test_bad_phones_name_the_fault(typed, key):
    with pytest.raises(ValueError, match=key):
        identity.check_phone(typed)


def test_names_allow_letters_spaces_and_punctuation():
    assert identity.check_name("  Siti   Nur'aini-Putri S.Kom. ") == "Siti Nur'aini-Putri S.Kom."
    assert identity.check_name("Ñoño Ärlé") == "Ñoño Ärlé"
    for bad, key in (
        ("Al", "name_length"),
        ("x" * 101, "name_length"),
        ("Budi 2", "name_characters"),
        ("<script>", "name_characters"),
    ):
        with pytest.raises(ValueError, match=key):
            identity.check_name(bad)


def test_masks_keep_only_the_ends():
    assert privacy.mask_nik("3174011201900001") == "3174********0001"
    assert privacy.mask_phone("+6281234565678") == "+62812****5678"


def test_codes_are_crockford_and_forgiving():
    code = new_code()
    assert len(code) == LENGTH and all(ch in ALPHABET for ch in code)
    assert normalise_code(code.lower()) == code
    assert normalise_code(f" {code[:5]}-{code[5:]} ") == code
    assert normalise_code("ILO0012345") == "1100012345"
    assert normalise_code("UUUUUUUUUU") is None
    assert normalise_code("ABC") is None
    assert len({new_code() for _ in range(1000)}) == 1000
