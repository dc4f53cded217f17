"""No code path changes an incident without an event: read the source to make sure.

The lifecycle test runs sequences through the one service; this test makes sure there is no other
way in. SQL that changes the `incidents` table lives only in `storage/incidents.py`, every function
there that updates or deletes incidents writes an incident event, and `apply_change` (the one
function that changes an incident after it was reported) is called only by `bot/services/incidents.py`.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STORE = "storage/incidents.py"
SERVICE = "bot/services/incidents.py"
#: SQL that changes the incidents table (not incident_events, incident_messages, …)
CHANGING_SQL = re.compile(
    r"\b(?:UPDATE|DELETE\s+FROM|INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO)\s+incidents\b", re.IGNORECASE
)


def _sources() -> dict[str, str]:
    """The application's Python source (the emulator and benchmarks are not the application)."""
    out = {}
    for folder in ("bot", "handlers", "storage"):
        for path in (ROOT / folder).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if not rel.startswith("bot/emulator/"):
                out[rel] = path.read_text(encoding="utf-8")
    return out


def _strings(source: str) -> list[tuple[int, str]]:
    """Every string literal (f-string parts included), with its line."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
    return found


def changing_sql(sources: dict[str, str]) -> list[str]:
    """`file:line` of every SQL string that changes the incidents table."""
    return [
        f"{rel}:{line}"
        for rel, source in sources.items()
        for line, text in _strings(source)
        if CHANGING_SQL.search(text)
    ]


def apply_change_callers(sources: dict[str, str]) -> list[str]:
    """`file:line` of every call of a function named apply_change."""
    out = []
    for rel, source in sources.items():
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
                if name == "apply_change":
                    out.append(f"{rel}:{node.lineno}")
    return out


def functions_changing_without_event(source: str) -> list[str]:
    """Functions of the store that UPDATE or DELETE incidents without writing an event."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef):
            body = ast.get_source_segment(source, node) or ""
            changes = any(
                re.search(r"\b(?:UPDATE|DELETE\s+FROM)\s+incidents\b", text, re.IGNORECASE)
                for _, text in _strings(body)
            )
            if changes and "_event(" not in body:
                out.append(node.name)
    return out


def test_only_the_incident_store_changes_incidents():
    offenders = [where for where in changing_sql(_sources()) if not where.startswith(STORE + ":")]
    assert offenders == [], "incidents change only in storage/incidents.py:\n" + "\n".join(offenders)


def test_only_the_lifecycle_calls_apply_change():
    offenders = [where for where in apply_change_callers(_sources()) if not where.startswith(SERVICE + ":")]
    assert offenders == [], "incidents change only through bot/services/incidents.py:\n" + "\n".join(offenders)
    assert apply_change_callers({SERVICE: _sources()[SERVICE]}), "the lifecycle no longer calls apply_change?"


def test_every_change_in_the_store_writes_an_event():
    assert functions_changing_without_event(_sources()[STORE]) == []


def test_the_checks_find_what_they_look_for():
    """The scans above would catch an offender (so their passing means something)."""
    rogue = {
        "handlers/rogue.py": (
            "async def close(db, i):\n"
            "    await db.conn.execute('UPDATE incidents SET status = ? WHERE id = ?', ('selesai', i))\n"
            "    await db.conn.execute(f'delete from incidents WHERE id = {i}')\n"
            "    await incident_store.apply_change(db, i, expect_status=(), expect_handling=None, changes={},\n"
            "                                      actor_id=None, action='catatan', at=None)\n"
        ),
        "bot/fine.py": "SQL = 'UPDATE incident_events SET note = ? WHERE id = ?'\n",
    }
    assert changing_sql(rogue) == ["handlers/rogue.py:2", "handlers/rogue.py:3"]
    assert apply_change_callers(rogue) == ["handlers/rogue.py:4"]
    assert functions_changing_without_event(rogue["handlers/rogue.py"]) == ["close"]
