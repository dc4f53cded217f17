"""The files a newcomer meets first: the README's two commands, packaging metadata, .gitignore."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_opens_with_make_demo_and_make_test():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    body = text.split("\n", 1)[1].lstrip()  # after the title
    assert body.startswith("```sh\n"), body[:80]
    first_block = body.split("```", 2)[1]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()[1:] if line.strip()]
    assert commands == ["make demo", "make test"]


def test_license_is_an_spdx_expression_and_setuptools_can_read_it():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "MIT"  # a TOML table is deprecated by setuptools
    [setuptools] = [r for r in project["build-system"]["requires"] if r.startswith("setuptools")]
    assert tuple(map(int, re.findall(r">=(\d+)", setuptools))) >= (77,)  # SPDX license needs setuptools 77


def test_gitignore_covers_the_folders_demo_and_sandbox_write():
    from bot.devtools import sandbox

    patterns = (ROOT / ".gitignore").read_text().splitlines()
    assert "demo-output*/" in patterns and "sandbox-*/" in patterns
    assert 'Path(f"sandbox-{' in Path(sandbox.__file__).read_text()  # the folder name the pattern is for
