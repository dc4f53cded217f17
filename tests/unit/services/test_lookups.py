"""The services handlers and the Telegram layer call instead of storage: the scope rule, incident
views and lists, digest targets, group registration, region lookups and the outbox's reads."""

from datetime import UTC, datetime

import pytest

from bot.domain import access
from bot.domain.access import Action, Reason
from bot.domain.models import Role, User
from bot.domain.regions import NATIONAL
from bot.services import (
    export,
    groups,
    outbox,
    regions,
    registration,
    reporting,
    schedules,
)
from bot.services import incidents as lifecycle
from bot.services.incidents import IncidentPage, IncidentView, Move, NotShown, Why
from bot.services.reporting import Source
from bot.services.schedules import GROUP_NOT_REGISTERED, Target, TargetRefused
from storage import groups as group_store
from storage import incidents as incident_store
from storage import regions as region_store
from storage import users as user_store

SENT = datetime(2024, 2, 12, 0, 30, tzinfo=UTC)
NIK = "5103011234560001"
KUTA, BADUNG, BALI = "51.03.01", "51.03", "51"


def user(role: Role, region: str) -> User:
    return User(7, role, region, "Wayan", None, SENT, None)


@pytest.mark.parametrize("action", [Action.DAFTAR, Action.EKSPOR, Action.IMPOR])
def test_scope_of_is_the_country_for_an_admin_and_ones_own_region_for_the_rest(action):
    assert access.scope_of(user(Role.ADMIN, BALI), action) == NATIONAL
    assert access.scope_of(user(Role.KOMISIONER, BALI), action) == BALI
    assert access.scope_of(user(Role.KOORDINATOR, BADUNG), action) == BADUNG
    assert access.scope_of(user(Role.PETUGAS, KUTA), Action.DAFTAR) == KUTA  # own reports: still own region


async def register(rt, uid, role, region):
    admin = await user_store.get(rt.db, 1)
    invite = await registration.create_invite(rt, admin, role, region)
    return (await registration.redeem(rt, invite.code, uid, f"User {uid}", None)).user


@pytest.fixture
async def people(rt):
    return {
        "admin": await user_store.get(rt.db, 1),
        "wayan": await register(rt, 100, "petugas", KUTA),
        "putu": await register(rt, 101, "petugas", KUTA),
        "made": await register(rt, 200, "koordinator", BADUNG),
        "ketut": await register(rt, 201, "koordinator", "51.71"),
        "nyoman": await register(rt, 300, "komisioner", BALI),
    }


async def report(rt, who, line, message_id):
    return (await reporting.submit_text(rt, who, line, Source(who.telegram_id, message_id, None, SENT))).incident


# --- regions --------------------------------------------------------------------------------------


async def test_regions_in_one_lookup_and_unknown_codes_as_themselves(rt):
    found = await region_store.get_many(rt.db, [KUTA, BADUNG, "99.99"])
    assert sorted(found) == [BADUNG, KUTA] and found[KUTA].name == "Kuta"
    assert await regions.titles(rt, [BALI, "99.99"]) == {BALI: "Provinsi Bali", "99.99": "99.99"}
    assert await regions.names(rt, [KUTA]) == {KUTA: "Kuta"}
    assert await regions.title(rt, "99.99") == "99.99"


async def test_find_a_region_by_code_or_by_name(rt):
    [by_code] = await regions.find(rt, "510301", limit=11)
    assert by_code.region.code == KUTA and [r.code for r in by_code.path][-1] == KUTA
    by_name = await regions.find(rt, "kuta", limit=11)
    assert KUTA in [m.region.code for m in by_name]


# --- users ----------------------------------------------------------------------------------------


async def test_identify_follows_the_senders_name_only_while_active(rt, people):
    wayan = await registration.identify(rt, 100, "Wayan Sudarta", "wayan_s")
    assert (wayan.full_name, wayan.username) == ("Wayan Sudarta", "wayan_s")
    assert (await registration.user(rt, 100)).full_name == "Wayan Sudarta"
    await registration.revoke(rt, None, 101)
    putu = await registration.identify(rt, 101, "Putu Baru", None)
    assert not putu.active and putu.full_name == "User 101"
    assert await registration.identify(rt, 999, "Stranger", None) is None


# --- incidents --------------------------------------------------------------------------------------


async def test_view_checks_the_right_and_masks_what_others_wrote(rt, people):
    inc = await report(rt, people["wayan"], "insiden kritis gudang banjir", 1)
    assert await lifecycle.view(rt, people["wayan"], 999) == NotShown(Why.NOT_FOUND)
    assert await lifecycle.view(rt, people["putu"], inc.id) == NotShown(Reason.NOT_OWN.value)
    assert await lifecycle.view(rt, people["ketut"], inc.id) == NotShown(Reason.SCOPE.value)
    await lifecycle.perform(rt, people["wayan"], inc.id, Move.CATATAN, f"NIK saya {NIK}")
    await lifecycle.perform(rt, people["made"], inc.id, Move.CATATAN, f"NIK saksi {NIK}")
    seen = await lifecycle.view(rt, people["made"], inc.id)
    assert isinstance(seen, IncidentView) and seen.reporter_name == "User 100"
    notes = [e.note for e in seen.events if e.action == "catatan"]
    assert notes == [f"NIK saya {NIK}", "NIK saksi 5103**********01"]  # the reporter's own stay as written
    assert [r.code for r in seen.path] == [BALI, BADUNG, KUTA]


