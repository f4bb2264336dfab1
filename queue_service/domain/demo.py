"""The demo catalog: real-sounding branch offices across Indonesia's three time zones."""

from __future__ import annotations

from redis import Redis

from queue_service.domain import calendar, catalog, schedules
from queue_service.domain.catalog import Area, Branch, Service
from queue_service.domain.requirements import N_

WIB, WITA, WIT = "Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"

SERVICES = [
    Service("jht", N_("Klaim Jaminan Hari Tua (JHT)"), "A"),
    Service("jkk", N_("Klaim Jaminan Kecelakaan Kerja (JKK)"), "B"),
    Service("jkm", N_("Klaim Jaminan Kematian (JKM)"), "C"),
    Service("jp", N_("Klaim Jaminan Pensiun (JP)"), "D"),
    Service("jkp", N_("Klaim Jaminan Kehilangan Pekerjaan (JKP)"), "E"),
    Service("registration", N_("Pendaftaran Peserta"), "F"),
    Service("card", N_("Penggantian Kartu Peserta"), "G"),
    Service("info", N_("Informasi dan Pengaduan"), "H"),
]
ALL_SERVICES = [service.id for service in SERVICES]
CLAIMS_ONLY = ["jht", "jkk", "jkm", "jp", "info"]

AREAS = [
    Area("dki-jakarta", "DKI Jakarta"),
    Area("jawa-barat", "Jawa Barat"),
    Area("banten", "Banten"),
    Area("jawa-tengah-diy", "Jawa Tengah dan DI Yogyakarta"),
    Area("jawa-timur", "Jawa Timur"),
    Area("sumatera-utara", "Sumatera Utara dan Aceh"),
    Area("sumatera-barat-riau", "Sumatera Barat, Riau dan Kepulauan Riau"),
    Area("sumatera-selatan", "Sumatera Selatan, Jambi, Bengkulu dan Lampung"),
    Area("kalimantan", "Kalimantan"),
    Area("bali-nusa-tenggara", "Bali, NTB dan NTT"),
    Area("sulawesi", "Sulawesi"),
    Area("maluku-papua", "Maluku dan Papua"),
]

