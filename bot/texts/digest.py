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
from bot.domain.reporting import KIND_ORDER, MOST_SEVERE_FIRST, ordered
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
#: received up to each kecamatan's plan / planned (a surplus elsewhere never fills a gap)
LOGISTIK_ITEM: Final = "{label}: {received}/{planned} ({share})"
LOGISTIK_ITEM_NO_PLAN: Final = "{label}: {received} diterima (rencana belum ada)"
LOGISTIK_SURPLUS: Final = " · lebih {n}"
LOGISTIK_UNPLANNED: Final = " · {n} di kecamatan tanpa rencana"
LOGISTIK_DAMAGED: Final = " · rusak {n}"
LOGISTIK_NOTE: Final = (
    "<i>Diterima dihitung per kecamatan, paling banyak sebesar rencananya; kelebihan (lebih) dan "
    "kiriman ke kecamatan tanpa rencana ditulis terpisah.</i>"
)
LOGISTIK_LAGGING: Final = "<i>Paling tertinggal:</i>"
LOGISTIK_LAGGING_LINE: Final = "{rank}. {name} — {share}"
LOGISTIK_LAGGING_WORST: Final = " (terendah: {label} {share})"

REKAP_TITLE: Final = "🧮 <b>Rekapitulasi</b>"
REKAP_EMPTY: Final = "<i>Belum ada data rekapitulasi.</i>"
REKAP_TPS: Final = "TPS dihitung: <b>{done}</b> dari {total} ({share})"
REKAP_SIREKAP: Final = "Unggah Sirekap: {n} ({share})"
REKAP_KECAMATAN: Final = "Kecamatan melapor: {n} dari {total}"
REKAP_CHILDREN: Final = "<i>Per {level}:</i>"
REKAP_CHILD: Final = "• {name}: {done}/{total} ({share}) · Sirekap {sirekap}"
REKAP_CHILD_EMPTY: Final = "• {name}: belum ada laporan"
SILENT_TITLE: Final = "🔕 <b>Tanpa laporan 24 jam: {n} dari {total} kecamatan</b>"
SILENT_TITLE_NO_TOTAL: Final = "🔕 <b>Tanpa laporan 24 jam: {n} kecamatan</b>"
SILENT_NEVER: Final = "• {name} ({parent}) — belum pernah melapor"
SILENT_LAST: Final = "• {name} ({parent}) — terakhir {when}"
SILENT_NO_PARENT_NEVER: Final = "• {name} — belum pernah melapor"
SILENT_NO_PARENT_LAST: Final = "• {name} — terakhir {when}"
SILENT_MORE: Final = "… dan {n} kecamatan lainnya"
SILENT_NONE: Final = "✅ Semua kecamatan melapor dalam 24 jam terakhir."

INSIDEN_TITLE: Final = "🚨 <b>Insiden 24 jam</b>"
INSIDEN_EMPTY: Final = "<i>Belum ada data insiden: tidak ada insiden baru dan tidak ada yang masih terbuka.</i>"
INSIDEN_TOTALS: Final = "Baru <b>{new}</b> · dieskalasi {escalated} · selesai {resolved} · masih terbuka <b>{open}</b>"
#: what the figures above count (routine progress reports are status updates, not problems)
INSIDEN_COUNTED: Final = "<i>Dihitung: laporan yang perlu ditangani; laporan progres tidak termasuk.</i>"
INSIDEN_NONE: Final = "<i>Tidak ada insiden yang perlu ditangani.</i>"
INSIDEN_PROGRESS: Final = "📈 Laporan progres 24 jam: {n} ({detail}) — pembaruan angka, bukan masalah"
#: the kinds of progress report, in the order named
PROGRESS_LABELS: Final = (("rekap", "rekap"), ("logistik", "logistik tanpa kekurangan"))
INSIDEN_BY_KIND: Final = "<i>Per jenis:</i>"
INSIDEN_BY_SEVERITY: Final = "<i>Per tingkat:</i>"
INSIDEN_ROW: Final = "{label}: {counts}"
#: Names of the four categories in a per-kind / per-severity row, in the order shown.
INSIDEN_CATEGORIES: Final = (("new", "baru"), ("escalated", "dieskalasi"), ("resolved", "selesai"), ("open", "terbuka"))
INSIDEN_OLDEST: Final = "⏳ <b>Terbuka terlama (tinggi/kritis):</b>"
INSIDEN_OLDEST_LINE: Final = "{mark} <code>#{id}</code> {region} · {age} — {description}"
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


