"""The bot token never reaches the log."""

import logging

from bot.logging_setup import RedactTokenFilter, setup_logging

TOKEN = "123456789:AAHk3dSecretSecretSecretSecret_xyz12"


def test_filter_redacts_the_token_in_messages_args_and_tracebacks():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "calling %s/bot%s/getMe", ("https://api", TOKEN), None)
    assert RedactTokenFilter(TOKEN).filter(record)
    assert TOKEN not in record.getMessage() and "<TOKEN>" in record.getMessage()
    try:
        raise RuntimeError(f"failed https://api.telegram.org/bot{TOKEN}/getMe")
    except RuntimeError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    RedactTokenFilter(TOKEN).filter(record)
    assert TOKEN not in record.exc_text


def test_token_shaped_strings_are_redacted_even_without_the_token():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, f"url=/bot{TOKEN}/x", (), None)
    RedactTokenFilter(None).filter(record)
    assert TOKEN not in record.getMessage()


def test_setup_quiets_httpx_and_installs_the_filter(capsys):
    setup_logging("DEBUG", TOKEN)
    assert logging.getLogger("httpx").level == logging.WARNING
    logging.getLogger("bot.test").info("token is %s", TOKEN)
    err = capsys.readouterr().err
    assert TOKEN not in err and "<TOKEN>" in err
