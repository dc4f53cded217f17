"""Which outbox rows of one chat go as one message (`bot.telegram.outbox._units`): an officer's
plain receipts that waited together, in the place of the first; everything else alone, in order
(a held figure's Benar / Batal question and the receipt of a message of several included)."""

from datetime import UTC, datetime

from bot.telegram.outbox import _units
from bot.texts.incidents import RECEIPTS_PER_MESSAGE
from storage.outbox import Pending

AT = datetime(2024, 2, 12, tzinfo=UTC)


def row(
    row_id: int,
    purpose: str = "tanda_terima",
    reporter: int | None = 100,
    note: str = "",
    priority: int = 2,
    detail: str = "{}",
    incident: int | None = -1,
):
    incident_id = row_id if incident == -1 else incident
    return Pending(
        row_id,
        purpose,
        incident_id,
        -1003,
        None,
        row_id,
        None,
        note,
        0,
        AT,
        detail=detail,
        priority=priority,
        reporter_id=reporter,
    )


def ids(units):
    return [[r.id for r in unit] for unit in units]


def test_an_officers_receipts_go_together_others_alone():
    rows = [
        row(1, "posting", priority=1),
        row(2),
        row(3, reporter=101),
        row(4, note="ubah"),  # the guided flow's confirmation is edited into its own message
        row(5),
        row(6, note="duplikat"),
        row(7, reporter=101),
        row(8, "pelapor", priority=3),
    ]
    assert ids(_units(rows)) == [[1], [2, 5, 6], [3, 7], [4], [8]]


def test_one_receipt_is_a_unit_of_one_and_a_long_backlog_is_split():
    assert ids(_units([row(1)])) == [[1]]
    many = [row(n) for n in range(1, 2 * RECEIPTS_PER_MESSAGE + 2)]
    sizes = [len(unit) for unit in _units(many)]
    assert sizes == [RECEIPTS_PER_MESSAGE, RECEIPTS_PER_MESSAGE, 1]
    assert [r.id for unit in _units(many) for r in unit] == list(range(1, 2 * RECEIPTS_PER_MESSAGE + 2))


def test_a_held_question_and_a_message_of_several_keep_their_own_message():
    rows = [
        row(1),
        row(2, detail='{"held": 41, "current": {}}', incident=None, reporter=None),  # no incident open
        row(3, detail='{"held": 42, "current": {}}'),  # Benar / Batal buttons: alone
        row(4, detail='{"parts": [{"incident": 4}, {"incident": 5}]}'),
        row(5, detail='{"repeat": 2}'),  # a repeat, an update in place: plain receipts, coalesced
        row(6, detail='{"updated": 3, "figures": {"received": 10}}'),
    ]
    assert ids(_units(rows)) == [[1, 5, 6], [2], [3], [4]]
