"""KPU coordination bot for Telegram."""

from importlib import metadata


def version() -> str:
    """The installed version of the project (`kpu-bot --version`)."""
    try:
        return metadata.version("kpu-koordinasi-bot")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "0+unknown"
