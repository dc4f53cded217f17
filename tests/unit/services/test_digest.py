"""The digest's figures from the database: every field checked against hand-computed values.

One scripted morning in Badung and Denpasar (plus a report each in Tabanan and Gianyar): reports
go in through `storage.incidents.create`; plans and TPS baselines, and the lifecycle (taken,
escalated, resolved) are written with SQL, as the lifecycle service would leave them. The digest
moment is 14 February 2024 07:00 WITA; "the last 24 hours" is (13 Feb 07:00, 14 Feb 07:00].
"""

from __future__ import annotations

import random
import re
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.clock import to_db
from bot.domain.digest import (
    ChildCounting,
    ChildLogistics,
    Digest,
    IncidentCounts,
    ItemProgress,
    lagging_children,
)
from bot.domain.models import NewIncident
from bot.domain.reporting import STATEFUL
from bot.services.digest import compute_digest
from bot.texts.digest import render_digest
from storage import digests as digest_store
from storage import incidents as incident_store
from storage.db import _statements, connect, migrate, migrations

WITA = ZoneInfo("Asia/Makassar")
AT = datetime(2024, 2, 14, 7, 0, tzinfo=WITA)
H = date(2024, 2, 14)
US = timedelta(microseconds=1)

KUTA, MENGWI, ABIANSEMAL, PETANG, KUTA_SELATAN, KUTA_UTARA = (f"51.03.0{i}" for i in range(1, 7))
DENSEL, DENTIM, DENBAR, DENUT = (f"51.71.0{i}" for i in range(1, 5))
UBUD, SELEMADEG = "51.04.05", "51.02.01"


def ago(hours: float) -> datetime:
    return AT - timedelta(hours=hours)


class Script:
    """Creates reports with increasing message ids (received when sent unless `arrived` says
    otherwise); remembers their ids by a short name."""

    def __init__(self, rt) -> None:
        self.rt = rt
        self.ids: dict[str, int] = {}
        self._message = 0

    async def report(
        self,
        name: str,
        kind: str,
        severity: str,
        region: str,
        reported: datetime,
        arrived: datetime | None = None,
        description: str = "",
        **figures,
    ) -> int:
        self._message += 1
        new = NewIncident(
            kind=kind,
            severity=severity,
            region_code=region,
            reporter_id=1,
            description=description,
            payload={},
            source_chat_id=-100,
            source_message_id=self._message,
            update_id=None,
            reported_at=reported,
            received_at=arrived or reported,
            **figures,
        )
        if kind in STATEFUL:
            # as the reporting service does: a later report of the same kecamatan × item updates its
            # open incident in place, and one whose figure went down waits for confirmation
            open_one = await incident_store.open_stateful(self.rt.db, kind, region, new.item)
            if open_one is not None:
                current = (open_one.received, open_one.tps_done)
                if (new.received, new.tps_done) < current:
                    await incident_store.hold_report(self.rt.db, new, open_one.id)
                else:
                    await incident_store.apply_report(
                        self.rt.db,
                        open_one.id,
                        new,
                        held_id=None,
                        severity=severity,
                        close=False,
                        at=new.received_at,
                        notify=lambda posts, event_id, number: [],
                    )
                self.ids[name] = open_one.id
                return open_one.id
        incident, created = await incident_store.create(self.rt.db, new)
        assert created
        self.ids[name] = incident.id
        return incident.id

    async def sql(self, statement: str, params: tuple = ()) -> None:
        async with self.rt.db.transaction() as conn:
            await conn.execute(statement, params)

    async def lifecycle(
        self, name: str, *, status: str, taken: datetime | None = None, resolved: datetime | None = None
    ) -> None:
        await self.sql(
            "UPDATE incidents SET status = ?, taken_at = ?, resolved_at = ? WHERE id = ?",
            (status, to_db(taken) if taken else None, to_db(resolved) if resolved else None, self.ids[name]),
        )
        for action, moment in (("tangani", taken), ("selesai", resolved)):
            if moment is not None:
                await self.event(name, action, moment)

    async def event(self, name: str, action: str, at: datetime) -> None:
        await self.sql(
            "INSERT INTO incident_events (incident_id, at, actor_id, action) VALUES (?, ?, 1, ?)",
            (self.ids[name], to_db(at), action),
        )


