"""The flood benchmark's counting (`bench/flood.py`): what it calls a lost report must be one.

A full run once printed "lost 1": officer 100151 had been given `logistik kotak 1998/1998` twice,
88 s apart; the bot answered the second with the first one's receipt ("sent 1 minute ago as
#2700; not recorded twice") and stored it once — its contract (`REPEAT_WINDOW`), counted as lost."""

from __future__ import annotations

import random
from types import SimpleNamespace

from bench.flood import PERIOD_S, SIZES, Watch, answers, officer_lines, routine_line
from bench.ingest import OFFICER_ID_BASE
from bot.domain.reporting import LogistikReport
from bot.emulator import parse_html
from bot.services.reporting import report_of
from bot.texts import incidents as ti
from bot.texts import reporting as tr
from bot.texts.incidents import receipt_incident_ids
from tests.unit.texts.test_incidents import LONG_PATH, incident, part

BOT_ID, GROUP_ID, COORDINATOR_CHAT = 7, -1001, 900


def test_no_officer_is_given_the_same_report_twice():
    """The full run's officers (seed 16, 200 × 91 reports): drawn as before, one repeats a report;
    `officer_lines` gives each officer distinct ones, as many, from the same generator."""
    size = SIZES["full"]
    count = int(size.seconds / PERIOD_S) + 1
    officers = [OFFICER_ID_BASE + i for i in range(size.officers)]
    rng = random.Random(16)
    drawn = {o: [routine_line(rng) for _ in range(count)] for o in officers}
    assert any(len(set(lines)) < count for lines in drawn.values())  # what the run met
    lines = officer_lines(random.Random(16), officers, count)
    assert sorted(lines) == officers
    assert all(len(mine) == count and len(set(mine)) == count for mine in lines.values())


def _sent(chat_id: int, text: str) -> SimpleNamespace:
    return SimpleNamespace(sender_id=BOT_ID, event="sent", chat_id=chat_id, text=text, observed_at=1.0)


def test_reports_are_counted_once_per_chat_however_often_their_answer_arrives():
    """A coalesced receipt counts a report per line (two reports updating one incident, named once
    in its head, are two), a receipt and a held figure's question one each; the same answer
    arriving again in its chat counts as delivered twice, not as another report answered."""
    a, b = incident("genset mati", id=12), incident("genset mati dan lampu padam", id=12)
    other = incident("antrean panjang", id=13)
    coalesced = parse_html(ti.receipts([part(a), part(b), part(other)]))[0]
    assert receipt_incident_ids(coalesced) == [12, 13]
    single = parse_html(ti.receipt(other, report_of(other), LONG_PATH, (), False))[0]
    held = parse_html(tr.held(LogistikReport("kotak_suara", 35, 35, 0), LogistikReport("kotak_suara", 176, 176, 0)))[0]
    assert len(answers(coalesced)) == 3 and len(answers(single)) == 1 and len(answers(held)) == 1
    assert answers("Perintah tidak dikenal") == []

    watch = Watch(BOT_ID, GROUP_ID, COORDINATOR_CHAT)
    for chat, text in [(100, coalesced), (100, coalesced), (101, single), (101, held), (101, held)]:
        watch.observe(_sent(chat, text))
    assert {chat: len(keys) for chat, keys in watch.answered.items()} == {100: 3, 101: 2}
    assert watch.answered_twice == 4
    assert [n for _, n in watch.receipt_times] == [3, 0, 1, 1, 0]  # reports confirmed, each once