# (id, name, area, address, time zone, services, online booking, daily quota)
_BRANCHES = [
    ("jakarta-salemba", "Jakarta Salemba", "dki-jakarta",
     "Jl. Salemba Raya No. 55, Paseban, Senen, Jakarta Pusat 10440", WIB, ALL_SERVICES, True, 160),
    ("jakarta-menara-jamsostek", "Jakarta Menara Jamsostek", "dki-jakarta",
     "Jl. Jend. Gatot Subroto No. 38, Kuningan Barat, Mampang Prapatan, Jakarta Selatan 12710",
     WIB, ALL_SERVICES, True, 200),
    ("jakarta-cilandak", "Jakarta Cilandak", "dki-jakarta",
     "Jl. TB Simatupang Kav. 18, Cilandak Barat, Jakarta Selatan 12430", WIB, ALL_SERVICES,
     True, 120),
    ("jakarta-kelapa-gading", "Jakarta Kelapa Gading", "dki-jakarta",
     "Jl. Boulevard Barat Raya Blok LC 6 No. 35, Kelapa Gading, Jakarta Utara 14240", WIB,
     ALL_SERVICES, True, 120),
    ("jakarta-grogol", "Jakarta Grogol", "dki-jakarta",
     "Jl. Letjen S. Parman Kav. 12, Grogol Petamburan, Jakarta Barat 11440", WIB, ALL_SERVICES,
     True, 120),
    ("jakarta-rawamangun", "Jakarta Rawamangun", "dki-jakarta",
     "Jl. Pemuda No. 70, Rawamangun, Pulo Gadung, Jakarta Timur 13220", WIB, CLAIMS_ONLY,
     False, 80),
    ("bandung-suci", "Bandung Suci", "jawa-barat",
     "Jl. PHH. Mustofa No. 39, Cikutra, Cibeunying Kidul, Kota Bandung 40124", WIB, ALL_SERVICES,
     True, 140),
    ("bandung-lodaya", "Bandung Lodaya", "jawa-barat",
     "Jl. Lodaya No. 42, Malabar, Lengkong, Kota Bandung 40262", WIB, ALL_SERVICES, True, 120),
    ("bekasi", "Bekasi", "jawa-barat",
     "Jl. Ahmad Yani No. 1, Kayuringin Jaya, Bekasi Selatan, Kota Bekasi 17144", WIB,
     ALL_SERVICES, True, 150),
    ("bogor-kota", "Bogor Kota", "jawa-barat",
     "Jl. Pajajaran No. 121, Bantarjati, Bogor Utara, Kota Bogor 16153", WIB, ALL_SERVICES,
     True, 100),
    ("cirebon", "Cirebon", "jawa-barat",
     "Jl. Dr. Cipto Mangunkusumo No. 102, Pekiringan, Kesambi, Kota Cirebon 45131", WIB,
     CLAIMS_ONLY, False, 60),
    ("tangerang-cikokol", "Tangerang Cikokol", "banten",
     "Jl. Jend. Sudirman No. 3, Cikokol, Kota Tangerang 15117", WIB, ALL_SERVICES, True, 150),
    ("serang", "Serang", "banten",
     "Jl. Jend. Ahmad Yani No. 140, Sumurpecung, Serang, Kota Serang 42118", WIB, ALL_SERVICES,
     True, 90),
    ("cilegon", "Cilegon", "banten",
     "Jl. Jend. Sudirman No. 10, Ramanuju, Purwakarta, Kota Cilegon 42431", WIB, CLAIMS_ONLY,
     True, 70),
    ("semarang-majapahit", "Semarang Majapahit", "jawa-tengah-diy",
     "Jl. Majapahit No. 305, Pedurungan Kidul, Pedurungan, Kota Semarang 50192", WIB,
     ALL_SERVICES, True, 130),
    ("surakarta", "Surakarta", "jawa-tengah-diy",
     "Jl. Slamet Riyadi No. 472, Purwosari, Laweyan, Kota Surakarta 57142", WIB, ALL_SERVICES,
     True, 100),
    ("yogyakarta", "Yogyakarta", "jawa-tengah-diy",
     "Jl. Urip Sumoharjo No. 58, Klitren, Gondokusuman, Kota Yogyakarta 55222", WIB,
     ALL_SERVICES, True, 110),
    ("surabaya-karimunjawa", "Surabaya Karimunjawa", "jawa-timur",
     "Jl. Karimunjawa No. 2, Gubeng, Kota Surabaya 60281", WIB, ALL_SERVICES, True, 160),
    ("surabaya-rungkut", "Surabaya Rungkut", "jawa-timur",
     "Jl. Rungkut Industri Raya No. 10, Rungkut, Kota Surabaya 60293", WIB, ALL_SERVICES,
     True, 140),
    ("malang", "Malang", "jawa-timur",
     "Jl. Letjen S. Parman No. 48, Purwantoro, Blimbing, Kota Malang 65122", WIB, ALL_SERVICES,
     True, 110),
    ("sidoarjo", "Sidoarjo", "jawa-timur",
     "Jl. Raya Jati No. 2, Pagerwojo, Buduran, Kabupaten Sidoarjo 61252", WIB, ALL_SERVICES,
     True, 120),
    ("medan-kota", "Medan Kota", "sumatera-utara",
     "Jl. Pengadilan No. 8, Petisah Tengah, Medan Petisah, Kota Medan 20112", WIB, ALL_SERVICES,
     True, 130),
    ("banda-aceh", "Banda Aceh", "sumatera-utara",
     "Jl. Tgk. H. Mohd. Daud Beureueh No. 33, Bandar Baru, Kuta Alam, Kota Banda Aceh 24415",
     WIB, ALL_SERVICES, True, 80),
    ("padang", "Padang", "sumatera-barat-riau",
     "Jl. Khatib Sulaiman No. 51, Lolong Belanti, Padang Utara, Kota Padang 25136", WIB,
     ALL_SERVICES, True, 90),
    ("pekanbaru-kota", "Pekanbaru Kota", "sumatera-barat-riau",
     "Jl. Jend. Sudirman No. 219, Suka Mulia, Sail, Kota Pekanbaru 28127", WIB, ALL_SERVICES,
     True, 110),
    ("batam-nagoya", "Batam Nagoya", "sumatera-barat-riau",
     "Jl. Raden Patah No. 1, Lubuk Baja Kota, Lubuk Baja, Kota Batam 29432", WIB, ALL_SERVICES,
     True, 130),
    ("palembang", "Palembang", "sumatera-selatan",
     "Jl. Kapten A. Rivai No. 1020, Sungai Pangeran, Ilir Timur I, Kota Palembang 30129", WIB,
     ALL_SERVICES, True, 120),
    ("bandar-lampung", "Bandar Lampung", "sumatera-selatan",
     "Jl. Wolter Monginsidi No. 168, Talang, Teluk Betung Selatan, Kota Bandar Lampung 35221",
     WIB, ALL_SERVICES, True, 100),
    ("pontianak", "Pontianak", "kalimantan",
     "Jl. Jend. Ahmad Yani No. 7, Bansir Laut, Pontianak Tenggara, Kota Pontianak 78124", WIB,
     ALL_SERVICES, True, 90),
    ("balikpapan", "Balikpapan", "kalimantan",
     "Jl. Jend. Sudirman No. 30, Klandasan Ilir, Balikpapan Kota, Kota Balikpapan 76113", WITA,
     ALL_SERVICES, True, 100),
    ("samarinda", "Samarinda", "kalimantan",
     "Jl. Basuki Rahmat No. 70, Pelabuhan, Samarinda Kota, Kota Samarinda 75112", WITA,
     ALL_SERVICES, True, 90),
    ("banjarmasin", "Banjarmasin", "kalimantan",
     "Jl. Lambung Mangkurat No. 19, Kertak Baru Ilir, Banjarmasin Tengah, Kota Banjarmasin 70111",
     WITA, ALL_SERVICES, True, 90),
    ("denpasar", "Denpasar", "bali-nusa-tenggara",
     "Jl. Dr. Kusuma Atmaja No. 9, Dangin Puri Kangin, Denpasar Utara, Kota Denpasar 80233",
     WITA, ALL_SERVICES, True, 110),
    ("mataram", "Mataram", "bali-nusa-tenggara",
     "Jl. Pejanggik No. 45, Mataram Timur, Mataram, Kota Mataram 83121", WITA, ALL_SERVICES,
     True, 80),
    ("kupang", "Kupang", "bali-nusa-tenggara",
     "Jl. Frans Seda No. 12, Fatululi, Oebobo, Kota Kupang 85111", WITA, CLAIMS_ONLY, False, 50),
    ("makassar", "Makassar", "sulawesi",
     "Jl. Jend. Urip Sumoharjo No. 269, Panaikang, Panakkukang, Kota Makassar 90231", WITA,
     ALL_SERVICES, True, 130),
    ("manado", "Manado", "sulawesi",
     "Jl. Piere Tendean No. 80, Wenang Selatan, Wenang, Kota Manado 95111", WITA, ALL_SERVICES,
     True, 90),
    ("kendari", "Kendari", "sulawesi",
     "Jl. Edi Sabara No. 27, Korumba, Mandonga, Kota Kendari 93111", WITA, CLAIMS_ONLY, True, 60),
    ("ambon", "Ambon", "maluku-papua",
     "Jl. Diponegoro No. 6, Ahusen, Sirimau, Kota Ambon 97127", WIT, ALL_SERVICES, True, 70),
    ("jayapura", "Jayapura", "maluku-papua",
     "Jl. Ahmad Yani No. 12, Gurabesi, Jayapura Utara, Kota Jayapura 99111", WIT, ALL_SERVICES,
     True, 80),
    ("sorong", "Sorong", "maluku-papua",
     "Jl. Jend. Ahmad Yani No. 88, Klaligi, Sorong Manoi, Kota Sorong 98412", WIT, CLAIMS_ONLY,
     True, 50),
    ("merauke", "Merauke", "maluku-papua",
     "Jl. Raya Mandala No. 21, Maro, Merauke, Kabupaten Merauke 99614", WIT, CLAIMS_ONLY,
     False, 40),
]