@pytest.fixture
async def morning(rt) -> Script:
    s = Script(rt)
    # baselines, imported
    for region, item, quantity in (
        (KUTA, "tinta", 100),
        (MENGWI, "kotak_suara", 150),
        (ABIANSEMAL, "kotak_suara", 200),
        (DENBAR, "surat_suara", 500),
        (UBUD, "segel", 10),
    ):
        await s.sql("INSERT INTO logistics_plan VALUES (?, ?, ?, 't')", (region, item, quantity))
    for region, tps in ((KUTA, 55), (PETANG, 25)):
        await s.sql("INSERT INTO tps_baseline VALUES (?, ?, 't')", (region, tps))

    # logistics
    log = "logistik"
    await s.report(
        "kuta_kotak_old", log, "tinggi", KUTA, ago(30), item="kotak_suara", received=50, planned=120, damaged=0
    )
    await s.lifecycle("kuta_kotak_old", status="selesai", taken=ago(29), resolved=ago(24))  # resolved at the edge
    await s.report("kuta_kotak", log, "sedang", KUTA, ago(5), item="kotak_suara", received=118, planned=120, damaged=2)
    # an older message delivered late: stored, but not the current state
    await s.report(
        "kuta_kotak_late", log, "sedang", KUTA, ago(10), ago(1), item="kotak_suara", received=90, planned=120, damaged=1
    )
    await s.report("kuta_tinta", log, "tinggi", KUTA, ago(20), item="tinta", received=80, damaged=0)
    await s.report(
        "mengwi_kotak", log, "tinggi", MENGWI, ago(3), item="kotak_suara", received=60, planned=100, damaged=0
    )
    await s.report("mengwi_bilik", log, "rendah", MENGWI, ago(2), item="bilik_suara", received=40, damaged=0)
    await s.report(
        "densel_kotak", log, "sedang", DENSEL, ago(1), item="kotak_suara", received=300, planned=300, damaged=5
    )
    await s.report(
        "densel_surat", log, "tinggi", DENSEL, ago(26), item="surat_suara", received=1000, planned=2000, damaged=0
    )
    await s.report("ubud_segel", log, "rendah", UBUD, ago(12), item="segel", received=10, damaged=0)
    await s.report("selemadeg_tinta", log, "rendah", SELEMADEG, ago(40), item="tinta", received=5, damaged=0)

    # counting
    await s.report("kuta_rekap_1", "hitung", "rendah", KUTA, ago(4), tps_done=10, tps_total=50, sirekap=5)
    await s.report("kuta_rekap_2", "hitung", "rendah", KUTA, ago(2), tps_done=30, tps_total=50, sirekap=20)
    await s.report("kuta_rekap_late", "hitung", "rendah", KUTA, ago(3), ago(0.5), tps_done=25, tps_total=50)
    await s.report("mengwi_rekap", "hitung", "rendah", MENGWI, ago(6), tps_done=20, tps_total=40)
    await s.report("dentim_rekap", "hitung", "rendah", DENTIM, ago(30), tps_done=7, tps_total=70, sirekap=7)

    # other reports
    await s.report("banjir", "insiden", "kritis", KUTA_SELATAN, ago(24), description="gudang logistik banjir")
    await s.report("ganda", "data", "sedang", KUTA_UTARA, ago(24) + US, item="ganda", data_count=14)
    await s.report("kuta_insiden", "insiden", "tinggi", KUTA, ago(8), description="kotak suara rusak")
    await s.report("densel_kritis", "insiden", "kritis", DENSEL, ago(50), description="PPK belum terima surat")
    await s.report("badung_insiden", "insiden", "sedang", "51.03", AT, description="rapat koordinasi")
    await s.report("future", "insiden", "kritis", KUTA, AT + timedelta(minutes=1), description="sesudah ringkasan")

    # lifecycle
    await s.lifecycle("banjir", status="ditangani", taken=ago(23))  # taken after 1 h
    await s.lifecycle("kuta_insiden", status="selesai", taken=ago(7.5), resolved=ago(6))  # 30 min, 2 h
    await s.lifecycle("mengwi_kotak", status="ditangani", taken=ago(2.75))  # 15 min
    await s.lifecycle("ganda", status="ditangani", taken=ago(20))  # 4 h − 1 µs
    await s.lifecycle("kuta_tinta", status="selesai", taken=ago(19), resolved=ago(10))  # 1 h, 10 h
    await s.lifecycle("densel_kritis", status="ditangani", taken=ago(49))  # taken before the window
    await s.lifecycle("densel_surat", status="selesai", taken=ago(24), resolved=AT)  # taken at the edge; 26 h
    await s.event("banjir", "eskalasi_otomatis", ago(23.5))
    await s.event("banjir", "eskalasi", ago(23.2))  # the same incident: counted once
    await s.event("densel_kritis", "eskalasi", ago(49))
    await s.event("densel_kritis", "eskalasi", ago(10))
    await s.event("mengwi_kotak", "eskalasi", ago(24))  # at the edge: not in the window
    await s.event("mengwi_kotak", "catatan", ago(1))
    await s.event("kuta_kotak", "eskalasi", AT)
    return s


def counts(**by_kind_severity: int) -> IncidentCounts:
    return IncidentCounts({tuple(key.split("_")): n for key, n in by_kind_severity.items()})


def zero_counting(code: str, name: str, kecamatan: int) -> ChildCounting:
    return ChildCounting(code, name, 0, 0, 0, 0, kecamatan)


