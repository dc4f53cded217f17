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


def test_a_remembered_token_is_redacted_even_when_its_id_is_short():
    from bot.logging_setup import redact, remember_token

    short = "123:" + "b" * 35
    remember_token(short)
    assert (
        redact(f"The token `{short}` was rejected by the server.") == "The token `<TOKEN>` was rejected by the server."
    )


def test_an_uncaught_traceback_is_printed_without_the_token(capsys):
    import sys

    from bot.logging_setup import install_excepthook

    previous = sys.excepthook
    install_excepthook()
    try:
        try:
            raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")
        except RuntimeError:
            sys.excepthook(*sys.exc_info())
    finally:
        sys.excepthook = previous
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError" in err and TOKEN not in err and "<TOKEN>" in err


def test_ptbs_traceback_of_a_failed_start_is_left_to_the_command_line(capsys):
    setup_logging("INFO", TOKEN)
    log = logging.getLogger("telegram.ext")
    try:
        raise RuntimeError("All connection attempts failed")
    except RuntimeError:
        log.exception(
            "%s Failed run number %s of %s. Aborting.", "Network Retry Loop (Bootstrap Initialize Application):", 0, 0
        )
    log.warning("%s Failed run number %s of %s. Retrying.", "Network Retry Loop (Polling Updates):", 1, -1)
    err = capsys.readouterr().err
    assert "Bootstrap" not in err and "Traceback" not in err
    assert "Polling Updates" in err  # other PTB records still reach the log


def test_niks_are_masked_in_the_log_whatever_their_form():
    update = "Processing update {'text': '/lapor data ganda NIK 5103 0112 3456 0001 / %s'}"
    record = logging.LogRecord(
        "telegram.ext.Application", logging.DEBUG, __file__, 1, update, ("٥١٠٣٠١١٢٣٤٥٦٠٠٠١",), None
    )
    RedactTokenFilter(TOKEN).filter(record)
    assert record.getMessage() == (
        "Processing update {'text': '/lapor data ganda NIK 5103 **** **** **01 / ٥١٠٣**********٠١'}"
    )
