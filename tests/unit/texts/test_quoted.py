"""What a user typed is quoted back cut short: an echo never makes an answer Telegram refuses."""

from bot.texts import common, groups
from bot.texts.common import QUOTE_LIMIT, quoted


def test_a_long_query_is_cut_and_escaped():
    assert quoted("<b>") == "&lt;b&gt;"
    long = "ا" * 4000
    assert len(quoted(long)) == QUOTE_LIMIT and quoted(long).endswith("…")
    for text in (common.wilayah_none(long), common.wilayah_results(long, [], False), groups.grup_bad_region(long)):
        assert len(text) < 4096 and long not in text