async def test_province_digest(rt, morning):
    d = await compute_digest(rt.db, "51", AT, H)
    assert isinstance(d, Digest)
    assert (d.region_code, d.region_name, d.region_title, d.region_path) == ("51", "Bali", "Provinsi Bali", ("Bali",))
    assert d.at == AT and d.election_day == H and d.day_offset == 0

    assert d.logistics == (
        ItemProgress("kotak_suara", 118 + 60 + 300, 120 + 150 + 200 + 300, 2 + 5),
        ItemProgress("bilik_suara", 40, 0, 0, unplanned=40),  # Mengwi's booths: no plan anywhere
        ItemProgress("surat_suara", 1000, 2000 + 500, 0),
        # Kuta 80 of its 100; Selemadeg's 5 have no plan: kept apart, completeness 80/100, not 85/100
        ItemProgress("tinta", 80 + 5, 100, 0, unplanned=5),
        ItemProgress("segel", 10, 10, 0),
    )
    badung = ChildLogistics(
        "51.03",
        "Badung",
        (
            ItemProgress("kotak_suara", 178, 470, 2),
            ItemProgress("bilik_suara", 40, 0, 0, unplanned=40),
            ItemProgress("tinta", 80, 100, 0),
        ),
        kecamatan_ready=0,  # Kuta, Mengwi and Abiansemal have a kebutuhan; none is complete
        kecamatan_planned=3,
    )
    denpasar = ChildLogistics(
        "51.71",
        "Kota Denpasar",
        (ItemProgress("kotak_suara", 300, 300, 5), ItemProgress("surat_suara", 1000, 2500, 0)),
        kecamatan_ready=0,
        kecamatan_planned=2,
    )
    assert d.logistics_children == (
        ChildLogistics("51.01", "Jembrana", ()),
        ChildLogistics("51.02", "Tabanan", (ItemProgress("tinta", 5, 0, 0, unplanned=5),)),
        badung,
        ChildLogistics("51.04", "Gianyar", (ItemProgress("segel", 10, 10, 0),), kecamatan_ready=1, kecamatan_planned=1),
        ChildLogistics("51.05", "Klungkung", ()),
        ChildLogistics("51.06", "Bangli", ()),
        ChildLogistics("51.07", "Karangasem", ()),
        ChildLogistics("51.08", "Buleleng", ()),
        denpasar,
    )
    # no kecamatan ready in either; Badung's weakest item is kotak suara (178 − 2 damaged of 470),
    # Denpasar's surat suara (1000/2500); Gianyar is complete, Tabanan has no kebutuhan
    assert d.lagging == (badung, denpasar)
    assert badung.share == pytest.approx(176 / 470) and denpasar.share == pytest.approx(1000 / 2500)
    assert (d.kecamatan_ready, d.kecamatan_planned) == (1, 6)

    assert d.counting == (
        zero_counting("51.01", "Jembrana", 5),
        zero_counting("51.02", "Tabanan", 10),
        ChildCounting("51.03", "Badung", 30 + 20, 55 + 40 + 25, 20, 2, 6, 1),  # Mengwi: Sirekap not reported
        zero_counting("51.04", "Gianyar", 7),
        zero_counting("51.05", "Klungkung", 4),
        zero_counting("51.06", "Bangli", 4),
        zero_counting("51.07", "Karangasem", 8),
        zero_counting("51.08", "Buleleng", 9),
        ChildCounting("51.71", "Kota Denpasar", 7, 70, 7, 1, 4, 1),
    )
    assert d.counting_total == ChildCounting("51", "Bali", 57, 190, 27, 3, 57, 2)

    # active: Kuta, Mengwi, Kuta Utara (1 µs inside the window), Denpasar Selatan, Ubud
    assert (d.silent_count, d.kecamatan_count) == (52, 57)
    never = [
        "51.01.01",
        "51.01.02",
        "51.01.03",
        "51.01.04",
        "51.01.05",
        *(f"51.02.{i:02d}" for i in range(2, 11)),
        ABIANSEMAL,
        PETANG,
        "51.04.01",
        "51.04.02",
        "51.04.03",
        "51.04.04",
    ]
    assert [s.region_code for s in d.silent] == never
    assert all(s.last_report_at is None for s in d.silent)
    assert (d.silent[0].name, d.silent[0].parent_name) == ("Negara", "Jembrana")
    assert (d.silent[15].name, d.silent[15].parent_name) == ("Petang", "Badung")

    # what needs handling; the routine progress reports of the window (Mengwi's booths and Ubud's
    # seals, logistik rendah; Kuta's and Mengwi's penghitungan) are counted apart. Kuta's later
    # kotak suara and penghitungan reports updated their open incidents; the late ones went down
    # and wait for confirmation: none is a new incident
    assert d.new == counts(logistik_sedang=2, logistik_tinggi=2, data_sedang=1, insiden_tinggi=1, insiden_sedang=1)
    assert d.new.total == 7
    assert d.progress_new == counts(logistik_rendah=2, hitung_rendah=2)
    # open: kuta_kotak, densel_kotak (sedang), mengwi_kotak (tinggi), the Badung meeting (sedang;
    # received exactly at the moment), banjir and densel_kritis, ganda — not the three logistik
    # rendah and the penghitungan, which are progress
    assert d.open == counts(logistik_sedang=2, logistik_tinggi=1, insiden_sedang=1, insiden_kritis=2, data_sedang=1)
    assert d.escalated == counts(insiden_kritis=2, logistik_sedang=1)
    assert d.resolved == counts(insiden_tinggi=1, logistik_tinggi=2)
    assert [(o.id, o.region_name, o.status, o.severity) for o in d.oldest_open] == [
        (morning.ids["densel_kritis"], "Denpasar Selatan", "ditangani", "kritis"),
        (morning.ids["banjir"], "Kuta Selatan", "ditangani", "kritis"),
        (morning.ids["mengwi_kotak"], "Mengwi", "ditangani", "tinggi"),
    ]
    first = d.oldest_open[0]
    assert (first.kind, first.region_code, first.received_at, first.description) == (
        "insiden",
        DENSEL,
        ago(50),
        "PPK belum terima surat",
    )
    assert first.received_at.tzinfo == WITA

    # taken in the window: 15 min, 30 min, 1 h, 1 h, 4 h − 1 µs → the middle one
    assert d.median_time_to_take == timedelta(hours=1)
    # resolved in the window: 2 h, 10 h, 26 h
    assert d.median_time_to_resolve == timedelta(hours=10)
    assert d.status_by_kind == {
        "logistik": {"baru": 2, "ditangani": 1, "selesai": 3},  # 5 baru less the 3 rendah
        "data": {"ditangani": 1},
        "insiden": {"baru": 2, "ditangani": 2, "selesai": 1},
    }


async def test_kabupaten_digest(rt, morning):
    d = await compute_digest(rt.db, "51.03", AT, H)
    assert (d.region_name, d.region_title, d.region_path) == ("Badung", "Kabupaten Badung", ("Bali", "Badung"))
    assert d.logistics == (
        ItemProgress("kotak_suara", 178, 470, 2),
        ItemProgress("bilik_suara", 40, 0, 0, unplanned=40),
        ItemProgress("tinta", 80, 100, 0),
    )
    not_ready = {"kecamatan_ready": 0, "kecamatan_planned": 1}
    kuta = ChildLogistics(
        KUTA, "Kuta", (ItemProgress("kotak_suara", 118, 120, 2), ItemProgress("tinta", 80, 100, 0)), **not_ready
    )
    mengwi = ChildLogistics(
        MENGWI,
        "Mengwi",
        (
            ItemProgress("kotak_suara", 60, 150, 0),  # the imported plan wins
            ItemProgress("bilik_suara", 40, 0, 0, unplanned=40),
        ),
        **not_ready,
    )
    abiansemal = ChildLogistics(
        ABIANSEMAL, "Abiansemal", (ItemProgress("kotak_suara", 0, 200, 0),), **not_ready
    )  # plan only
    assert d.logistics_children == (
        kuta,
        mengwi,
        abiansemal,
        ChildLogistics(PETANG, "Petang", ()),
        ChildLogistics(KUTA_SELATAN, "Kuta Selatan", ()),
        ChildLogistics(KUTA_UTARA, "Kuta Utara", ()),
    )
    assert d.lagging == (abiansemal, mengwi, kuta)  # none ready; weakest items 0 %, 40 %, 80 %
    assert d.counting == (
        ChildCounting(KUTA, "Kuta", 30, 55, 20, 1, 1, 1),  # the current figures; the TPS baseline
        ChildCounting(MENGWI, "Mengwi", 20, 40, 0, 1, 1, 0),  # no baseline: the reported total; no Sirekap
        zero_counting(ABIANSEMAL, "Abiansemal", 1),
        ChildCounting(PETANG, "Petang", 0, 25, 0, 0, 1),  # a baseline without reports
        zero_counting(KUTA_SELATAN, "Kuta Selatan", 1),
        zero_counting(KUTA_UTARA, "Kuta Utara", 1),
    )
    assert d.counting_total == ChildCounting("51.03", "Badung", 50, 120, 20, 2, 6, 1)
    assert (d.silent_count, d.kecamatan_count) == (3, 6)
    assert [(s.region_code, s.name, s.parent_name, s.last_report_at) for s in d.silent] == [
        (ABIANSEMAL, "Abiansemal", "Badung", None),
        (PETANG, "Petang", "Badung", None),
        (KUTA_SELATAN, "Kuta Selatan", "Badung", ago(24)),  # exactly 24 h ago: silent
    ]
    assert d.new == counts(logistik_sedang=1, logistik_tinggi=2, data_sedang=1, insiden_tinggi=1, insiden_sedang=1)
    assert d.progress_new == counts(logistik_rendah=1, hitung_rendah=2)  # Mengwi's booths; Kuta's and Mengwi's hitung
    assert d.open == counts(logistik_sedang=1, insiden_sedang=1, logistik_tinggi=1, insiden_kritis=1, data_sedang=1)
    assert d.escalated == counts(insiden_kritis=1, logistik_sedang=1)
    assert d.resolved == counts(insiden_tinggi=1, logistik_tinggi=1)
    assert [o.id for o in d.oldest_open] == [morning.ids["banjir"], morning.ids["mengwi_kotak"]]
    assert d.median_time_to_take == timedelta(hours=1)
    assert d.median_time_to_resolve == timedelta(hours=6)  # (2 h + 10 h) / 2
    assert d.status_by_kind == {
        "logistik": {"baru": 1, "ditangani": 1, "selesai": 2},  # kuta_kotak; not Mengwi's booths
        "data": {"ditangani": 1},
        "insiden": {"baru": 2, "ditangani": 1, "selesai": 1},
    }


