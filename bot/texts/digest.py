"""The digest as Telegram messages (Bahasa Indonesia, HTML with only `<b>`, `<i>`, `<code>`).

Every sentence of the digest lives here. The text is drawn from a `bot.domain.digest.Digest` and from
nothing else. Every name and description coming from data goes through `mask_niks` and then
`esc`; descriptions are shortened after masking, so a cut can never leave part of a NIK visible.

`render_digest` returns messages below Telegram's 4,096-character limit, split at section
boundaries, and inside a section that is too long by itself at line boundaries (the continuation
repeats the section title). Each line is balanced HTML on its own, so every part is too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import tzinfo
from typing import Final

from bot.domain.digest import SECTIONS, ChildCounting, ChildLogistics, Digest, IncidentCounts, ItemProgress
from bot.domain.privacy import mask_niks
from bot.domain.reporting import JENIS_PEMILIHAN, KIND_ORDER, MOST_SEVERE_FIRST, ordered
from bot.texts.common import esc
from bot.texts.formatting import (
    duration,
    h_label,
    local_time,
    long_date,
    number,
    share,
    short_date_time,
)
from bot.texts.incidents import plain_summary
from bot.texts.labels import SEVERITY_MARK, item_label, kind_label, severity_label
from bot.texts.messages import ELLIPSIS, MESSAGE_LIMIT, split_messages

__all__ = [
    "MESSAGE_LIMIT",
    "SECTIONS",
    "child_level",
    "render_digest",
    "render_section",
    "split_messages",
]

#: Silent kecamatan named at most.
MAX_SILENT_SHOWN: Final = 20
#: Longest description shown for an open incident, in characters (before escaping).
MAX_DESCRIPTION: Final = 80

# --- sentences -----------------------------------------------------------------------------------

HEADER_TITLE: Final = "📊 <b>Ringkasan {title}</b>"
HEADER_WHEN: Final = "{date} · {time} · <b>{h}</b>"

LOGISTIK_TITLE: Final = "📦 <b>Logistik</b>"
LOGISTIK_EMPTY: Final = "<i>Belum ada data logistik.</i>"
#: readiness: a kecamatan is ready when every item with a kebutuhan is complete and none is damaged
LOGISTIK_READY: Final = "PPK lengkap semua barang: <b>{ready} dari {total}</b>"
LOGISTIK_DEADLINE: Final = "Batas logistik lengkap di PPK: {h} ({when})"
LOGISTIK_DEADLINE_AHEAD: Final = "{n} hari lagi"
LOGISTIK_DEADLINE_TODAY: Final = "hari ini"
LOGISTIK_DEADLINE_PAST: Final = "lewat {n} hari"
LOGISTIK_CHILDREN: Final = "<i>Per {level}: PPK lengkap · barang terlemah</i>"
LOGISTIK_CHILD: Final = "• {name}: {ready} dari {total} PPK lengkap · terlemah {label} {share}"
LOGISTIK_CHILD_READY: Final = "• {name}: {ready} dari {total} PPK lengkap ✅"
#: a child that is itself a kecamatan (the digest of a kabupaten/kota)
LOGISTIK_KECAMATAN_READY: Final = "• {name}: lengkap ✅"
LOGISTIK_KECAMATAN_SHORT: Final = "• {name}: belum lengkap · terlemah {label} {share}"
LOGISTIK_KECAMATAN_LAGGING: Final = "{rank}. {name} — terlemah {label} {share}"
LOGISTIK_ITEMS: Final = "<i>Per barang (diterima/kebutuhan):</i>"
#: received up to each kecamatan's kebutuhan / kebutuhan (a surplus elsewhere never fills a gap)
LOGISTIK_ITEM: Final = "{label}: {received}/{planned} ({share})"
LOGISTIK_ITEM_NO_PLAN: Final = "{label}: {received} diterima (kebutuhan belum diimpor)"
LOGISTIK_SURPLUS: Final = " · lebih {n}"
LOGISTIK_UNPLANNED: Final = " · {n} di kecamatan tanpa kebutuhan"
LOGISTIK_DAMAGED: Final = " · rusak {n}"
LOGISTIK_NOTE: Final = (
    "<i>Diterima dihitung per kecamatan, paling banyak sebesar kebutuhannya; kelebihan (lebih) dan "
    "kiriman ke kecamatan tanpa kebutuhan ditulis terpisah.</i>"
)
LOGISTIK_LAGGING: Final = "<i>Paling tertinggal (PPK lengkap, lalu barang terlemah):</i>"
LOGISTIK_LAGGING_LINE: Final = "{rank}. {name} — {ready} dari {total} PPK lengkap · terlemah {label} {share}"

HITUNG_TITLE: Final = "🗳 <b>Penghitungan suara</b>"
HITUNG_EMPTY: Final = "<i>Belum ada laporan penghitungan suara.</i>"
HITUNG_TPS: Final = "TPS selesai dihitung: <b>{done}</b> dari {total} ({share})"
HITUNG_SIREKAP: Final = "C.Hasil diunggah ke Sirekap: {n} ({share})"
HITUNG_SIREKAP_UNKNOWN: Final = "C.Hasil diunggah ke Sirekap: belum dilaporkan"
HITUNG_KECAMATAN: Final = "Kecamatan melapor: {n} dari {total}"
HITUNG_CHILDREN: Final = "<i>Per {level}:</i>"
HITUNG_CHILD: Final = "• {name}: {done}/{total} ({share}) · Sirekap {sirekap}"
HITUNG_CHILD_EMPTY: Final = "• {name}: belum ada laporan"
#: what a Sirekap figure never reported is called (not 0 %)
NOT_REPORTED: Final = "belum dilaporkan"

REKAP_TITLE: Final = "🧮 <b>Rekapitulasi kecamatan</b>"
REKAP_EMPTY: Final = "<i>Belum ada laporan rekapitulasi kecamatan.</i>"
REKAP_JENIS: Final = "{label}: {done} dari {total} desa ({share}) · {finished} dari {reporting} PPK selesai"
REKAP_NOTE: Final = "<i>Desa dihitung dari kecamatan yang sudah melapor: {reporting} dari {total} kecamatan.</i>"
#: counting silence (from H until counting is complete): its own heading, apart from the 24-hour list
COUNTING_SILENT_TITLE: Final = "⏰ <b>Tanpa laporan penghitungan {period}: {n} dari {total} kecamatan</b>"
COUNTING_SILENT_NEVER: Final = "• {name}{parent} — belum pernah melapor penghitungan"
COUNTING_SILENT_LAST: Final = "• {name}{parent} — terakhir {when}"
COUNTING_SILENT_PARENT: Final = " ({parent})"
COUNTING_SILENT_NONE: Final = "✅ Semua kecamatan melapor penghitungan dalam {period} terakhir, atau sudah selesai."
#: before the logistics deadline: items with a kebutuhan that kecamatan never reported
LOGISTIK_NEVER: Final = "<i>Belum pernah dilaporkan (ada kebutuhan, belum ada laporan):</i>"
LOGISTIK_NEVER_LINE: Final = "• {label}: {n} PPK — {names}"
LOGISTIK_NEVER_MORE: Final = ", … {n} lainnya"
SILENT_TITLE: Final = "🔕 <b>Tanpa laporan 24 jam: {n} dari {total} kecamatan</b>"
SILENT_TITLE_NO_TOTAL: Final = "🔕 <b>Tanpa laporan 24 jam: {n} kecamatan</b>"
SILENT_NEVER: Final = "• {name} ({parent}) — belum pernah melapor"
SILENT_LAST: Final = "• {name} ({parent}) — terakhir {when}"
SILENT_NO_PARENT_NEVER: Final = "• {name} — belum pernah melapor"
SILENT_NO_PARENT_LAST: Final = "• {name} — terakhir {when}"
SILENT_MORE: Final = "… dan {n} kecamatan lainnya"
SILENT_NONE: Final = "✅ Semua kecamatan melapor dalam 24 jam terakhir."

INSIDEN_TITLE: Final = "🚨 <b>Insiden</b>"
INSIDEN_EMPTY: Final = "<i>Belum ada data insiden: tidak ada insiden baru dan tidak ada yang masih terbuka.</i>"
INSIDEN_OPEN_NOW: Final = "Terbuka sekarang: <b>{open}</b>"
INSIDEN_MOVEMENT: Final = "24 jam terakhir: baru {new} · dieskalasi {escalated} · selesai {resolved}"
#: added to the movement line when reports were rejected (misread, duplicate, test): not counted anywhere
INSIDEN_REJECTED: Final = " · ditolak {rejected} (tidak dihitung)"
#: what the figures above count (routine progress reports are status updates, not problems)
INSIDEN_COUNTED: Final = "<i>Dihitung: laporan yang perlu ditangani; laporan progres tidak termasuk.</i>"
INSIDEN_NONE: Final = "<i>Tidak ada insiden yang perlu ditangani.</i>"
INSIDEN_PROGRESS: Final = "📈 Laporan progres 24 jam: {n} ({detail}) — pembaruan angka, bukan masalah"
#: the kinds of progress report, in the order named
PROGRESS_LABELS: Final = (
    ("hitung", "penghitungan"),
    ("rekap", "rekapitulasi"),
    ("logistik", "logistik tanpa kekurangan"),
)
INSIDEN_BY_KIND: Final = "<i>Per jenis:</i>"
INSIDEN_BY_SEVERITY: Final = "<i>Per prioritas:</i>"
INSIDEN_ROW: Final = "{label}: {counts}"
#: Names of the four categories in a per-kind / per-severity row, in the order shown.
INSIDEN_CATEGORIES: Final = (("open", "terbuka"), ("new", "baru"), ("escalated", "dieskalasi"), ("resolved", "selesai"))
INSIDEN_OLDEST: Final = "⏳ <b>Perlu tindakan sekarang</b> (kritis dulu, lalu tinggi; terlama dulu):"
INSIDEN_OLDEST_LINE: Final = "{mark} <code>#{id}</code> {severity} · {region} · {age} — {description}"
INSIDEN_MEDIANS: Final = "⏱ Median waktu ditangani: {take} · diselesaikan: {resolve}"

#: Children of a region, by the depth of its code ("" / "ID" is the whole country).
CHILD_LEVEL: Final[dict[int, str]] = {0: "provinsi", 1: "kabupaten/kota", 2: "kecamatan", 3: "desa/kelurahan"}

# --- labels --------------------------------------------------------------------------------------


def child_level(region_code: str) -> str:
    """What the children of `region_code` are called: "kabupaten/kota" under a province, …"""
    code = region_code.strip()
    depth = 0 if code.upper() in ("", "ID") else code.count(".") + 1
    return CHILD_LEVEL.get(depth, "wilayah")


def _name(text: str) -> str:
    """A name from data, safe for a group: NIKs masked, HTML escaped."""
    return esc(mask_niks(text))


def _description(text: str) -> str:
    """A description shortened to one line: masked first, then cut, then escaped."""
    flat = " ".join(mask_niks(text).split())
    if len(flat) > MAX_DESCRIPTION:
        flat = flat[: MAX_DESCRIPTION - 1].rstrip() + ELLIPSIS
    return esc(flat)


# --- header --------------------------------------------------------------------------------------


def _header(d: Digest) -> list[str]:
    return [
        HEADER_TITLE.format(title=_name(d.region_title)),
        HEADER_WHEN.format(date=long_date(d.at), time=local_time(d.at), h=h_label(d.day_offset)),
    ]


# --- logistik ------------------------------------------------------------------------------------


def _item_line(item: ItemProgress) -> str:
    if item.planned:
        line = LOGISTIK_ITEM.format(
            label=esc(item_label(item.item)),
            received=number(item.covered),
            planned=number(item.planned),
            share=share(item.share),
        )
        if item.surplus:
            line += LOGISTIK_SURPLUS.format(n=number(item.surplus))
        if item.unplanned:
            line += LOGISTIK_UNPLANNED.format(n=number(item.unplanned))
    else:
        line = LOGISTIK_ITEM_NO_PLAN.format(label=esc(item_label(item.item)), received=number(item.received))
    if item.damaged:
        line += LOGISTIK_DAMAGED.format(n=number(item.damaged))
    return line


def _weakest(child: ChildLogistics) -> tuple[str, str]:
    """The label and completeness of a child's weakest item (what it is as ready as)."""
    weakest = child.weakest
    if weakest is None:
        return "", share(None)
    return esc(item_label(weakest.item)), share(weakest.ready_share)