BRANCHES = [Branch(id, name, area, address, tz, list(services))
            for id, name, area, address, tz, services, _online, _quota in _BRANCHES]

WEEKDAY_HOURS = [["08:00", "12:00"], ["13:00", "15:00"]]
FRIDAY_HOURS = [["08:00", "11:30"], ["13:30", "15:00"]]


def default_settings(online_booking: bool, daily_quota: int) -> schedules.BranchSettings:
    """The demo schedule: Monday-Thursday with a lunch hour, Friday prayers off, weekends closed."""
    return schedules.BranchSettings(
        online_booking=online_booking,
        daily_quota=daily_quota,
        slot_minutes=30,
        slot_capacity=max(4, daily_quota // 10),
        booking_window_days=14,
        booking_cutoff_minutes=60,
        service_hours={"mon": WEEKDAY_HOURS, "tue": WEEKDAY_HOURS, "wed": WEEKDAY_HOURS,
                       "thu": WEEKDAY_HOURS, "fri": FRIDAY_HOURS, "sat": [], "sun": []},
        service_quotas={},
    )


def seed(redis: Redis) -> int:
    """Load the demo catalog and schedules where missing; never overwrites. Returns entries added."""
    added = catalog.add_missing(redis, AREAS, SERVICES, BRANCHES)
    for branch_id, *_rest, online, quota in _BRANCHES:
        calendar.copy_national_closures(redis, branch_id)
        added += schedules.store_settings(redis, branch_id, default_settings(online, quota),
                                          overwrite=False)
    return added