async def test_kota_digest(rt, morning):
    d = await compute_digest(rt.db, "51.71", AT, H)
    assert (d.region_name, d.region_title) == ("Kota Denpasar", "Kota Denpasar")
    assert d.logistics == (ItemProgress("kotak_suara", 300, 300, 5), ItemProgress("surat_suara", 1000, 2500, 0))
    densel = ChildLogistics(
        DENSEL,
        "Denpasar Selatan",
        (ItemProgress("kotak_suara", 300, 300, 5), ItemProgress("surat_suara", 1000, 2000, 0)),
        kecamatan_ready=0,
        kecamatan_planned=1,
    )
    denbar = ChildLogistics(
        DENBAR, "Denpasar Barat", (ItemProgress("surat_suara", 0, 500, 0),), kecamatan_ready=0, kecamatan_planned=1
    )
    assert d.logistics_children == (
        densel,
        ChildLogistics(DENTIM, "Denpasar Timur", ()),
        denbar,
        ChildLogistics(DENUT, "Denpasar Utara", ()),
    )
    assert d.lagging == (denbar, densel)
    assert d.counting_total == ChildCounting("51.71", "Kota Denpasar", 7, 70, 7, 1, 4, 1)
    assert d.counting[1] == ChildCounting(DENTIM, "Denpasar Timur", 7, 70, 7, 1, 1, 1)
    assert [(s.region_code, s.last_report_at) for s in d.silent] == [(DENBAR, None), (DENUT, None), (DENTIM, ago(30))]
    assert d.silent[2].last_report_at.tzinfo == WITA
    assert d.new == counts(logistik_sedang=1)
    assert d.open == counts(logistik_sedang=1, insiden_kritis=1)  # not Denpasar Timur's rekap
    assert d.progress_new == IncidentCounts()  # that rekap is 30 h old
    assert d.escalated == counts(insiden_kritis=1)
    assert d.resolved == counts(logistik_tinggi=1)  # resolved exactly at the digest moment
    assert [o.id for o in d.oldest_open] == [morning.ids["densel_kritis"]]
    assert d.median_time_to_take is None  # taken exactly 24 h ago, and 49 h ago: outside
    assert d.median_time_to_resolve == timedelta(hours=26)


async def test_kecamatan_digest(rt, morning):
    d = await compute_digest(rt.db, KUTA, AT, H)
    assert (d.region_title, d.region_path) == ("Kecamatan Kuta", ("Bali", "Badung", "Kuta"))
    kuta = ChildLogistics(
        KUTA,
        "Kuta",
        (ItemProgress("kotak_suara", 118, 120, 2), ItemProgress("tinta", 80, 100, 0)),
        kecamatan_ready=0,
        kecamatan_planned=1,
    )
    assert d.logistics == kuta.items
    assert d.logistics_children == (kuta,)  # one row for the charts
    assert d.lagging == () and not d.has_children  # the kecamatan does not lag behind itself
    assert d.counting == (ChildCounting(KUTA, "Kuta", 30, 55, 20, 1, 1, 1),)
    assert d.counting_total == ChildCounting(KUTA, "Kuta", 30, 55, 20, 1, 1, 1)
    assert (d.silent, d.silent_count, d.kecamatan_count) == ((), 0, 1)
    assert d.new == counts(logistik_sedang=1, logistik_tinggi=1, insiden_tinggi=1)
    assert d.progress_new == counts(hitung_rendah=1)  # one penghitungan incident, updated in place
    assert d.open == counts(logistik_sedang=1)  # the kritis received after the moment is not
    assert d.escalated == counts(logistik_sedang=1)
    assert d.resolved == counts(insiden_tinggi=1, logistik_tinggi=1)
    assert d.oldest_open == ()
    assert d.median_time_to_take == timedelta(minutes=45)  # (30 min + 1 h) / 2
    assert d.median_time_to_resolve == timedelta(hours=6)
    assert d.status_by_kind == {"logistik": {"baru": 1, "selesai": 2}, "insiden": {"baru": 1, "selesai": 1}}
    # the text lists no children: no "Per desa/kelurahan:" followed by Kuta itself, no "Paling tertinggal"
    text = "\n".join(render_digest(d))
    assert "Per desa" not in text and "• Kuta:" not in text and "Paling tertinggal" not in text
    assert "TPS selesai dihitung: <b>30</b> dari 55 (54,5%)" in text