def _is_kecamatan(child: ChildLogistics) -> bool:
    return child.region_code.count(".") == 2


def _child_line(child: ChildLogistics) -> str:
    ready, total = number(child.kecamatan_ready), number(child.kecamatan_planned)
    if _is_kecamatan(child):
        if child.kecamatan_planned and child.kecamatan_ready == child.kecamatan_planned:
            return LOGISTIK_KECAMATAN_READY.format(name=_name(child.name))
        label, weakest = _weakest(child)
        return LOGISTIK_KECAMATAN_SHORT.format(name=_name(child.name), label=label, share=weakest)
    if child.kecamatan_planned and child.kecamatan_ready == child.kecamatan_planned:
        return LOGISTIK_CHILD_READY.format(name=_name(child.name), ready=ready, total=total)
    label, weakest = _weakest(child)
    return LOGISTIK_CHILD.format(name=_name(child.name), ready=ready, total=total, label=label, share=weakest)


def _lagging_line(rank: int, child: ChildLogistics) -> str:
    label, weakest = _weakest(child)
    if _is_kecamatan(child) or not child.kecamatan_planned:
        return LOGISTIK_KECAMATAN_LAGGING.format(rank=rank, name=_name(child.name), label=label, share=weakest)
    return LOGISTIK_LAGGING_LINE.format(
        rank=rank,
        name=_name(child.name),
        ready=number(child.kecamatan_ready),
        total=number(child.kecamatan_planned),
        label=label,
        share=weakest,
    )


