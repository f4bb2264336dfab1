"""User-facing text of the API (and of the pages' refusals) in Bahasa Indonesia, the
default, and English.

The texts are written in Indonesian and translated by the same Flask-Babel catalogs as the
pages (``web/translations``; ``N_`` marks them for ``make extract-messages``). Error
messages depend only on the error code (and the field message keys), never on the
request, so equal refusals are byte-for-byte equal.
"""

from __future__ import annotations

from flask_babel import force_locale, gettext

DEFAULT_LOCALE = "id"
LOCALES = ("id", "en")


def N_(text: str) -> str:  # noqa: N802 (the name gettext's tools look for)
    """Mark ``text`` for the catalogs; it is translated where it is shown."""
    return text


ERRORS: dict[str, str] = {
    "bad_request": N_("Permintaan tidak dapat dibaca: kirim JSON dengan tipe data yang benar."),
    "unauthorized": N_("Token tidak ada atau tidak valid."),
    "forbidden": N_("Anda tidak berhak atas sumber ini."),
    "captcha_failed": N_("Captcha salah atau kedaluwarsa. Minta captcha baru dan coba lagi."),
    "not_found": N_("Data tidak ditemukan."),
    "method_not_allowed": N_("Metode HTTP ini tidak didukung untuk alamat ini."),
    "slot_full": N_("Jam kedatangan ini sudah penuh. Pilih jam lain."),
    "day_full": N_("Kuota antrian online untuk tanggal ini sudah habis. Pilih tanggal lain."),
    "already_booked": N_("NIK ini sudah memiliki antrian aktif pada tanggal tersebut."),
    "too_many_bookings": N_(
        "Nomor HP ini sudah memiliki batas jumlah antrian aktif. Batalkan salah satu antrian "
        "Anda atau tunggu hingga kunjungannya lewat."
    ),
    "verification_failed": N_(
        "Kode verifikasi salah. Periksa SMS terakhir dari kami; setelah 3 kali salah, "
        "antrian yang ditahan dilepas."
    ),
    "not_admitted": N_(
        "Pemesanan di kantor cabang ini sedang melalui ruang tunggu. Masuk ke ruang tunggu "
        "dan pesan setelah giliran Anda tiba."
    ),
    "hold_expired": N_(
        "Waktu verifikasi habis atau kode salah terlalu sering, sehingga antrian yang ditahan "
        "sudah dilepas. Silakan pesan lagi."
    ),
    "offer_expired": N_(
        "Waktu tawaran daftar tunggu sudah habis, sehingga tempatnya diberikan kepada peserta berikutnya."
    ),
    "not_full": N_("Masih ada tempat kosong pada tanggal dan jam ini: silakan langsung pesan antrian."),
    "not_offered": N_("Belum ada tempat yang ditawarkan untuk Anda. Kami akan mengirim pesan bila ada."),
    "already_accepted": N_(
        "Tawaran ini sudah Anda terima dan kini menjadi antrian. Untuk membatalkannya, batalkan antriannya."
    ),
    "not_bookable": N_(
        "Tanggal atau jam ini tidak dapat dipesan (kantor tutup, di "
        "luar jadwal, atau pemesanan sudah ditutup)."
    ),
    "wrong_branch": N_("Antrian ini untuk kantor cabang lain."),
    "wrong_date": N_("Antrian ini bukan untuk hari ini."),
    "too_early": N_("Terlalu awal untuk check-in. Silakan kembali mendekati jam kedatangan."),
    "too_late": N_("Sudah terlambat untuk tindakan ini."),
    "cancelled": N_("Antrian ini sudah dibatalkan."),
    "walk_ins_full": N_("Kuota antrian langsung (tanpa pesan) hari ini sudah habis."),
    "closed_now": N_("Kantor cabang tidak melayani saat ini."),
    "unsupported_media_type": N_("Kirim isi permintaan sebagai JSON (Content-Type: application/json)."),
    "validation_failed": N_("Ada isian yang tidak valid."),
    "rate_limited": N_("Terlalu banyak permintaan. Coba lagi nanti."),
    "payload_too_large": N_("Permintaan terlalu besar."),
    "unavailable": N_("Layanan sedang tidak tersedia. Coba lagi sebentar lagi."),
    "internal_error": N_("Terjadi kesalahan pada server. Coba lagi nanti."),
}

