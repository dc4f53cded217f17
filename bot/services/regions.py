"""Region lookups for handlers and the Telegram layer: /wilayah, paths and titles of regions."""

from __future__ import annotations

from collections.abc import Iterable

from bot.domain.models import Region, RegionMatch
from bot.domain.regions import normalize_code
from bot.services.runtime import Runtime
from storage import regions as region_store


async def get(rt: Runtime, code: str) -> Region | None:
    return await region_store.get(rt.db, code)


async def path(rt: Runtime, code: str) -> tuple[Region, ...]:
    """From the topmost loaded ancestor down to the region itself."""
    return await region_store.path(rt.db, code)


async def title(rt: Runtime, code: str) -> str:
    """The region's title ("Provinsi Bali"), or its code when the database does not know it."""
    region = await region_store.get(rt.db, code)
    return region.title if region else code


async def titles(rt: Runtime, codes: Iterable[str]) -> dict[str, str]:
    """`title` of each code, in one lookup."""
    codes = set(codes)
    found = await region_store.get_many(rt.db, codes)
    return {code: found[code].title if code in found else code for code in codes}


async def names(rt: Runtime, codes: Iterable[str]) -> dict[str, str]:
    """The name of each code ("Kuta"), or the code when unknown, in one lookup."""
    codes = set(codes)
    found = await region_store.get_many(rt.db, codes)
    return {code: found[code].name if code in found else code for code in codes}


async def find(rt: Runtime, query: str, *, limit: int) -> list[RegionMatch]:
    """/wilayah: the region a code names (with its path), else up to `limit` matches by name."""
    code = normalize_code(query)
    if code:
        region = await region_store.get(rt.db, code)
        if region:
            return [RegionMatch(region, await region_store.path(rt.db, code))]
    return await region_store.search(rt.db, query, limit=limit)