def _deadline_line(d: Digest) -> str:
    days = d.days_to_deadline
    if days > 0:
        when = LOGISTIK_DEADLINE_AHEAD.format(n=days)
    elif days == 0:
        when = LOGISTIK_DEADLINE_TODAY
    else:
        when = LOGISTIK_DEADLINE_PAST.format(n=-days)
    return LOGISTIK_DEADLINE.format(h=h_label(-d.logistics_deadline_days), when=when)


def _logistik_lines(d: Digest) -> list[str]:
    lines = [LOGISTIK_TITLE]
    if not d.logistics:
        return [*lines, LOGISTIK_EMPTY]
    if d.kecamatan_planned:
        lines.append(LOGISTIK_READY.format(ready=number(d.kecamatan_ready), total=number(d.kecamatan_planned)))
    lines.append(_deadline_line(d))
    planned_children = [c for c in d.logistics_children if c.kecamatan_planned]
    if d.has_children and planned_children:
        lines.append(LOGISTIK_CHILDREN.format(level=child_level(d.region_code)))
        lines += [_child_line(child) for child in planned_children]
    lines.append(LOGISTIK_ITEMS)
    lines += [_item_line(item) for item in d.logistics]
    if any(item.planned and (item.surplus or item.unplanned) for item in d.logistics):
        lines.append(LOGISTIK_NOTE)
    if d.lagging:
        lines.append(LOGISTIK_LAGGING)
        lines += [_lagging_line(rank, child) for rank, child in enumerate(d.lagging, start=1)]
    lines += _never_reported_lines(d)
    return lines