async def test_escalation_titles_come_from_escalation_events_only(rt, people):
    inc = await report(rt, people["wayan"], "insiden kritis gudang banjir", 1)
    await lifecycle.perform(rt, people["made"], inc.id, Move.ESKALASI, "butuh provinsi")
    events = await incident_store.events(rt.db, inc.id)
    assert await lifecycle.region_titles(rt, events) == {BADUNG: "KPU Kabupaten Badung"}  # no group: one level up


async def test_list_page_keeps_to_the_scope_and_names_regions(rt, people):
    mine = await report(rt, people["wayan"], "insiden kritis gudang banjir", 1)
    theirs = await report(rt, people["putu"], "insiden sedang listrik padam", 2)
    own = await lifecycle.list_page(rt, people["wayan"], kind=None, open_only=True, page=1, page_size=10)
    assert isinstance(own, IncidentPage) and [i.id for i, _ in own.items] == [mine.id]
    coordinator = await lifecycle.list_page(rt, people["made"], kind=None, open_only=True, page=1, page_size=1)
    assert [(i.id, name) for i, name in coordinator.items] == [(theirs.id, "Kuta")]
    assert (coordinator.total, coordinator.pages, coordinator.without_progress) == (2, 2, True)
    outside = await lifecycle.list_page(rt, people["ketut"], kind=None, open_only=False, page=1, page_size=10)
    assert outside.items == [] and outside.pages == 1 and not outside.without_progress
    national = await lifecycle.list_page(rt, people["admin"], kind="insiden", open_only=True, page=1, page_size=10)
    assert national.total == 2
    await registration.revoke(rt, None, 100)
    assert (
        await lifecycle.list_page(rt, await registration.user(rt, 100), kind=None, open_only=True, page=1, page_size=10)
        is Reason.REVOKED
    )


async def test_perform_named_names_the_assignee_and_the_level_it_went_to(rt, people, clock):
    await group_store.register(
        rt.db, chat_id=-1003, region_code=BADUNG, thread_id=None, title="KPU Badung", by=1, at=clock()
    )
    await group_store.register(
        rt.db, chat_id=-1051, region_code=BALI, thread_id=None, title="KPU Bali", by=1, at=clock()
    )
    inc = await report(rt, people["wayan"], "insiden kritis gudang banjir", 1)
    await lifecycle.perform(rt, people["made"], inc.id, Move.TANGANI)
    taken = await lifecycle.perform_named(rt, people["nyoman"], inc.id, Move.TANGANI)
    assert taken.result.why == Why.ALREADY_TAKEN and taken.assignee_name == "User 200"
    up = await lifecycle.perform_named(rt, people["made"], inc.id, Move.ESKALASI)
    assert up.result.ok and up.to_title == "KPU Provinsi Bali" and up.assignee_name is None


async def test_export_for_checks_the_right_and_covers_the_scope(rt, people):
    await report(rt, people["wayan"], "insiden kritis gudang banjir", 1)
    assert await export.export_for(rt, people["wayan"], 7) is Reason.ROLE
    done = await export.export_for(rt, people["admin"], 7)
    assert [row["id"] for row in done.rows] == [1] and done.at == rt.clock()
    assert (await export.export_for(rt, people["ketut"], 7)).rows == []


# --- digest targets and schedules ------------------------------------------------------------------


async def test_chat_target_in_a_private_chat_and_in_a_group(rt, people, clock):
    made, wayan = people["made"], people["wayan"]
    private = {"private": True, "group_action": Action.JADWAL_GRUP, "private_action": Action.JADWAL_PRIBADI}
    group = {"private": False, "group_action": Action.JADWAL_GRUP, "private_action": Action.JADWAL_PRIBADI}
    assert await schedules.chat_target(rt, made, made.telegram_id, **private) == Target(BADUNG, None)
    assert await schedules.chat_target(rt, wayan, wayan.telegram_id, **private) == TargetRefused("role")
    assert await schedules.chat_target(rt, made, -1003, **group) == TargetRefused(GROUP_NOT_REGISTERED)
    await group_store.register(
        rt.db, chat_id=-1003, region_code=BADUNG, thread_id=5, title="KPU Badung", by=1, at=clock()
    )
    assert await schedules.chat_target(rt, made, -1003, **group) == TargetRefused("role")  # koordinator
    assert await schedules.chat_target(rt, people["nyoman"], -1003, **group) == Target(BADUNG, 5)
    anyone = {"private": False, "group_action": None, "private_action": Action.RINGKASAN}
    assert await schedules.chat_target(rt, wayan, -1003, **anyone) == Target(BADUNG, 5)


