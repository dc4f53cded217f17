"""`kpu-bot` and `python -m bot`: starts the command line (`bot/cli.py`).

`run` first takes the one-bot-per-database lock (`bot/instance.py`), and only then loads the
application: python-telegram-bot, the handlers and matplotlib take about a second to import (more on
a busy server), and a second `run` on the same database must be refused at once, with one line
naming the first one's pid. Loading the command line with `importlib` after the lock is the one
deliberate exception to "no project import inside a function"; `tests/architecture/test_layers.py`
checks that this module stays light.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from bot import instance
from bot.settings import SettingsError, load_settings

EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["run"]:
        try:
            settings = load_settings()
        except SettingsError:
            pass  # the command line says what is wrong, as for every verb
        else:
            try:
                instance.hold(settings)  # held until the process ends; `run` finds it held
            except instance.InstanceRunning as exc:
                print(f"error: {instance.refusal(settings, exc)}", file=sys.stderr)
                return EXIT_USAGE
            except OSError:
                pass  # a folder that cannot be created: the command line says so
    cli = importlib.import_module("bot.cli")  # the application, loaded once the lock is held
    return int(cli.main(args))


if __name__ == "__main__":
    sys.exit(main())
