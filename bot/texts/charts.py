"""Every word on the digest's charts (`bot.charts`): titles, legends, axis labels, the "no data"
placeholder and the PNG file names. Plain text (matplotlib, not Telegram HTML).
"""

from __future__ import annotations

from typing import Final

from bot.domain.digest import Digest
from bot.texts.formatting import h_label, local_time, long_date

TITLE_LOGISTICS: Final = "Kesiapan logistik per barang"
TITLE_COUNTING: Final = "Progres penghitungan suara"
TITLE_INCIDENTS: Final = "Insiden per jenis dan status"
#: the title with the region, on one line or (a long region name) on two
HEADING: Final = "{title} — {region}"
HEADING_WRAPPED: Final = "{title}\n{region}"
SUBTITLE: Final = "{date} · {time} · {h}"
NO_DATA: Final = "Belum ada data"
NO_DATA_LOGISTICS: Final = "Belum ada kebutuhan logistik untuk wilayah ini."
NO_DATA_COUNTING: Final = "Belum ada laporan penghitungan suara untuk wilayah ini."
NO_DATA_INCIDENTS: Final = "Belum ada insiden tercatat untuk wilayah ini."
#: the last column of the readiness heat-map: PPK with every item complete, "n/N"
READY_COLUMN: Final = "PPK lengkap"
READY_CELL: Final = "{ready}/{total}"
NO_PLAN_LABEL: Final = "tanpa kebutuhan"
DAMAGED_LABEL: Final = "ada yang rusak"
#: legend of the completeness bands of the logistics heat-map, lowest first (`bot.charts.BANDS`)
BAND_LABELS: Final = ("kurang, < 50%", "kurang, 50–74%", "kurang, 75–89%", "kurang, 90–99%", "lengkap")
ROWS_CUT: Final = "{shown} {level} terendah dari {total}"
COUNTING_TOTAL: Final = "Seluruh wilayah: TPS dihitung {done} · Sirekap {sirekap}"
COUNTING_LABEL: Final = "{done} · Sirekap {sirekap}"
LEGEND_DONE: Final = "TPS dihitung"
LEGEND_SIREKAP: Final = "C.Hasil diunggah ke Sirekap"
LEGEND_SIREKAP_UNKNOWN: Final = "Sirekap belum dilaporkan"
NOT_REPORTED: Final = "belum dilaporkan"
NO_COUNTING_REPORT: Final = "belum ada laporan"
AXIS_PERCENT_TPS: Final = "% dari jumlah TPS"
AXIS_INCIDENTS: Final = "Insiden yang perlu ditangani, sejak awal (laporan progres tidak dihitung)"


def status_legend(status: str) -> str:
    """A status in the incidents chart's legend: its own name, capitalised ("Ditangani")."""
    return status.capitalize()


def subtitle(d: Digest, extra: str = "") -> str:
    """Date, local time and H-n of the digest, and an extra line if given."""
    text = SUBTITLE.format(date=long_date(d.at), time=local_time(d.at), h=h_label(d.day_offset))
    return f"{text}\n{extra}" if extra else text


def file_name(section: str, d: Digest) -> str:
    """The PNG's name: "logistik_51_20240215_0700.png" (section, region, local moment)."""
    return f"{section}_{d.region_code.replace('.', '-')}_{d.at:%Y%m%d_%H%M}.png"