async def test_resolve_target_follows_the_current_data(rt, people, clock):
    assert await schedules.resolve_target(rt, 200) == Target(BADUNG, None)
    assert await schedules.resolve_target(rt, 100) is None  # a petugas has no personal digest
    assert await schedules.resolve_target(rt, -1003) is None
    await group_store.register(
        rt.db, chat_id=-1003, region_code=BADUNG, thread_id=None, title="KPU Badung", by=1, at=clock()
    )
    assert await schedules.resolve_target(rt, -1003) == Target(BADUNG, None)
    await registration.revoke(rt, None, 200)
    assert await schedules.resolve_target(rt, 200) is None


async def test_due_occurrences_claim_and_release(rt, people, clock):
    clock.now = datetime(2024, 2, 11, 22, 0, tzinfo=UTC)  # 06:00 WITA
    await schedules.replace(rt, chat_id=200, times=["07:00", "08:00"], region_code=BADUNG, thread_id=None, by=200)
    clock.now = datetime(2024, 2, 11, 23, 10, tzinfo=UTC)  # 07:10 WITA: 07:00 is due, 08:00 is not yet
    due = await schedules.due_occurrences(rt, 200, ["07:00", "08:00"])
    assert [t for t, _ in due] == ["07:00"]
    claims = await schedules.claim(rt, 200, due)
    assert len(claims) == 1 and await schedules.claim(rt, 200, due) == []
    assert await schedules.due_occurrences(rt, 200, ["07:00"]) == []
    await schedules.release(rt, claims)
    assert [t for t, _ in await schedules.due_occurrences(rt, 200, ["07:00"])] == ["07:00"]
    clock.now = datetime(2024, 2, 11, 23, 45, tzinfo=UTC)  # 07:45: past the grace time
    assert await schedules.due_occurrences(rt, 200, ["07:00"]) == []
    await schedules.drop_chat(rt, 200)
    assert await schedules.times(rt, 200) == []


# --- groups ---------------------------------------------------------------------------------------


async def test_register_a_group(rt, people):
    nyoman = people["nyoman"]
    bad = await groups.register(rt, nyoman, chat_id=-1003, region_text="99.99", thread_id=None, title="x")
    assert bad == groups.GroupRefused(groups.BAD_REGION)
    assert await groups.register(
        rt, people["made"], chat_id=-1003, region_text=BADUNG, thread_id=None, title="x"
    ) == groups.GroupRefused("role")
    first = await groups.register(rt, nyoman, chat_id=-1003, region_text="5103", thread_id=None, title="KPU Badung")
    assert first.region.code == BADUNG and first.times == ["07:00"] and first.previous_region_title is None
    assert [r.code for r in first.path] == [BALI, BADUNG] and first.replaced_chat is None
    await schedules.replace(rt, chat_id=-1003, times=["06:30"], region_code=BADUNG, thread_id=None, by=300)
    moved = await groups.register(rt, nyoman, chat_id=-1003, region_text=KUTA, thread_id=3, title="KPU Kuta")
    assert moved.times == ["06:30"] and moved.previous_region_title == "Kabupaten Badung"
    other = await groups.register(rt, nyoman, chat_id=-2000, region_text=KUTA, thread_id=None, title="Kuta 2")
    assert (other.replaced_chat, other.replaced_thread) == (-1003, 3)
    await groups.left(rt, chat_id=-2000, by=None, reason="left")
    assert await group_store.by_chat(rt.db, -2000) is None


# --- the outbox as its sender sees it ---------------------------------------------------------------


async def test_card_data_and_a_post_that_raced_a_change(rt, people, clock):
    await group_store.register(
        rt.db, chat_id=-1003, region_code=BADUNG, thread_id=None, title="KPU Badung", by=1, at=clock()
    )
    await group_store.register(
        rt.db, chat_id=-1051, region_code=BALI, thread_id=None, title="KPU Bali", by=1, at=clock()
    )
    inc = await report(rt, people["wayan"], "insiden kritis gudang banjir", 1)
    [row] = [r for r in await outbox.due(rt, clock()) if r.purpose == "posting"]
    here = await outbox.card_data(rt, inc, BADUNG)
    assert here.here and here.moved_to is None and here.reporter_name == "User 100" and here.assignee_name is None
    drawn = await outbox.version(rt, inc.id)
    await lifecycle.perform(rt, people["made"], inc.id, Move.SELESAI, "beres")  # while the card was on its way
    assert (await outbox.resolver(rt, inc.id)).name == "User 200"
    await outbox.posted(rt, row, message_id=55, thread_id=None, drawn=drawn)
    assert await incident_store.incident_for_message(rt.db, -1003, 55) == inc.id
    await outbox.mark_sent(rt, row.id, at=clock(), message_id=55)
    assert sorted(r.purpose for r in await outbox.due(rt, clock())) == [
        "edit",
        "pelapor",
        "selesai",
        "tanda_terima",
    ]
    inc2 = await report(rt, people["wayan"], "insiden kritis atap roboh", 2)
    await lifecycle.perform(rt, people["made"], inc2.id, Move.ESKALASI)
    moved = await outbox.card_data(rt, await outbox.incident(rt, inc2.id), BADUNG)
    assert not moved.here and moved.moved_to == "KPU Provinsi Bali"
    assert moved.region_titles == {BALI: "KPU Provinsi Bali"}