def _never_reported_lines(d: Digest) -> list[str]:
    if not d.never_reported:
        return []
    lines = [LOGISTIK_NEVER]
    for never in d.never_reported:
        names = ", ".join(_name(n) for n in never.names)
        if never.kecamatan > len(never.names):
            names += LOGISTIK_NEVER_MORE.format(n=number(never.kecamatan - len(never.names)))
        lines.append(
            LOGISTIK_NEVER_LINE.format(label=esc(item_label(never.item)), n=number(never.kecamatan), names=names)
        )
    return lines


# --- hitung (penghitungan) and rekap (rekapitulasi kecamatan) --------------------------------------


def _sirekap(child: ChildCounting) -> str:
    return share(child.share_sirekap) if child.share_sirekap is not None else NOT_REPORTED


def _child_counting_line(child: ChildCounting) -> str:
    if not child.kecamatan_reporting:  # a baseline alone is not a report: not "0 %"
        return HITUNG_CHILD_EMPTY.format(name=_name(child.name))
    return HITUNG_CHILD.format(
        name=_name(child.name),
        done=number(child.tps_done),
        total=number(child.tps_total),
        share=share(child.share_done),
        sirekap=_sirekap(child),
    )


def _silent_lines(d: Digest, tz: tzinfo | None) -> list[str]:
    count = max(d.silent_count, len(d.silent))
    if not count:
        return [SILENT_NONE] if d.kecamatan_count else []
    if d.kecamatan_count:
        lines = [SILENT_TITLE.format(n=number(count), total=number(d.kecamatan_count))]
    else:
        lines = [SILENT_TITLE_NO_TOTAL.format(n=number(count))]
    shown = d.silent[:MAX_SILENT_SHOWN]
    for region in shown:
        name, parent = _name(region.name), _name(region.parent_name)
        if region.last_report_at is None:
            template = SILENT_NEVER if parent else SILENT_NO_PARENT_NEVER
            lines.append(template.format(name=name, parent=parent))
        else:
            template = SILENT_LAST if parent else SILENT_NO_PARENT_LAST
            lines.append(template.format(name=name, parent=parent, when=short_date_time(region.last_report_at, tz)))
    if count > len(shown):
        lines.append(SILENT_MORE.format(n=number(count - len(shown))))
    return lines


