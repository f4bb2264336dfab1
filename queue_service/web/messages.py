"""User-facing text of the API in Bahasa Indonesia (default) and English.

Error messages depend only on the error code (and the field message keys), never on
the request, so equal refusals are byte-for-byte equal.
"""

from __future__ import annotations

DEFAULT_LOCALE = "id"
LOCALES = ("id", "en")

ERRORS: dict[str, tuple[str, str]] = {
    "bad_request": ("Permintaan tidak dapat dibaca: kirim JSON dengan tipe data yang benar.",
                    "The request could not be read: send JSON with the right types."),
    "unauthorized": ("Token tidak ada atau tidak valid.", "Missing or invalid token."),
    "forbidden": ("Anda tidak berhak atas sumber ini.", "You may not access this resource."),
    "captcha_failed": ("Captcha salah atau kedaluwarsa. Minta captcha baru dan coba lagi.",
                       "Wrong or expired captcha. Get a new one and try again."),
    "not_found": ("Data tidak ditemukan.", "Not found."),
    "method_not_allowed": ("Metode HTTP ini tidak didukung untuk alamat ini.",
                           "This HTTP method is not allowed here."),
    "slot_full": ("Jam kedatangan ini sudah penuh. Pilih jam lain.",
                  "This arrival slot is full. Choose another."),
    "day_full": ("Kuota antrian online untuk tanggal ini sudah habis. Pilih tanggal lain.",
                 "The day's online quota is used up. Choose another date."),
    "already_booked": ("NIK ini sudah memiliki antrian aktif pada tanggal tersebut.",
                       "This NIK already holds an active booking on that date."),
    "not_bookable": ("Tanggal atau jam ini tidak dapat dipesan (kantor tutup, di luar jadwal, "
                     "atau pemesanan sudah ditutup).",
                     "This date or slot cannot be booked (closed, outside the schedule, "
                     "or booking has closed)."),
    "wrong_branch": ("Antrian ini untuk kantor cabang lain.",
                     "This booking is for another branch."),
    "wrong_date": ("Antrian ini bukan untuk hari ini.", "This booking is not for today."),
    "too_early": ("Terlalu awal untuk check-in. Silakan kembali mendekati jam kedatangan.",
                  "Too early to check in. Come back closer to your slot."),
    "too_late": ("Sudah terlambat untuk tindakan ini.", "Too late for this."),
    "cancelled": ("Antrian ini sudah dibatalkan.", "This booking has been cancelled."),
    "walk_ins_full": ("Kuota antrian langsung (tanpa pesan) hari ini sudah habis.",
                      "Today's places for walk-ins are used up."),
    "closed_now": ("Kantor cabang tidak melayani saat ini.",
                   "The branch office is not serving now."),
    "unsupported_media_type": ("Kirim isi permintaan sebagai JSON (Content-Type: application/json).",
                               "Send the request body as JSON (Content-Type: application/json)."),
    "validation_failed": ("Ada isian yang tidak valid.", "Some fields are not valid."),
    "rate_limited": ("Terlalu banyak permintaan. Coba lagi nanti.",
                     "Too many requests. Try again later."),
    "payload_too_large": ("Permintaan terlalu besar.", "The request is too large."),
    "unavailable": ("Layanan sedang tidak tersedia. Coba lagi sebentar lagi.",
                    "The service is unavailable. Try again shortly."),
    "internal_error": ("Terjadi kesalahan pada server. Coba lagi nanti.",
                       "Something went wrong on the server. Try again later."),
}