def _lagging_line(rank: int, child: ChildLogistics) -> str:
    line = LOGISTIK_LAGGING_LINE.format(rank=rank, name=_name(child.name), share=share(child.share))
    planned = [i for i in child.items if i.planned]
    if len(planned) > 1:
        worst = min(planned, key=lambda i: (i.share, i.item))
        line += LOGISTIK_LAGGING_WORST.format(label=esc(item_label(worst.item)), share=share(worst.share))
    return line


def _logistik_lines(d: Digest) -> list[str]:
    lines = [LOGISTIK_TITLE]
    if not d.logistics:
        return [*lines, LOGISTIK_EMPTY]
    lines += [_item_line(item) for item in d.logistics]
    if any(item.planned and (item.surplus or item.unplanned) for item in d.logistics):
        lines.append(LOGISTIK_NOTE)
    if d.lagging:
        lines.append(LOGISTIK_LAGGING)
        lines += [_lagging_line(rank, child) for rank, child in enumerate(d.lagging, start=1)]
    return lines


# --- rekap ---------------------------------------------------------------------------------------


def _child_counting_line(child: ChildCounting) -> str:
    if not child.has_counting:
        return REKAP_CHILD_EMPTY.format(name=_name(child.name))
    return REKAP_CHILD.format(
        name=_name(child.name),
        done=number(child.tps_done),
        total=number(child.tps_total),
        share=share(child.share_done),
        sirekap=share(child.share_sirekap),
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


def _rekap_lines(d: Digest) -> list[str]:
    lines = [REKAP_TITLE]
    total = d.counting_total
    if not total.has_counting and not any(c.has_counting for c in d.counting):
        lines.append(REKAP_EMPTY)
    else:
        lines.append(
            REKAP_TPS.format(done=number(total.tps_done), total=number(total.tps_total), share=share(total.share_done))
        )
        lines.append(REKAP_SIREKAP.format(n=number(total.sirekap), share=share(total.share_sirekap)))
        if total.kecamatan_total:
            lines.append(
                REKAP_KECAMATAN.format(n=number(total.kecamatan_reporting), total=number(total.kecamatan_total))
            )
        if d.counting and d.has_children:  # a kecamatan's only "child" is itself
            lines.append(REKAP_CHILDREN.format(level=child_level(d.region_code)))
            lines += [_child_counting_line(child) for child in d.counting]
    lines += _silent_lines(d, d.at.tzinfo)
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
    if not any(c.total for c in counts.values()) and not d.oldest_open:
        return [*lines, INSIDEN_NONE, progress] if progress else [*lines, INSIDEN_EMPTY]
    lines.append(
        INSIDEN_TOTALS.format(
            new=number(d.new.total),
            escalated=number(d.escalated.total),
            resolved=number(d.resolved.total),
            open=number(d.open.total),
        )
    )
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


_SECTION_LINES: Final = {"logistik": _logistik_lines, "rekap": _rekap_lines, "insiden": _insiden_lines}

# --- splitting -----------------------------------------------------------------------------------


# --- public --------------------------------------------------------------------------------------


def render_digest(d: Digest, sections: Sequence[str] = SECTIONS) -> list[str]:
    """The digest of `d` as Telegram HTML messages, each below 4,096 characters.

    `sections` picks and orders the parts among "logistik", "rekap", "insiden". The header (region,
    date, local time, H-n) opens the first message. Raises ValueError for an unknown section.
    """
    unknown = [s for s in sections if s not in _SECTION_LINES]
    if unknown:
        raise ValueError(f"unknown digest section(s): {', '.join(unknown)}")
    blocks = ["\n".join(_header(d))] + ["\n".join(_SECTION_LINES[s](d)) for s in sections]
    return split_messages(blocks)


def render_section(d: Digest, section: str) -> list[str]:
    """One section with the header, for `/progres` ("rekap") and `/logistik` ("logistik")."""
    return render_digest(d, (section,))