async def test_window_moves_with_the_moment(rt, morning):
    later = AT + timedelta(hours=3)  # 10:00: the window is (yesterday 10:00, today 10:00]
    d = await compute_digest(rt.db, "51.03", later, H)
    # Kuta Utara's report (24 h − 1 µs before 07:00) is now outside; Kuta's future insiden counts
    assert [s.region_code for s in d.silent] == [ABIANSEMAL, PETANG, KUTA_SELATAN, KUTA_UTARA]
    assert d.new == counts(logistik_sedang=1, logistik_tinggi=2, insiden_tinggi=1, insiden_sedang=1, insiden_kritis=1)
    assert d.open.by_kind_severity[("insiden", "kritis")] == 2
    # the urgent list: kritis first, then tinggi, oldest first
    assert [o.id for o in d.oldest_open] == [morning.ids["banjir"], morning.ids["future"], morning.ids["mengwi_kotak"]]
    # the Kuta Selatan flood (taken 08:00 yesterday) is now out: 15 min, 30 min, 1 h, 4 h − 1 µs
    assert d.median_time_to_take == timedelta(minutes=45)
    assert d.escalated == counts(logistik_sedang=1)


async def test_same_moment_in_another_zone_is_the_same_digest(rt, morning):
    here = await compute_digest(rt.db, "51", AT, H)
    utc = await compute_digest(rt.db, "51", AT.astimezone(UTC), H)
    assert (here.new, here.open, here.escalated, here.resolved, here.silent_count) == (
        utc.new,
        utc.open,
        utc.escalated,
        utc.resolved,
        utc.silent_count,
    )
    assert utc.oldest_open[0].received_at.tzinfo == UTC


async def test_empty_region(rt, morning):
    d = await compute_digest(rt.db, "51.05", AT, H)  # Klungkung: nothing reported, nothing planned
    assert (d.region_name, d.region_title) == ("Klungkung", "Kabupaten Klungkung")
    assert d.logistics == () and d.lagging == ()
    assert [c.items for c in d.logistics_children] == [(), (), (), ()]
    assert d.counting_total == zero_counting("51.05", "Klungkung", 4)
    assert all(c.tps_total == 0 and c.kecamatan_total == 1 for c in d.counting)
    assert (d.silent_count, d.kecamatan_count) == (4, 4)
    assert [s.region_code for s in d.silent] == ["51.05.01", "51.05.02", "51.05.03", "51.05.04"]
    for counted in (d.new, d.open, d.escalated, d.resolved):
        assert counted == IncidentCounts() and counted.total == 0
    assert d.oldest_open == ()
    assert d.median_time_to_take is None and d.median_time_to_resolve is None
    assert d.status_by_kind == {}


async def test_empty_database(rt):
    d = await compute_digest(rt.db, "51", AT, H)
    assert d.logistics == () and d.lagging == () and len(d.logistics_children) == 9
    assert d.counting_total == zero_counting("51", "Bali", 57)
    assert (d.silent_count, d.kecamatan_count, len(d.silent)) == (57, 57, 20)
    assert d.new.total == d.open.total == d.escalated.total == d.resolved.total == 0
    assert d.median_time_to_take is None and d.status_by_kind == {}


async def test_unknown_region(rt):
    with pytest.raises(LookupError):
        await compute_digest(rt.db, "52", AT, H)
    with pytest.raises(ValueError):
        await compute_digest(rt.db, "51", AT.replace(tzinfo=None), H)


async def test_medians_odd_and_even_to_the_millisecond(rt):
    """Durations are exact to the millisecond (SQLite's time parser keeps ms; the µs of the stored
    times are dropped, `storage.digests._MICROS_BETWEEN`), the float of julianday rounded away."""
    s = Script(rt)
    minutes = [10, 40, 20, 30]
    for i, m in enumerate(minutes):
        name = f"i{i}"
        await s.report(name, "insiden", "sedang", KUTA, ago(5))
        taken = ago(5) + timedelta(minutes=m, milliseconds=i, microseconds=400)  # the 400 µs are dropped
        await s.lifecycle(name, status="ditangani", taken=taken)
    d = await compute_digest(rt.db, KUTA, AT, H)
    # 10 min, 20 min + 2 ms, 30 min + 3 ms, 40 min + 1 ms → (20 min 2 ms + 30 min 3 ms) / 2
    assert d.median_time_to_take == timedelta(minutes=25, microseconds=2_500)
    await s.report("i4", "insiden", "sedang", KUTA, ago(5))
    await s.lifecycle("i4", status="ditangani", taken=ago(5) + timedelta(minutes=25))
    d = await compute_digest(rt.db, KUTA, AT, H)
    assert d.median_time_to_take == timedelta(minutes=25)


async def test_urgent_list_kritis_first_then_tinggi_oldest_first(rt):
    s = Script(rt)
    for i in range(7):
        await s.report(f"k{i}", "insiden", "kritis" if i % 2 else "tinggi", DENSEL if i % 3 else KUTA, ago(10 - i))
    await s.report("same_time", "insiden", "kritis", KUTA, ago(10))  # ties: by id
    await s.report("low", "insiden", "sedang", KUTA, ago(20))  # not urgent
    await s.report("closed", "insiden", "kritis", KUTA, ago(30))
    await s.lifecycle("closed", status="selesai", resolved=ago(29))
    # kritis: same_time, k1, k3, k5 (oldest first); then tinggi: k0, k2, …
    for code, expected in (("51", ["same_time", "k1", "k3", "k5", "k0"]), ("51.71", ["k1", "k5", "k2", "k4"])):
        d = await compute_digest(rt.db, code, AT, H)
        assert [o.id for o in d.oldest_open] == [s.ids[n] for n in expected]
    # the national form of the query (one top-5 per status and severity) agrees
    nationally = await digest_store.oldest_open(rt.db, "ID", to_db(AT), 5)
    assert [r["id"] for r in nationally] == [s.ids[n] for n in ("same_time", "k1", "k3", "k5", "k0")]


async def test_national_subtree_is_everything(rt, morning):
    """With REGION_ROOT=51 every row is in Bali: each aggregate over "ID" equals the one over "51"."""
    start, end = to_db(AT - timedelta(hours=24)), to_db(AT)
    for query, args in (
        (digest_store.logistics_by_child, (2,)),
        (digest_store.counting_by_child, (2,)),
        (digest_store.silent_kecamatan, (start, 20)),
        (digest_store.received_counts, (start, end)),
        (digest_store.resolved_counts, (start, end)),
        (digest_store.median_time_to_resolve, (start, end)),
        (digest_store.escalated_counts, (start, end)),
        (digest_store.status_counts, ()),
        (digest_store.open_received_after, (start,)),
        (digest_store.oldest_open, (end, 5)),
        (digest_store.median_time_to_take, (start, end)),
    ):
        assert await query(rt.db, "ID", *args) == await query(rt.db, "51", *args), query.__name__