FIELDS: dict[str, str] = {
    "required": N_("Wajib diisi."),
    "not_string": N_("Harus berupa teks."),
    "unknown_field": N_("Isian tidak dikenal."),
    "invalid_date": N_("Tanggal harus berformat YYYY-MM-DD."),
    "date_in_past": N_("Tanggal itu sudah lewat."),
    # A closure of days (domain.closures): its last day against its first.
    "range_order": N_("Tanggal akhir tidak boleh sebelum tanggal mulai."),
    "range_too_long": N_("Paling lama 366 hari sekaligus."),
    "invalid_time": N_("Jam harus berformat HH:MM."),
    "invalid_email": N_("Alamat email tidak valid."),
    "invalid_id": N_("Kode tidak valid."),
    "too_long": N_("Terlalu panjang."),
    "unknown_branch": N_("Kantor cabang tidak dikenal."),
    "unknown_service": N_("Layanan tidak dikenal."),
    "service_not_offered": N_("Layanan ini tidak tersedia di kantor cabang tersebut."),
    "nik_format": N_("NIK harus 16 digit angka."),
    "nik_province": N_("Kode provinsi pada NIK (2 digit pertama) tidak dikenal."),
    "nik_birth_date": N_("Tanggal lahir pada NIK (digit 7-12) tidak valid."),
    "nik_sequence": N_("Nomor urut pada NIK (4 digit terakhir) tidak valid."),
    "kpj_format": N_("Nomor KPJ harus 11 digit angka."),
    "otp_format": N_("Kode verifikasi harus 6 digit angka."),
    # The participant registry rejects this NIK, KPJ and name together.
    "kpj_not_registered": N_("Nomor KPJ tidak cocok dengan data peserta untuk NIK dan nama ini."),
    "phone_format": N_("Nomor HP tidak dapat dibaca."),
    "phone_not_indonesian": N_("Nomor HP harus nomor Indonesia yang valid."),
    "phone_not_mobile": N_("Nomor HP harus nomor seluler (08…), bukan telepon rumah."),
    # Its owner sent BERHENTI/STOP (domain.opt_outs): the hold's code could not reach it.
    "phone_stopped": N_(
        "Nomor HP ini meminta berhenti menerima pesan (BERHENTI), jadi kode verifikasi tidak "
        "dapat dikirim. Kirim MULAI lewat WhatsApp ke nomor Antrian BPJSTK, lalu pesan lagi."
    ),
    # A booking's channel (domain.reservations.records.CHANNELS).
    "unknown_channel": N_("Saluran pesan: sms atau whatsapp."),
    "channel_unavailable": N_("Pesan lewat WhatsApp belum tersedia. Pilih SMS."),
    "not_integer": N_("Harus berupa bilangan bulat."),
    "not_boolean": N_("Harus true atau false."),
    "not_object": N_("Harus berupa objek JSON."),
    "not_list": N_("Harus berupa daftar."),
    "at_least_0": N_("Tidak boleh negatif."),
    "at_least_1": N_("Minimal 1."),
    "at_least_5": N_("Minimal 5."),
    "at_most_90": N_("Maksimal 90."),
    "at_most_100": N_("Maksimal 100."),
    "at_most_366": N_("Maksimal 366."),
    # The waiting room's (domain.tuning.ROOM_BOUNDS).
    "at_most_180": N_("Maksimal 180."),
    "at_most_720": N_("Maksimal 720."),
    "at_most_1000": N_("Maksimal 1.000."),
    "at_most_100000": N_("Maksimal 100.000."),
    "unknown_weekday": N_("Hari dikenal: mon, tue, wed, thu, fri, sat, sun."),
    "invalid_interval": N_('Setiap jam layanan berupa ["HH:MM", "HH:MM"] antara 00:00 dan 24:00.'),
    "interval_order": N_("Jam mulai harus sebelum jam selesai."),
    "interval_overlap": N_("Jam layanan tidak boleh tumpang tindih."),
    "slot_not_dividing": N_("Panjang slot harus membagi habis setiap jam layanan."),
    "unknown_role": N_("Peran: national_admin, branch_admin atau counter_staff."),
    "password_length": N_("Kata sandi 12 sampai 200 karakter."),
    "password_common": N_("Kata sandi ini termasuk yang paling sering dipakai. Pilih yang lain."),
    "password_contains_username": N_("Kata sandi tidak boleh memuat nama pengguna."),
    "password_unchanged": N_("Kata sandi baru sama dengan yang sekarang."),
    "password_mismatch": N_("Kedua isian kata sandi baru tidak sama."),
    "wrong_password": N_("Kata sandi sekarang salah."),
    "last_national_admin": N_("Harus tetap ada satu admin nasional yang aktif."),
    "account_busy": N_("Akun sedang diubah orang lain. Coba lagi."),
    "invalid_username": N_("Nama pengguna 3-64 karakter: a-z, 0-9, titik, garis bawah, strip."),
    "branches_for_role": N_(
        "Admin nasional tanpa cabang, admin cabang minimal satu, petugas loket tepat satu."
    ),
    "not_found": N_("Tidak ditemukan."),
    "unknown_account": N_("Tidak ada petugas loket cabang ini dengan nama itu."),
    "username_taken": N_("Nama pengguna sudah dipakai."),
    "account_rejected": N_("Akun tidak dapat dibuat dengan isian ini."),
    "invalid_format": N_("Format: json atau csv."),
    "days_range": N_("Jumlah hari 1 sampai 92."),
    "report_past_calendar": N_("Laporan tidak bisa melewati tahun 9999."),
    "name_length": N_("Nama harus 3 sampai 100 karakter."),
    "name_characters": N_("Nama hanya boleh berisi huruf, spasi dan tanda . ' -"),
    # The catalog (domain.catalog_changes).
    "invalid_slug": N_(
        "Kode: huruf kecil a-z dan angka, kata dipisah satu tanda strip (mis. jakarta-salemba), "
        "paling banyak 64 karakter."
    ),
    "id_taken": N_("Kode ini sudah dipakai."),
    "key_reused": N_("Kunci ini sudah dipakai untuk pemesanan dengan data lain."),
    "id_mismatch": N_("Kode tidak dapat diubah: harus sama dengan kode di alamat."),
    "duplicate_id": N_("Kode ini sudah dipakai di atasnya."),
    "text_format": N_("Wajib diisi, tanpa spasi di awal atau akhir dan tanpa karakter kontrol."),
    "too_many": N_("Terlalu banyak."),
    "unknown_area": N_("Wilayah tidak dikenal."),
    "unknown_timezone": N_("Zona waktu: Asia/Jakarta (WIB), Asia/Makassar (WITA) atau Asia/Jayapura (WIT)."),
    "prefix_format": N_("Satu huruf kapital, A sampai Z."),
    "prefix_taken": N_("Huruf antrian ini sudah dipakai layanan lain."),
    "has_bookings": N_("Tidak dapat diubah selama masih ada antrian mulai hari ini."),
    "reason_line": N_("Tulis setiap alasan sebagai: Nama alasan: dokumen; dokumen | catatan"),
}


