import time
from collections import Counter

import pytest

from bot.domain.regions import ancestors, is_within, load_rows, normalize_code, query_key, search_key, split_name
from storage import baselines as baseline_store
from storage import regions as region_store
from storage.db import Database


@pytest.mark.parametrize(
    ("raw", "name", "aliases"),
    [
        ("Kuta", "Kuta", ()),
        (
            "Selemadeg Timur (Salamadeg Timur, Salemadeg Timur)",
            "Selemadeg Timur",
            ("Salamadeg Timur", "Salemadeg Timur"),
        ),
        ("Busungbiu (Busung biu)", "Busungbiu", ("Busung biu",)),
        ("Tiro/Truseb", "Tiro/Truseb", ("Tiro", "Truseb")),
        ("Kulisusu (Kalingsusu/Kalisusu)", "Kulisusu", ("Kalingsusu", "Kalisusu")),
        # another spelling of the last word after a slash: the first part is the name
        ("Semidang Gumay / Gumai", "Semidang Gumay", ("Semidang Gumai",)),
        ("Kapur IX/Sembilan", "Kapur IX", ("Kapur Sembilan",)),
        ("Panombeian Panei / Pane", "Panombeian Panei", ("Panombeian Pane",)),
        # two names joined by a slash stay joined, without stray spaces
        ("Konda/ Kondaga", "Konda/Kondaga", ("Konda", "Kondaga")),
        ("Wari/Taiyeve II", "Wari/Taiyeve II", ("Wari", "Taiyeve II")),
    ],
)
def test_split_name(raw, name, aliases):
    assert split_name(raw) == (name, aliases)


def test_no_name_in_the_country_keeps_a_spaced_slash():
    names = [row.name for row in load_rows("ID")]
    assert not [name for name in names if " /" in name or "/ " in name]
    rows = {row.code: row for row in load_rows("13")}
    assert rows["13.07.07"].name == "Kapur IX" and rows["13.07.07"].aliases == ("Kapur Sembilan",)


def test_search_key_ignores_case_accents_and_punctuation():
    assert search_key("Kécamatan  KUTA-Selatan") == "kecamatan kuta selatan"
    assert search_key("Lho'nga") == "lhonga"
    assert query_key("Kab. Badung") == "badung"
    assert query_key("kecamatan kuta") == "kuta"
    assert query_key("Kota Denpasar") == "kota denpasar"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("51.03.01", "51.03.01"),
        ("510301", "51.03.01"),
        ("51", "51"),
        ("5103", "51.03"),
        ("id", "ID"),
        ("51-03-01", "51.03.01"),
        ("kuta", None),
        ("5", None),
        ("51.3", None),
    ],
)
def test_normalize_code(text, code):
    assert normalize_code(text) == code


def test_tree_helpers():
    assert ancestors("51.03.01") == ["51.03.01", "51.03", "51", "ID"]
    assert is_within("51.03.01", "51.03") and is_within("51.03", "51.03") and is_within("51", "ID")
    assert not is_within("51.031", "51.03") and not is_within("51.03", "51.03.01")


def test_bali_rows():
    rows = load_rows("51")
    by_level = {}
    for row in rows:
        by_level.setdefault(row.level.value, []).append(row)
    assert len(by_level["provinsi"]) == 1 and len(by_level["kabkota"]) == 9 and len(by_level["kecamatan"]) == 57
    names = {r.code: r for r in rows}
    assert names["51.03"].name == "Badung" and names["51.03"].kind == "Kabupaten"
    assert names["51.71"].name == "Kota Denpasar" and names["51.71"].kind == "Kota"
    assert names["51.03.01"].name == "Kuta" and names["51.03.01"].parent_code == "51.03"
    assert names["51"].parent_code is None


def test_unknown_root():
    with pytest.raises(ValueError, match="99"):
        load_rows("99")


async def test_widening_the_root_to_the_country_reparents_the_province(tmp_path):
    db = await Database.open(tmp_path / "widen.db")
    try:
        await region_store.ensure_loaded(db, "51")
        assert (await region_store.get(db, "51")).parent_code is None
        added = await region_store.ensure_loaded(db, "ID")
        assert added == 1 + 37 + (514 - 9) + (7277 - 57)
        assert (await region_store.get(db, "51")).parent_code == "ID"
        assert [r.code for r in await region_store.children(db, "ID")][:3] == ["11", "12", "13"]
        assert "51" in {r.code for r in await region_store.children(db, "ID")}
        [hit] = await region_store.search(db, "salamadeg timur")  # aliases survive the reload, once each
        assert hit.region.code.startswith("51.")
    finally:
        await db.close()


async def test_national_load_is_complete_and_fast(tmp_path):
    db = await Database.open(tmp_path / "id.db")
    try:
        started = time.perf_counter()
        added = await region_store.ensure_loaded(db, "ID")
        elapsed = time.perf_counter() - started
        levels = Counter((await baseline_store.region_levels(db)).values())
        assert levels == {"nasional": 1, "provinsi": 38, "kabkota": 514, "kecamatan": 7277}
        assert added == 1 + 38 + 514 + 7277
        assert elapsed < 5.0
        assert await region_store.ensure_loaded(db, "ID") == 0  # second start: nothing to do
    finally:
        await db.close()


async def test_search_paths_aliases_and_ranking(rt):
    [kuta, *rest] = await region_store.search(rt.db, "KUTA")
    assert kuta.region.code == "51.03.01"  # the exact name first, then "Kuta Selatan", "Kuta Utara"
    assert " › ".join(r.name for r in kuta.path) == "Bali › Badung › Kuta"
    assert {m.region.code for m in rest} >= {"51.03.05", "51.03.06"}
    [alias_hit] = await region_store.search(rt.db, "salamadeg timur")
    assert alias_hit.region.name == "Selemadeg Timur" and alias_hit.matched_alias == "Salamadeg Timur"
    assert await region_store.search(rt.db, "Atlantis") == []
    [badung, *_] = await region_store.search(rt.db, "kabupaten badung")
    assert badung.region.code == "51.03"


async def test_search_within_scope(rt):
    hits = await region_store.search(rt.db, "denpasar", within="51.71")
    assert hits and all(m.region.code.startswith("51.71") for m in hits)
    assert await region_store.search(rt.db, "kuta", within="51.71") == []


async def test_lookups_by_code_are_served_from_memory(rt):
    """Every report looks up its region and path: after the first lookup, no database trip."""
    await region_store.get(rt.db, "51")
    statements: list[str] = []
    await rt.db.conn.set_trace_callback(statements.append)
    try:
        kuta = await region_store.get(rt.db, "51.03.01")
        path = await region_store.path(rt.db, "51.03.01")
        missing = await region_store.get(rt.db, "51.99.99")
    finally:
        await rt.db.conn.set_trace_callback(None)
    assert kuta.name == "Kuta" and [r.name for r in path] == ["Bali", "Badung", "Kuta"]
    assert missing is None
    assert statements == []
