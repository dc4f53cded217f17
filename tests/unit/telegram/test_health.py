"""/healthz's verdict and /metrics' text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.telegram.health import STALE_AFTER, Liveness, exposition
from storage.metrics import Figures


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def test_polling_is_healthy_only_while_get_updates_succeeds():
    clock = Clock()
    live = Liveness(clock=clock)
    assert live.problem() == "belum menerima update dari Bot API"
    live.updates_ok()
    assert live.problem() is None
    live.updates_failed("NetworkError: connection refused")
    assert live.problem() == "getUpdates gagal: NetworkError: connection refused"
    live.updates_ok()
    clock.now += STALE_AFTER + 1
    assert "detik lalu" in (live.problem() or "")
    assert Liveness(webhook=True, clock=clock).problem() is None


def test_exposition_is_prometheus_text():
    now = datetime(2024, 2, 14, 8, 0, tzinfo=UTC)
    figures = Figures(12, {"baru": 3, "selesai": 9}, 2, now - timedelta(seconds=90), 1)
    text = exposition(figures, {"telegram_429": 4, "handler_errors": 1}, now)
    lines = text.splitlines()
    assert "kpu_outbox_pending 2" in lines and "kpu_outbox_oldest_pending_seconds 90" in lines
    assert 'kpu_incidents{status="baru"} 3' in lines and 'kpu_incidents{status="selesai"} 9' in lines
    assert "kpu_telegram_429_total 4" in lines and "kpu_digests_given_up_total 0" in lines
    assert "kpu_reports_received_total 12" in lines and "kpu_outbox_given_up_total 1" in lines
    for line in lines:  # every sample has its HELP and TYPE
        if not line.startswith("#"):
            name = line.split("{")[0].split()[0]
            assert f"# TYPE {name} " in text, name
    assert text.endswith("\n")