# Messages that say more when the refusal carries it (``DomainError.message_args``).
DETAILED: dict[str, str] = {
    "too_early": N_("Terlalu awal untuk check-in. Check-in dibuka pukul %(opens_at)s."),
    # An erasure of a booking that still stands (errors.StillActiveError, code too_early).
    "still_active": N_(
        "Data antrian yang masih aktif belum dapat dihapus. Batalkan antriannya dulu, atau "
        "tunggu sampai hari kunjungannya lewat."
    ),
}


def error_message(code: str, locale: str = DEFAULT_LOCALE, args: dict | None = None) -> str:
    """The message for an error code in ``locale`` (with ``args`` where a detailed message
    takes them)."""
    detail = (args or {}).get("detail", code)  # one code may have several detailed messages
    if args and detail in DETAILED:
        return _translated(DETAILED[detail], locale, args)
    return _translated(ERRORS.get(code, ERRORS["internal_error"]), locale)


def field_message(key: str, locale: str = DEFAULT_LOCALE) -> str:
    """The message for a field message key; unknown keys are returned as they are."""
    text = FIELDS.get(key)
    return key if text is None else _translated(text, locale)


def _translated(text: str, locale: str, args: dict | None = None) -> str:
    with force_locale(locale if locale in LOCALES else DEFAULT_LOCALE):
        return gettext(text, **(args or {}))
