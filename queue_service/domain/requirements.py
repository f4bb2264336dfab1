"""What a participant brings to the branch, per service (and, for a JHT claim, per reason).

Data, not rules: the pages show it on the service step and on the confirmation. The texts
are in Bahasa Indonesia, the source language of the page catalogs (``web/translations``),
which translate them like any other page text.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def N_(text: str) -> str:  # the name the catalog extractor looks for (babel.cfg, -k N_)
    """Mark ``text`` for the page catalogs; the page translates it where it shows it."""
    return text


KTP = N_("KTP elektronik (asli)")
KPJ_CARD = N_("Kartu peserta BPJS Ketenagakerjaan (KPJ)")
KK = N_("Kartu Keluarga (KK)")
BANK_BOOK = N_("Buku tabungan (halaman depan) atas nama peserta")
PAKLARING = N_("Surat keterangan berhenti bekerja (paklaring) dari perusahaan")
NPWP = N_("NPWP, bila saldo JHT di atas Rp50 juta")
PHOTO = N_("Pas foto terbaru")
AFTER_A_MONTH = N_("Klaim dapat diajukan 1 bulan setelah tanggal berhenti bekerja.")


@dataclass(frozen=True)
class Reason:
    """A reason for a claim, with the documents it adds to the service's own."""

    id: str
    name: str
    documents: list[str]
    note: str | None = None


@dataclass(frozen=True)
class Requirements:
    """The documents every claim of a service needs, its reasons, and a note if any."""

    documents: list[str]
    reasons: list[Reason] = field(default_factory=list)
    note: str | None = None


_JHT_REASONS = [
    Reason("resign", N_("Mengundurkan diri"), [PAKLARING], AFTER_A_MONTH),
    Reason(
        "dismissal",
        N_("Pemutusan hubungan kerja (PHK)"),
        [N_("Surat keterangan PHK, perjanjian bersama, atau putusan pengadilan hubungan industrial")],
        AFTER_A_MONTH,
    ),
    Reason("age", N_("Mencapai usia pensiun (56 tahun)"), [N_("Surat keterangan pensiun, bila ada")]),
    Reason("disability", N_("Cacat total tetap"), [N_("Surat keterangan dokter tentang cacat total tetap")]),
    Reason(
        "death",
        N_("Peserta meninggal dunia"),
        [
            N_("Akta kematian peserta"),
            N_("Surat keterangan ahli waris dari kelurahan"),
            N_("KTP dan KK ahli waris"),
        ],
    ),
    Reason(
        "abroad",
        N_("Pindah ke luar negeri untuk selamanya"),
        [N_("Paspor"), N_("Surat pernyataan tidak kembali ke Indonesia"), N_("Visa negara tujuan")],
    ),
]

REQUIREMENTS: dict[str, Requirements] = {
    "jht": Requirements([KTP, KPJ_CARD, KK, BANK_BOOK, NPWP], _JHT_REASONS),
    "jkk": Requirements(
        [
            KTP,
            KPJ_CARD,
            N_("Formulir laporan kecelakaan kerja tahap I dan II"),
            N_("Surat keterangan dokter dan kuitansi pengobatan"),
            BANK_BOOK,
        ]
    ),
    "jkm": Requirements(
        [
            N_("KTP dan KK ahli waris"),
            KPJ_CARD,
            N_("Akta kematian peserta"),
            N_("Surat keterangan ahli waris dari kelurahan"),
            N_("Buku tabungan ahli waris"),
        ]
    ),
    "jp": Requirements(
        [KTP, KPJ_CARD, KK, BANK_BOOK, PHOTO, N_("Buku nikah dan akta kelahiran anak, bila ada")]
    ),
    "jkp": Requirements([KTP, KPJ_CARD, N_("Bukti PHK (surat PHK atau perjanjian bersama)"), BANK_BOOK]),
    "registration": Requirements([KTP, KK, N_("Surat keterangan bekerja atau usaha")]),
    "card": Requirements([KTP, N_("Surat keterangan kehilangan dari kepolisian, bila kartu hilang")]),
    "info": Requirements([KTP]),
}


def requirements_for(service_id: str) -> Requirements:
    """The documents to bring for ``service_id`` (only the KTP for a service not listed)."""
    return REQUIREMENTS.get(service_id, Requirements([KTP]))