def _counting_silent_lines(d: Digest) -> list[str]:
    """Kecamatan without a counting report for COUNTING_SILENCE_MIN (from H until complete)."""
    if d.counting_silence is None:
        return []
    period = duration(d.counting_silence)
    count = max(d.counting_silent_count, len(d.counting_silent))
    if not count:
        return [COUNTING_SILENT_NONE.format(period=period)]
    lines = [COUNTING_SILENT_TITLE.format(period=period, n=number(count), total=number(d.kecamatan_count))]
    for region in d.counting_silent[:MAX_SILENT_SHOWN]:
        parent = COUNTING_SILENT_PARENT.format(parent=_name(region.parent_name)) if region.parent_name else ""
        if region.last_report_at is None:
            lines.append(COUNTING_SILENT_NEVER.format(name=_name(region.name), parent=parent))
        else:
            when = short_date_time(region.last_report_at, d.at.tzinfo)
            lines.append(COUNTING_SILENT_LAST.format(name=_name(region.name), parent=parent, when=when))
    if count > min(len(d.counting_silent), MAX_SILENT_SHOWN):
        lines.append(SILENT_MORE.format(n=number(count - min(len(d.counting_silent), MAX_SILENT_SHOWN))))
    return lines


def _hitung_lines(d: Digest) -> list[str]:
    lines = [HITUNG_TITLE]
    total = d.counting_total
    if not total.has_counting and not any(c.has_counting for c in d.counting):
        lines.append(HITUNG_EMPTY)
    else:
        lines.append(
            HITUNG_TPS.format(done=number(total.tps_done), total=number(total.tps_total), share=share(total.share_done))
        )
        if total.share_sirekap is None:
            lines.append(HITUNG_SIREKAP_UNKNOWN)
        else:
            lines.append(HITUNG_SIREKAP.format(n=number(total.sirekap), share=share(total.share_sirekap)))
        if total.kecamatan_total:
            lines.append(
                HITUNG_KECAMATAN.format(n=number(total.kecamatan_reporting), total=number(total.kecamatan_total))
            )
        if d.counting and d.has_children:  # a kecamatan's only "child" is itself
            lines.append(HITUNG_CHILDREN.format(level=child_level(d.region_code)))
            lines += [_child_counting_line(child) for child in d.counting]
    lines += _counting_silent_lines(d)
    lines += _silent_lines(d, d.at.tzinfo)
    return lines


def _rekap_lines(d: Digest) -> list[str]:
    lines = [REKAP_TITLE]
    if not d.recap:
        return [*lines, REKAP_EMPTY]
    for recap in d.recap:
        lines.append(
            REKAP_JENIS.format(
                label=esc(JENIS_PEMILIHAN[recap.jenis].label),
                done=number(recap.desa_done),
                total=number(recap.desa_total),
                share=share(recap.share),
                finished=number(recap.kecamatan_done),
                reporting=number(recap.kecamatan_reporting),
            )
        )
    reporting = max(r.kecamatan_reporting for r in d.recap)
    lines.append(REKAP_NOTE.format(reporting=number(reporting), total=number(d.kecamatan_count)))
    return lines


# --- insiden -------------------------------------------------------------------------------------


def _row(label: str, key: str, groups: Mapping[str, Mapping[str, int]]) -> str | None:
    """ "Logistik: 5 baru · 1 terbuka" with the zero categories left out; None when all are zero."""
    parts = [
        f"{number(groups[attr].get(key, 0))} {word}" for attr, word in INSIDEN_CATEGORIES if groups[attr].get(key, 0)
    ]
    return INSIDEN_ROW.format(label=label, counts=" · ".join(parts)) if parts else None