async def test_state_follows_reports_and_deletions(rt):
    s = Script(rt)
    await s.report("a", "logistik", "sedang", KUTA, ago(3), item="segel", received=10, planned=20, damaged=0)
    await s.report("b", "logistik", "sedang", KUTA, ago(3), item="segel", received=12, planned=20, damaged=0)
    await s.report("c", "logistik", "tinggi", KUTA, ago(4), ago(0.1), item="segel", received=5, damaged=1)
    await s.report("x", "insiden", "tinggi", KUTA, ago(2))
    await s.event("x", "eskalasi", ago(1))
    assert s.ids["a"] == s.ids["b"] == s.ids["c"]  # one incident per kecamatan × item
    d = await compute_digest(rt.db, KUTA, AT, H)
    assert d.logistics == (ItemProgress("segel", 12, 20, 0),)  # b updated it; c went down and waits
    assert await rt.db.fetchvalue("SELECT count(*) FROM incident_reports WHERE state = 'menunggu'") == 1
    assert d.open == counts(logistik_sedang=1, insiden_tinggi=1) and d.escalated == counts(insiden_tinggi=1)
    await s.sql("UPDATE incidents SET severity = 'kritis' WHERE id = ?", (s.ids["x"],))  # a repair by hand
    d = await compute_digest(rt.db, KUTA, AT, H)
    assert d.open == counts(logistik_sedang=1, insiden_kritis=1) and d.escalated == counts(insiden_kritis=1)
    for name in ("x", "a"):
        await s.sql("DELETE FROM incident_reports WHERE incident_id = ?", (s.ids[name],))
        await s.sql("DELETE FROM incident_events WHERE incident_id = ?", (s.ids[name],))
        await s.sql("DELETE FROM outbox WHERE incident_id = ?", (s.ids[name],))
        await s.sql("DELETE FROM incidents WHERE id = ?", (s.ids[name],))
    d = await compute_digest(rt.db, KUTA, AT, H)
    assert d.logistics == () and d.silent_count == 1 and d.silent[0].last_report_at is None
    assert d.open == IncidentCounts() and d.escalated == IncidentCounts() and d.status_by_kind == {}
    assert (await rt.db.fetchone("SELECT count(*) FROM incident_escalations"))[0] == 0


async def test_migration_backfills_state_from_existing_reports(tmp_path):
    conn = await connect(tmp_path / "old.sqlite3")
    try:
        # a database at schema 2 with reports, then brought up to date
        await conn.execute("BEGIN")
        for _number, _, sql in migrations()[:2]:
            for statement in _statements(sql):
                await conn.execute(statement)
        await conn.execute("PRAGMA user_version = 2")
        await conn.execute("INSERT INTO regions VALUES ('51', NULL, 'provinsi', 'Provinsi', 'Bali', 'bali')")
        await conn.execute("INSERT INTO regions VALUES ('51.03', '51', 'kabkota', 'Kabupaten', 'Badung', 'badung')")
        await conn.execute("INSERT INTO regions VALUES ('51.03.01', '51.03', 'kecamatan', 'Kecamatan', 'Kuta', 'kuta')")
        await conn.execute(
            "INSERT INTO users (telegram_id, role, region_code, full_name, registered_at)"
            " VALUES (1, 'admin', '51', 'A', 't')"
        )
        rows = [
            (1, "logistik", "tinta", 7, None, None, None, ago(2)),
            (2, "logistik", "tinta", 9, None, None, None, ago(1)),
            (3, "logistik", "tinta", 3, None, None, None, ago(5)),
            (4, "rekap", None, None, 4, 10, 2, ago(9)),
            (5, "rekap", None, None, 6, 10, None, ago(8)),
        ]
        for i, kind, item, received, done, total, sirekap, at in rows:
            await conn.execute(
                "INSERT INTO incidents (id, kind, severity, region_code, reporter_id, item, received, damaged,"
                " tps_done, tps_total, sirekap, source_chat_id, source_message_id, reported_at, received_at,"
                " handling_region) VALUES (?, ?, 'rendah', '51.03.01', 1, ?, ?, ?, ?, ?, ?, -1, ?, ?, ?, '51.03.01')",
                (
                    i,
                    kind,
                    item,
                    received,
                    0 if kind == "logistik" else None,
                    done,
                    total,
                    sirekap,
                    i,
                    to_db(at),
                    to_db(at),
                ),
            )
        await conn.execute("UPDATE incidents SET status = 'selesai', resolved_at = received_at WHERE id = 4")
        await conn.execute(
            "INSERT INTO incident_events (id, incident_id, at, action) VALUES (1, 2, ?, 'eskalasi'),"
            " (2, 2, ?, 'catatan')",
            (to_db(ago(0.5)), to_db(ago(0.4))),
        )
        await conn.execute("COMMIT")
        await migrate(conn)
        async with conn.execute("SELECT item, received, incident_id FROM logistics_state") as cur:
            assert [tuple(r) for r in await cur.fetchall()] == [("tinta", 9, 2)]
        async with conn.execute("SELECT tps_done, sirekap, incident_id FROM counting_state") as cur:
            assert [tuple(r) for r in await cur.fetchall()] == [(6, None, 5)]
        async with conn.execute("SELECT region_code, last_report_at FROM region_activity") as cur:
            assert [tuple(r) for r in await cur.fetchall()] == [("51.03.01", to_db(ago(1)))]
        tally = "SELECT scope, status, kind, n FROM incident_tally ORDER BY scope, status, kind"
        async with conn.execute(tally) as cur:
            assert [tuple(r) for r in await cur.fetchall()] == [
                (scope, status, kind, n)
                for scope in ("51", "51.03", "51.03.01", "ID")
                for status, kind, n in (
                    ("baru", "hitung", 1),
                    ("baru", "logistik", 1),
                    ("selesai", "hitung", 1),
                    ("selesai", "logistik", 2),
                )
            ]
        async with conn.execute("SELECT event_id, incident_id, region_code, kind FROM incident_escalations") as cur:
            assert [tuple(r) for r in await cur.fetchall()] == [(1, 2, "51.03.01", "logistik")]
        # 0007: the stored 'rekap' rows were penghitungan; one open incident per kecamatan × item stays,
        # the one with the latest report (#2), and the others say so in their history
        async with conn.execute("SELECT id, kind, status FROM incidents ORDER BY id") as cur:
            assert [tuple(r) for r in await cur.fetchall()] == [
                (1, "logistik", "selesai"),
                (2, "logistik", "baru"),
                (3, "logistik", "selesai"),
                (4, "hitung", "selesai"),
                (5, "hitung", "baru"),
            ]
        superseded = "SELECT incident_id, note FROM incident_events WHERE action = 'selesai_otomatis' ORDER BY 1"
        async with conn.execute(superseded) as cur:
            assert [tuple(r) for r in await cur.fetchall()] == [(1, "#2"), (3, "#2")]
        async with conn.execute("SELECT incident_id, state FROM incident_reports ORDER BY id") as cur:
            assert [tuple(r) for r in await cur.fetchall()] == [(i, "berlaku") for i in range(1, 6)]
    finally:
        await conn.close()