FIELDS: dict[str, tuple[str, str]] = {
    "required": ("Wajib diisi.", "Required."),
    "not_string": ("Harus berupa teks.", "Must be a string."),
    "unknown_field": ("Isian tidak dikenal.", "Unknown field."),
    "invalid_date": ("Tanggal harus berformat YYYY-MM-DD.", "Date must be YYYY-MM-DD."),
    "invalid_time": ("Jam harus berformat HH:MM.", "Time must be HH:MM."),
    "invalid_email": ("Alamat email tidak valid.", "Not a valid email address."),
    "invalid_id": ("Kode tidak valid.", "Not a valid id."),
    "too_long": ("Terlalu panjang.", "Too long."),
    "unknown_branch": ("Kantor cabang tidak dikenal.", "Unknown branch office."),
    "unknown_service": ("Layanan tidak dikenal.", "Unknown service."),
    "service_not_offered": ("Layanan ini tidak tersedia di kantor cabang tersebut.",
                            "This branch does not offer this service."),
    "nik_format": ("NIK harus 16 digit angka.", "NIK must be 16 digits."),
    "nik_province": ("Kode provinsi pada NIK (2 digit pertama) tidak dikenal.",
                     "The province code of the NIK (first 2 digits) is unknown."),
    "nik_birth_date": ("Tanggal lahir pada NIK (digit 7-12) tidak valid.",
                       "The birth date in the NIK (digits 7-12) is not valid."),
    "nik_sequence": ("Nomor urut pada NIK (4 digit terakhir) tidak valid.",
                     "The sequence number of the NIK (last 4 digits) is not valid."),
    "kpj_format": ("Nomor KPJ harus 11 digit angka.", "KPJ must be 11 digits."),
    "phone_format": ("Nomor HP tidak dapat dibaca.", "The phone number cannot be read."),
    "phone_not_indonesian": ("Nomor HP harus nomor Indonesia yang valid.",
                             "The phone must be a valid Indonesian number."),
    "phone_not_mobile": ("Nomor HP harus nomor seluler (08…), bukan telepon rumah.",
                         "The phone must be a mobile number (08…), not a landline."),
    "not_integer": ("Harus berupa bilangan bulat.", "Must be a whole number."),
    "not_boolean": ("Harus true atau false.", "Must be true or false."),
    "not_object": ("Harus berupa objek JSON.", "Must be a JSON object."),
    "not_list": ("Harus berupa daftar.", "Must be a list."),
    "at_least_0": ("Tidak boleh negatif.", "Must not be negative."),
    "at_least_1": ("Minimal 1.", "Must be at least 1."),
    "at_least_5": ("Minimal 5.", "Must be at least 5."),
    "at_most_90": ("Maksimal 90.", "Must be at most 90."),
    "at_most_100": ("Maksimal 100.", "Must be at most 100."),
    "unknown_weekday": ("Hari dikenal: mon, tue, wed, thu, fri, sat, sun.",
                        "Known days: mon, tue, wed, thu, fri, sat, sun."),
    "invalid_interval": ("Setiap jam layanan berupa [\"HH:MM\", \"HH:MM\"] antara 00:00 dan 24:00.",
                         "Each interval is [\"HH:MM\", \"HH:MM\"] between 00:00 and 24:00."),
    "interval_order": ("Jam mulai harus sebelum jam selesai.", "The start must come before the end."),
    "interval_overlap": ("Jam layanan tidak boleh tumpang tindih.", "Intervals must not overlap."),
    "slot_not_dividing": ("Panjang slot harus membagi habis setiap jam layanan.",
                          "The slot length must divide every interval."),
    "unknown_role": ("Peran: national_admin, branch_admin atau counter_staff.",
                     "Role: national_admin, branch_admin or counter_staff."),
    "password_length": ("Kata sandi 12 sampai 200 karakter.", "Passwords are 12 to 200 characters."),
    "invalid_username": ("Nama pengguna 3-64 karakter: a-z, 0-9, titik, garis bawah, strip.",
                         "Usernames are 3-64 characters of a-z, 0-9, '.', '_', '-'."),
    "branches_for_role": ("Admin nasional tanpa cabang, admin cabang minimal satu, petugas loket "
                          "tepat satu.", "A national admin names no branch, a branch admin "
                          "one or more, counter staff exactly one."),
    "not_found": ("Tidak ditemukan.", "Not found."),
    "unknown_account": ("Tidak ada petugas loket cabang ini dengan nama itu.",
                        "This branch has no counter staff of that name."),
    "username_taken": ("Nama pengguna sudah dipakai.", "This username is taken."),
    "account_rejected": ("Akun tidak dapat dibuat dengan isian ini.",
                         "The account cannot be made with these values."),
    "invalid_format": ("Format: json atau csv.", "Format: json or csv."),
    "days_range": ("Jumlah hari 1 sampai 92.", "Days: 1 to 92."),
    "name_length": ("Nama harus 3 sampai 100 karakter.", "Name must be 3 to 100 characters."),
    "name_characters": ("Nama hanya boleh berisi huruf, spasi dan tanda . ' -",
                        "Name may contain only letters, spaces and . ' -"),
}


# Messages that say more when the refusal carries it (``DomainError.message_args``).
DETAILED: dict[str, tuple[str, str]] = {
    "too_early": ("Terlalu awal untuk check-in. Check-in dibuka pukul {opens_at}.",
                  "Too early to check in. Check-in opens at {opens_at}."),
}


def error_message(code: str, locale: str = DEFAULT_LOCALE, args: dict | None = None) -> str:
    """The message for an error code (with ``args`` where a detailed message takes them)."""
    table = DETAILED if args and code in DETAILED else ERRORS
    texts = table.get(code, ERRORS["internal_error"])
    text = texts[LOCALES.index(locale) if locale in LOCALES else 0]
    return text.format(**args) if table is DETAILED else text


def field_message(key: str, locale: str = DEFAULT_LOCALE) -> str:
    """The message for a field message key; unknown keys are returned as they are."""
    texts = FIELDS.get(key)
    if texts is None:
        return key
    return texts[LOCALES.index(locale) if locale in LOCALES else 0]