def _progress_line(d: Digest) -> str | None:
    """ "📈 Laporan progres 24 jam: 6 (rekap 4 · logistik tanpa kekurangan 2) — …", None without any."""
    by_kind = d.progress_new.by_kind()
    if not d.progress_new.total:
        return None
    detail = " · ".join(f"{label} {number(by_kind[kind])}" for kind, label in PROGRESS_LABELS if by_kind.get(kind))
    return INSIDEN_PROGRESS.format(n=number(d.progress_new.total), detail=detail)


def _insiden_lines(d: Digest) -> list[str]:
    lines = [INSIDEN_TITLE]
    counts: dict[str, IncidentCounts] = {"new": d.new, "escalated": d.escalated, "resolved": d.resolved, "open": d.open}
    progress = _progress_line(d)
    if not any(c.total for c in counts.values()) and not d.oldest_open and not d.rejected.total:
        return [*lines, INSIDEN_NONE, progress] if progress else [*lines, INSIDEN_EMPTY]
    lines.append(INSIDEN_OPEN_NOW.format(open=number(d.open.total)))
    movement = INSIDEN_MOVEMENT.format(
        new=number(d.new.total), escalated=number(d.escalated.total), resolved=number(d.resolved.total)
    )
    if d.rejected.total:
        movement += INSIDEN_REJECTED.format(rejected=number(d.rejected.total))
    lines.append(movement)
    lines.append(INSIDEN_COUNTED)
    if progress:
        lines.append(progress)
    by_kind = {attr: c.by_kind() for attr, c in counts.items()}
    kind_rows = [
        row
        for k in ordered({k for m in by_kind.values() for k in m}, KIND_ORDER)
        if (row := _row(esc(kind_label(k)), k, by_kind))
    ]
    if kind_rows:
        lines.append(INSIDEN_BY_KIND)
        lines += kind_rows
    by_sev = {attr: c.by_severity() for attr, c in counts.items()}
    sev_rows = [
        row
        for s in ordered({s for m in by_sev.values() for s in m}, MOST_SEVERE_FIRST)
        if (row := _row(f"{SEVERITY_MARK.get(s, '•')} {esc(severity_label(s))}", s, by_sev))
    ]
    if sev_rows:
        lines.append(INSIDEN_BY_SEVERITY)
        lines += sev_rows
    if d.oldest_open:
        lines.append(INSIDEN_OLDEST)
        for incident in d.oldest_open:
            lines.append(
                INSIDEN_OLDEST_LINE.format(
                    mark=SEVERITY_MARK.get(incident.severity, "•"),
                    id=incident.id,
                    severity=esc(severity_label(incident.severity)),
                    region=_name(incident.region_name),
                    age=duration(d.at - incident.received_at),
                    description=_description(
                        incident.description or (plain_summary(incident.incident) if incident.incident else "")
                    ),
                )
            )
    lines.append(
        INSIDEN_MEDIANS.format(take=duration(d.median_time_to_take), resolve=duration(d.median_time_to_resolve))
    )
    return lines


_SECTION_LINES: Final = {
    "logistik": _logistik_lines,
    "hitung": _hitung_lines,
    "rekap": _rekap_lines,
    "insiden": _insiden_lines,
}

# --- splitting -----------------------------------------------------------------------------------


# --- public --------------------------------------------------------------------------------------


def render_digest(d: Digest, sections: Sequence[str] | None = None) -> list[str]:
    """The digest of `d` as Telegram HTML messages, each below 4,096 characters.

    `sections` picks and orders the parts among "logistik", "hitung", "rekap", "insiden"; by default
    those of the digest's phase (`Digest.sections`). The header (region, date, local time, H-n)
    opens the first message. Raises ValueError for an unknown section.
    """
    if sections is None:
        sections = d.sections
    unknown = [s for s in sections if s not in _SECTION_LINES]
    if unknown:
        raise ValueError(f"unknown digest section(s): {', '.join(unknown)}")
    blocks = ["\n".join(_header(d))] + ["\n".join(_SECTION_LINES[s](d)) for s in sections]
    return split_messages(blocks)


def render_section(d: Digest, section: str) -> list[str]:
    """One section with the header, for `/logistik` ("logistik") and the parts of `/progres`."""
    return render_digest(d, (section,))