async def test_a_surplus_or_an_unplanned_delivery_never_hides_a_kecamatan_without_one(rt):
    """Plan tinta: Kuta 100, Mengwi 100. Reports: Kuta 200, Mengwi 0, Abiansemal 50 (no plan).

    By hand, per kecamatan: Kuta counts min(200, 100) = 100 and 200 − 100 = 100 surplus; Mengwi
    min(0, 100) = 0; Abiansemal has no plan, its 50 are unplanned. Badung (and Bali): received
    100 + 100 + 50 = 250, planned 200, covered 100 → 100 / 200 = 50,0 %, not 250 / 200 = 125 %.
    """
    s = Script(rt)
    for region in (KUTA, MENGWI):
        await s.sql("INSERT INTO logistics_plan VALUES (?, 'tinta', 100, 't')", (region,))
    for name, region, received in (("kuta", KUTA, 200), ("mengwi", MENGWI, 0), ("abiansemal", ABIANSEMAL, 50)):
        await s.report(name, "logistik", "rendah", region, ago(2), item="tinta", received=received, damaged=0)
    tinta = ItemProgress("tinta", 250, 200, 0, surplus=100, unplanned=50)
    d = await compute_digest(rt.db, "51", AT, H)
    assert d.logistics == (tinta,)
    assert (tinta.covered, tinta.share) == (100, 0.5)
    badung = ChildLogistics("51.03", "Badung", (tinta,), kecamatan_ready=1, kecamatan_planned=2)
    assert d.lagging == (badung,)  # 50 %: Badung lags, although it received more than planned
    text = "\n".join(render_digest(d, ("logistik",)))
    assert "Tinta: 100/200 (50,0%) · lebih 100 · 50 di kecamatan tanpa kebutuhan" in text
    assert "1. Badung — 1 dari 2 PPK lengkap · terlemah Tinta 50,0%" in text
    assert "paling banyak sebesar kebutuhannya" in text

    d = await compute_digest(rt.db, "51.03", AT, H)
    kuta = ChildLogistics(
        KUTA, "Kuta", (ItemProgress("tinta", 200, 100, 0, surplus=100),), kecamatan_ready=1, kecamatan_planned=1
    )  # 100 %
    mengwi = ChildLogistics(
        MENGWI, "Mengwi", (ItemProgress("tinta", 0, 100, 0),), kecamatan_ready=0, kecamatan_planned=1
    )  # 0 %
    abiansemal = ChildLogistics(ABIANSEMAL, "Abiansemal", (ItemProgress("tinta", 50, 0, 0, unplanned=50),))
    assert d.logistics_children[:3] == (kuta, mengwi, abiansemal)
    assert (kuta.share, mengwi.share, abiansemal.share) == (1.0, 0.0, None)
    assert d.lagging == (mengwi,)


async def test_routine_progress_reports_are_not_counted_as_open_problems(rt):
    """Kuta sends its counting three times (one penghitungan incident, updated in place) and
    complete, undamaged logistics twice (progress), one logistics shortfall and one insiden tinggi.

    By hand: needs handling = the shortfall (logistik sedang) and the insiden (tinggi): new 2,
    open 2; progress = 1 hitung + 2 logistik rendah = 3, counted apart; the status chart has
    logistik baru 1 and insiden baru 1, no hitung row.
    """
    s = Script(rt)
    for i, done in enumerate((10, 20, 30)):
        await s.report(f"hitung{i}", "hitung", "rendah", KUTA, ago(5 - i), tps_done=done, tps_total=50)
    await s.report(
        "kotak", "logistik", "rendah", KUTA, ago(4), item="kotak_suara", received=120, planned=120, damaged=0
    )
    await s.report("bilik", "logistik", "rendah", KUTA, ago(3), item="bilik_suara", received=80, damaged=0)
    await s.report("tinta", "logistik", "sedang", KUTA, ago(2), item="tinta", received=90, planned=100, damaged=0)
    await s.report("insiden", "insiden", "tinggi", KUTA, ago(1), description="listrik padam di gudang")
    d = await compute_digest(rt.db, "51.03", AT, H)
    assert d.new == d.open == counts(logistik_sedang=1, insiden_tinggi=1)
    assert (d.new.total, d.open.total) == (2, 2)
    assert d.progress_new == counts(hitung_rendah=1, logistik_rendah=2) and d.progress_new.total == 3
    assert d.status_by_kind == {"logistik": {"baru": 1}, "insiden": {"baru": 1}}
    text = "\n".join(render_digest(d, ("insiden",)))
    assert "Terbuka sekarang: <b>2</b>\n24 jam terakhir: baru 2 · dieskalasi 0 · selesai 0" in text
    assert "laporan progres tidak termasuk" in text
    assert "📈 Laporan progres 24 jam: 3 (penghitungan 1 · logistik tanpa kekurangan 2)" in text
    assert "Penghitungan suara:" not in text  # no per-kind row for progress

    # only progress (Mengwi): nothing needs handling, and the progress is named
    await s.report("mengwi", "hitung", "rendah", MENGWI, ago(1), tps_done=5, tps_total=40)
    d = await compute_digest(rt.db, MENGWI, AT, H)
    assert d.new == d.open == IncidentCounts() and d.progress_new == counts(hitung_rendah=1)
    assert render_digest(d, ("insiden",))[0].endswith(
        "🚨 <b>Insiden</b>\n<i>Tidak ada insiden yang perlu ditangani.</i>\n"
        "📈 Laporan progres 24 jam: 1 (penghitungan 1) — pembaruan angka, bukan masalah"
    )


