"""`.env.example` lists every setting, and only settings that exist."""

from pathlib import Path

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_env_example_lists_every_setting():
    lines = (ROOT / ".env.example").read_text().splitlines()
    names = [line.split("=", 1)[0] for line in lines if line and not line.startswith("#")]
    assert sorted(names) == sorted(Settings.model_fields)
    for i, line in enumerate(lines):
        if line and not line.startswith("#"):
            assert lines[i - 1].startswith("#"), f"{line} has no comment above it"