def test_lagging_keeps_five_lowest_below_complete():
    def child(code: str, received: int, planned: int) -> ChildLogistics:
        return ChildLogistics(code, code, (ItemProgress("tinta", received, planned, 0),))

    children = (
        child("a", 50, 100),
        child("b", 10, 100),
        child("c", 100, 100),
        child("d", 150, 100),
        child("e", 0, 0),
        child("f", 30, 100),
        child("g", 10, 100),
        child("h", 90, 100),
        child("i", 60, 100),
    )
    assert [c.region_code for c in lagging_children(children)] == ["b", "g", "f", "a", "i"]


async def test_bali_scale_timing(rt):
    """20,000 reports over a week across Bali: the province and a kabupaten digest stay fast."""
    rnd = random.Random(7)
    kecamatan = [r["code"] for r in await rt.db.fetchall("SELECT code FROM regions WHERE level = 'kecamatan'")]
    rows = []
    open_state: set[tuple] = set()  # at most one open incident per kecamatan × item (migration 0007)
    for i in range(20_000):
        moment = to_db(AT - timedelta(seconds=rnd.uniform(0, 7 * 86400)))
        region = rnd.choice(kecamatan)
        kind = rnd.choice(["logistik", "hitung", "data", "insiden"])
        row = {
            "kind": kind,
            "severity": rnd.choice(["rendah", "sedang", "tinggi", "kritis"]),
            "region": region,
            "item": None,
            "received": None,
            "damaged": None,
            "tps_done": None,
            "tps_total": None,
            "data_count": None,
            "message": i,
            "at": moment,
            "status": "baru",
            "resolved": None,
        }
        if kind == "logistik":
            row.update(
                item=rnd.choice(["kotak_suara", "bilik_suara", "surat_suara", "tinta"]),
                received=rnd.randint(0, 500),
                damaged=rnd.randint(0, 3),
            )
        elif kind == "hitung":
            row.update(tps_done=rnd.randint(0, 50), tps_total=50)
        elif kind == "data":
            row.update(item="ganda", data_count=rnd.randint(1, 9))
        key = (kind, region, row["item"])
        if kind in ("logistik", "hitung"):
            if key in open_state:
                row.update(status="selesai", resolved=moment)
            open_state.add(key)
        rows.append(row)
    async with rt.db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO incidents (kind, severity, region_code, reporter_id, item, received, damaged, tps_done,"
            " tps_total, data_count, source_chat_id, source_message_id, reported_at, received_at, handling_region,"
            " last_reported_at, status, resolved_at)"
            " VALUES (:kind, :severity, :region, 1, :item, :received, :damaged, :tps_done, :tps_total, :data_count,"
            " -7, :message, :at, :at, :region, :at, :status, :resolved)",
            rows,
        )
        await conn.execute(
            "UPDATE incidents SET status = 'selesai', taken_at = received_at,"
            " resolved_at = received_at WHERE id % 3 = 0"
        )
    timings = {}
    for code in ("51", "51.03", "51.03.01"):
        start = time.perf_counter()
        d = await compute_digest(rt.db, code, AT, H)
        timings[code] = time.perf_counter() - start
        assert d.open.total > 0 and d.resolved.total > 0 and d.logistics
    assert timings["51"] < 0.5 and timings["51.03"] < 0.1, timings


async def test_a_rejected_report_is_in_no_count_median_or_chart(rt, morning):
    before = await compute_digest(rt.db, "51.03", AT, H)
    s = morning
    await s.report("salah", "insiden", "kritis", KUTA, ago(2), description="uji coba")
    await s.lifecycle("salah", status="ditolak", taken=ago(1.5), resolved=ago(1))
    d = await compute_digest(rt.db, "51.03", AT, H)
    assert d.new == before.new and d.open == before.open and d.resolved == before.resolved
    assert d.escalated == before.escalated and d.status_by_kind == before.status_by_kind
    assert d.median_time_to_take == before.median_time_to_take
    assert d.median_time_to_resolve == before.median_time_to_resolve
    assert d.rejected.total == 1 and before.rejected.total == 0


@pytest.mark.parametrize("code", ["ID", "51", "51.03", "51.03.01"])
async def test_no_digest_query_walks_incidents_by_status_or_whole(rt, morning, code):
    """Every statement of a digest reads the incidents through a time window, a region or the
    state tables, never by status alone (nationally most incidents are 'selesai': a status seek
    walked 876,000 rows a digest, 0.4 s each of 552 at 07:00) nor by scanning the table. SQLite
    has no statistics here, as in the field: the plan is what the SQL says."""
    statements: list[str] = []
    await rt.db.conn.set_trace_callback(statements.append)
    try:
        if code == "ID":  # the national forms of the queries (this database's root is Bali)
            start, end = to_db(AT - timedelta(hours=24)), to_db(AT)
            for query, args in (
                (digest_store.received_counts, (start, end)),
                (digest_store.resolved_counts, (start, end)),
                (digest_store.median_time_to_resolve, (start, end)),
                (digest_store.escalated_counts, (start, end)),
                (digest_store.open_received_after, (start,)),
                (digest_store.oldest_open, (end, 5)),
                (digest_store.median_time_to_take, (start, end)),
            ):
                await query(rt.db, "ID", *args)
        else:
            await compute_digest(rt.db, code, AT, H)
    finally:
        await rt.db.conn.set_trace_callback(None)
    bad = []
    for sql in statements:
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            continue
        plan = [row[3] for row in await rt.db.fetchall(f"EXPLAIN QUERY PLAN {sql}")]
        by_status = [
            step for step in plan if re.search(r"\bincidents\b.*\((status=\?|status=\? AND severity=\?)\)$", step)
        ]
        # the rejected incidents are few: finding them by their status is what an index is for
        by_status = by_status[sql.count("WHERE status = 'ditolak'") :]
        scans = [step for step in plan if re.fullmatch(r"SCAN incidents\b.*", step)]
        bad += [(step, " ".join(sql.split())[:160]) for step in by_status + scans]
    assert statements and bad == [], bad
