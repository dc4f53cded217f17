"""Message entities: UTF-16 arithmetic, Telegram's text clean-up, automatic entity detection, HTML rendering.

Faithful to Telegram (tdlib's ``fix_formatted_text`` / ``find_entities``, which the Bot API server runs
on every text it sends and the MTProto server applies to what users type):

* offsets and lengths count UTF-16 code units (an emoji outside the BMP counts 2);
* control characters other than ``\\n`` become spaces, ``\\r`` and the bidi marks U+2028..U+202E are
  dropped; leading and trailing spaces/newlines are trimmed (leading ones only up to the first entity);
  a text with nothing but spaces/newlines is refused (``Text must be non-empty``);
* ``bot_command`` (``/[A-Za-z0-9_]{1,64}`` optionally ``@[A-Za-z0-9_]{3,32}``, at a word start, not
  followed by a word character, ``/``, ``<`` or ``>``), ``mention`` (``@`` + 4..32 username characters),
  ``hashtag``, ``cashtag``, ``url`` and ``email`` entities are found automatically in both user texts and
  bot texts; they are dropped where they would intersect a ``code``/``pre``/``text_link``-like entity;
* user-supplied entities of the automatic kinds are ignored (Telegram re-detects them).

Simplified: URL/e-mail detection uses a regular expression with a compact top-level-domain rule (every
two-letter ASCII TLD plus a list of common generic ones) instead of tdlib's full state machine and TLD
table; phone numbers, bank cards and media timestamps are not detected; overlapping splittable entities
(bold/italic/...) are kept as given rather than re-split.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

Entity = dict[str, Any]

# Entity types a bot may pass in `entities` / produce with parse_mode ("user entities" in tdlib).
USER_ENTITY_TYPES = frozenset(
    {
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "pre",
        "text_link",
        "text_mention",
        "custom_emoji",
        "blockquote",
        "expandable_blockquote",
        "date_time",
    }
)
# Entities that other entities may not cut through (tdlib's "continuous" entities).
_CONTINUOUS = frozenset(
    {
        "code",
        "pre",
        "text_link",
        "text_mention",
        "custom_emoji",
        "date_time",
        "mention",
        "hashtag",
        "cashtag",
        "bot_command",
        "url",
        "email",
        "phone_number",
    }
)
_BLOCKQUOTES = frozenset({"blockquote", "expandable_blockquote"})
# tdlib's tie-break when two entities start at the same offset with the same length.
_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "mention": 50,
    "hashtag": 50,
    "bot_command": 50,
    "url": 50,
    "email": 50,
    "cashtag": 50,
    "phone_number": 50,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "date_time": 95,
    "custom_emoji": 99,
}


# --------------------------------------------------------------------------- UTF-16 helpers


_ASTRAL = re.compile(r"[\U00010000-\U0010FFFF]")


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit Telegram counts limits and offsets in."""
    return len(text) + len(_ASTRAL.findall(text))


def is_bmp(text: str) -> bool:
    """True when every character is one UTF-16 unit, so Python indexes are UTF-16 offsets."""
    return _ASTRAL.search(text) is None


def utf16_prefix(text: str) -> list[int]:
    """``prefix[i]`` is the UTF-16 offset of ``text[i]``; ``prefix[len(text)]`` the total length."""
    if is_bmp(text):
        return list(range(len(text) + 1))
    out = [0] * (len(text) + 1)
    acc = 0
    for i, ch in enumerate(text):
        out[i] = acc
        acc += 2 if ord(ch) > 0xFFFF else 1
    out[len(text)] = acc
    return out


def utf16_slice(text: str, offset: int, length: int) -> str:
    """The substring covered by an entity (``offset``/``length`` in UTF-16 units)."""
    encoded = text.encode("utf-16-le")
    return encoded[2 * offset : 2 * (offset + length)].decode("utf-16-le", errors="replace")


def index_of_offset(prefix: Sequence[int], offset: int) -> int:
    """Python index of the character starting at UTF-16 ``offset`` (``-1`` if it falls inside a pair)."""
    lo, hi = 0, len(prefix) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        if prefix[mid] == offset:
            return mid
        if prefix[mid] < offset:
            lo = mid + 1
        else:
            hi = mid - 1
    return -1


def sort_entities(entities: list[Entity]) -> list[Entity]:
    """Telegram's order: by offset, longer first, then by type priority."""
    entities.sort(key=lambda e: (e["offset"], -e["length"], _PRIORITY.get(e["type"], 50)))
    return entities


# --------------------------------------------------------------------------- automatic detection


def _is_word_char(ch: str) -> bool:
    return ch == "_" or unicodedata.category(ch)[0] in "LN"


def _is_hashtag_char(ch: str) -> bool:
    code = ord(ch)
    if ch == "_" or code in (0x200C, 0xB7) or 0xD80 <= code <= 0xDFF:
        return True
    cat = unicodedata.category(ch)
    return cat[0] == "L" or cat == "Nd"


_ALNUM_US = re.compile(r"[A-Za-z0-9_]*")


def find_bot_commands(text: str) -> list[tuple[int, int]]:
    """(start, end) Python indices of every ``/command`` or ``/command@bot`` token, as tdlib matches them."""
    found: list[tuple[int, int]] = []
    pos = text.find("/")
    while pos != -1:
        start = pos
        if start > 0:
            prev = text[start - 1]
            if _is_word_char(prev) or prev in "/<>":
                pos = text.find("/", start + 1)
                continue
        name = _ALNUM_US.match(text, start + 1)
        assert name is not None
        end = name.end()
        ok = 1 <= end - start - 1 <= 64
        if ok and end < len(text) and text[end] == "@":
            bot = _ALNUM_US.match(text, end + 1)
            assert bot is not None
            ok = 3 <= bot.end() - end - 1 <= 32
            end = bot.end()
        if ok and end < len(text):
            nxt = text[end]
            ok = not (_is_word_char(nxt) or nxt in "/<>")
        if ok:
            found.append((start, end))
        pos = text.find("/", max(end, start + 1))
    return found


_SHORT_USERNAMES = frozenset({"gif", "nft", "pic", "ufc", "vid"})


def find_mentions(text: str) -> list[tuple[int, int]]:
    """``@username`` mentions: 4..32 characters, or one of Telegram's few valid short names."""
    found: list[tuple[int, int]] = []
    pos = text.find("@")
    while pos != -1:
        start = pos
        if start > 0 and _is_word_char(text[start - 1]):
            pos = text.find("@", start + 1)
            continue
        name = _ALNUM_US.match(text, start + 1)
        assert name is not None
        end = name.end()
        size = end - start - 1
        ok = 2 <= size <= 32 and not (end < len(text) and _is_word_char(text[end]))
        if ok and size < 4 and text[start + 1 : end].lower() not in _SHORT_USERNAMES:
            ok = False
        if ok:
            found.append((start, end))
        pos = text.find("@", max(end, start + 1))
    return found


def find_hashtags(text: str) -> list[tuple[int, int]]:
    """``#tag`` with at least one letter, not glued to a preceding letter or a following ``#``."""
    found: list[tuple[int, int]] = []
    pos = text.find("#")
    while pos != -1:
        start = pos
        if start > 0 and _is_hashtag_char(text[start - 1]):
            pos = text.find("#", start + 1)
            continue
        end = start + 1
        letters = False
        while end < len(text) and _is_hashtag_char(text[end]):
            letters = letters or unicodedata.category(text[end])[0] == "L"
            end += 1
        size = end - start - 1
        if size >= 1 and letters and not (end < len(text) and text[end] == "#"):
            found.append((start, min(end, start + 1 + 256)))
        pos = text.find("#", max(end, start + 1))
    return found


_CASHTAG = re.compile(r"\$(1INCH|[A-Z]{1,8})")


def find_cashtags(text: str) -> list[tuple[int, int]]:
    """``$USD``-style cashtags."""
    found: list[tuple[int, int]] = []
    for m in _CASHTAG.finditer(text):
        start, end = m.span()
        if start > 0 and (_is_hashtag_char(text[start - 1]) or text[start - 1] == "$"):
            continue
        if end < len(text) and (_is_hashtag_char(text[end]) or text[end] == "$"):
            continue
        found.append((start, end))
    return found


_GENERIC_TLDS = frozenset(
    """com org net edu gov mil int info biz name pro app dev io ai xyz online site store tech shop
    blog news cloud club live media space website world asia mobi tel travel museum aero coop jobs
    link top icu web page""".split()
)
_HOST = (
    r"(?:[A-Za-z0-9\u00a1-\uffff](?:[A-Za-z0-9\u00a1-\uffff_-]{0,62})\.)+"
    r"(?P<tld>[A-Za-z]{2,24}|xn--[A-Za-z0-9-]{1,59})"
)
_URL = re.compile(
    r"(?P<scheme>(?:https?|ftp|tonsite)://)?"
    r"(?:(?P<userinfo>[A-Za-z0-9._~%!$&'*+,;=:-]+)@)?"
    rf"(?P<host>{_HOST}|(?:\d{{1,3}}\.){{3}}\d{{1,3}})"
    r"(?::(?P<port>\d{1,5}))?"
    r"(?P<path>[/?#][^\s<>\"]*)?",
    re.IGNORECASE,
)
_TG_URL = re.compile(r"tg://[A-Za-z0-9_\-?=&/#.%+]+", re.IGNORECASE)
_EMAIL = re.compile(rf"[A-Za-z0-9._%+-]+@{_HOST}")
_TRAILING = ".,:;!?'\"\u2019"


def _valid_tld(tld: str) -> bool:
    tld = tld.lower()
    return (len(tld) == 2 and tld.isascii() and tld.isalpha()) or tld in _GENERIC_TLDS or tld.startswith("xn--")


def _trim_url(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in _TRAILING:
        end -= 1
    while end > start and text[end - 1] == ")" and text.count("(", start, end) < text.count(")", start, end):
        end -= 1
    return end


def find_urls(text: str) -> list[tuple[int, int, str]]:
    """(start, end, "url"|"email") spans, e-mail addresses taking precedence over the URL inside them."""
    found: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for m in _EMAIL.finditer(text):
        start, end = m.span()
        if start > 0 and (_is_word_char(text[start - 1]) or text[start - 1] in "@/"):
            continue
        if not _valid_tld(m.group("tld")):
            continue
        found.append((start, end, "email"))
        taken.append((start, end))
    for m in _TG_URL.finditer(text):
        start, end = m.start(), _trim_url(text, m.start(), m.end())
        if any(s < end and start < e for s, e in taken):
            continue
        found.append((start, end, "url"))
        taken.append((start, end))
    for m in _URL.finditer(text):
        start = m.start()
        if start > 0 and (_is_word_char(text[start - 1]) or text[start - 1] in "@./-_#$"):
            continue
        if m.group("userinfo") and not m.group("scheme"):
            continue  # "user@host" without a scheme is an e-mail, handled above
        tld = m.group("tld")
        is_ip = tld is None
        if is_ip and not m.group("scheme"):
            continue
        if not is_ip and not _valid_tld(tld):
            continue
        if m.group("port") and int(m.group("port")) > 65535:
            continue
        end = _trim_url(text, start, m.end())
        if end < len(text) and (_is_word_char(text[end]) and text[end - 1] not in "/"):
            continue
        if any(s < end and start < e for s, e in taken):
            continue
        found.append((start, end, "url"))
        taken.append((start, end))
    return sorted(found)


def find_entities(text: str) -> list[Entity]:
    """All automatically detected entities of ``text``, in UTF-16 units, non-overlapping, sorted."""
    spans: list[tuple[int, int, str]] = []
    spans += [(s, e, "mention") for s, e in find_mentions(text)]
    spans += [(s, e, "bot_command") for s, e in find_bot_commands(text)]
    spans += [(s, e, "hashtag") for s, e in find_hashtags(text)]
    spans += [(s, e, "cashtag") for s, e in find_cashtags(text)]
    spans += find_urls(text)
    spans.sort(key=lambda t: (t[0], -(t[1] - t[0])))
    prefix = utf16_prefix(text)
    out: list[Entity] = []
    last_end = -1
    for start, end, kind in spans:
        if start < last_end:
            continue  # overlapping matches: the earlier (longer) one wins, as in tdlib's merge
        out.append({"offset": prefix[start], "length": prefix[end] - prefix[start], "type": kind})
        last_end = end
    return out


def merge_detected(entities: list[Entity], detected: Iterable[Entity]) -> list[Entity]:
    """Add ``detected`` entities that neither intersect a continuous entity nor cross a blockquote edge."""
    result = list(entities)
    blockers = [e for e in entities if e["type"] in _CONTINUOUS]
    quotes = [e for e in entities if e["type"] in _BLOCKQUOTES]
    for new in detected:
        a, b = new["offset"], new["offset"] + new["length"]
        if any(a < e["offset"] + e["length"] and e["offset"] < b for e in blockers):
            continue
        if any((a < q["offset"] < b) or (a < q["offset"] + q["length"] < b) for q in quotes):
            continue
        result.append(new)
    return sort_entities(result)


# --------------------------------------------------------------------------- clean-up (fix_formatted_text)


class TextError(ValueError):
    """A tdlib message about an unusable text (``Text must be non-empty``, bad entity bounds, ...)."""


#: characters Telegram drops or replaces (see ``_cleaned_chars``)
_NEEDS_CLEANING = re.compile(r"[\x00-\x09\x0b-\x1f\u2028-\u202e\u0333\u033f\u030a]")


def _cleaned_chars(text: str) -> list[tuple[int, str]]:
    """(original index, replacement) for every character Telegram keeps; dropped characters are absent."""
    out: list[tuple[int, str]] = []
    for i, ch in enumerate(text):
        code = ord(ch)
        if ch == "\r" or 0x2028 <= code <= 0x202E or code in (0x0333, 0x033F, 0x030A):
            continue
        if code < 32 and ch != "\n":
            out.append((i, " "))
        else:
            out.append((i, ch))
    return out


def validate_entity_bounds(text: str, entities: Sequence[Entity]) -> None:
    """tdlib's checks on bot-supplied entities against the text they annotate (messages are tdlib's)."""
    if not entities:
        return
    total = utf16_len(text)
    prefix = utf16_prefix(text)
    starts = range(total + 1) if total == len(text) else set(prefix)

    def byte_after(unit: int) -> int:
        # tdlib notices a split surrogate pair at the first byte of the following character
        index = next(i for i in range(len(text)) if prefix[i] < unit < prefix[i + 1])
        return len(text[: index + 1].encode("utf-8", errors="surrogatepass"))

    for e in sorted(entities, key=lambda x: (x["offset"], -x["length"])):
        off, length = e["offset"], e["length"]
        if off < 0 or off > 1_000_000:
            raise TextError(f"Receive an entity with incorrect offset {off}")
        if length < 0 or length > 1_000_000:
            raise TextError(f"Receive an entity with incorrect length {length}")
        if length == 0:
            continue
        if off >= total:
            raise TextError(f"Entity begins after the end of the text at UTF-16 offset {off}")
        if off + length > total:
            raise TextError(
                f"Entity beginning at UTF-16 offset {off} ends after the end of the text "
                f"at UTF-16 offset {off + length}"
            )
        if off not in starts:
            raise TextError(f"Entity begins in a middle of a UTF-16 symbol at byte offset {byte_after(off)}")
        if off + length not in starts:
            raise TextError(
                f"Entity beginning at UTF-16 offset {off} ends in a middle of a UTF-16 symbol "
                f"at byte offset {byte_after(off + length)}"
            )


def fix_formatted_text(
    text: str,
    entities: Sequence[Entity],
    *,
    allow_empty: bool = False,
    detect: bool = True,
) -> tuple[str, list[Entity]]:
    """Normalise ``text``/``entities`` exactly where it matters for bots (see module docstring).

    Raises :class:`TextError` with tdlib's message when the text is unusable.
    """
    validate_entity_bounds(text, entities)
    fixed: list[Entity] = []
    if _NEEDS_CLEANING.search(text) is None:
        # nothing is dropped or replaced (the common case): offsets stay as they are
        new_text = text
        fixed = [dict(e) for e in entities if e["length"] > 0]
    else:
        kept = _cleaned_chars(text)
        old_prefix = utf16_prefix(text)
        new_text = "".join(ch for _, ch in kept)
        new_prefix = utf16_prefix(new_text)
        # Map every old UTF-16 boundary to the new one (dropped characters collapse).
        boundary: dict[int, int] = {}
        j = 0
        for i in range(len(text) + 1):
            while j < len(kept) and kept[j][0] < i:
                j += 1
            boundary[old_prefix[i]] = new_prefix[j]
        for e in entities:
            if e["length"] <= 0:
                continue
            start = boundary[e["offset"]]
            end = boundary[e["offset"] + e["length"]]
            if end > start:
                fixed.append({**e, "offset": start, "length": end - start})

    stripped_right = new_text.rstrip(" \n")
    if not stripped_right:
        if allow_empty:
            return "", []
        raise TextError("Text must be non-empty")
    right = utf16_len(stripped_right)
    clipped: list[Entity] = []
    for e in fixed:
        if e["offset"] >= right:
            continue
        if e["offset"] + e["length"] > right:
            e = {**e, "length": right - e["offset"]}
        clipped.append(e)
    first_entity = min((e["offset"] for e in clipped), default=right)
    lead = 0
    while lead < len(stripped_right) and lead < first_entity and stripped_right[lead] in " \n":
        lead += 1
    final_text = stripped_right[lead:]
    final = [{**e, "offset": e["offset"] - lead} for e in clipped]
    sort_entities(final)
    if detect:
        final = merge_detected(final, find_entities(final_text))
    return final_text, final


# --------------------------------------------------------------------------- rendering


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _open_tag(e: Entity) -> str:
    kind = e["type"]
    simple = {
        "bold": "<b>",
        "italic": "<i>",
        "underline": "<u>",
        "strikethrough": "<s>",
        "spoiler": "<tg-spoiler>",
        "code": "<code>",
        "blockquote": "<blockquote>",
        "expandable_blockquote": "<blockquote expandable>",
    }
    if kind in simple:
        return simple[kind]
    if kind == "pre":
        lang = e.get("language")
        return f'<pre><code class="language-{_escape(lang)}">' if lang else "<pre>"
    if kind == "text_link":
        return f'<a href="{_escape(e["url"]).replace(chr(34), "&quot;")}">'
    if kind == "text_mention":
        return f'<a href="tg://user?id={e["user"]["id"]}">'
    if kind == "custom_emoji":
        return f'<tg-emoji emoji-id="{e["custom_emoji_id"]}">'
    if kind == "date_time":
        fmt = e.get("date_time_format")
        extra = f' format="{fmt}"' if fmt else ""
        return f'<tg-time unix="{e["unix_time"]}"{extra}>'
    return ""


def _close_tag(e: Entity) -> str:
    kind = e["type"]
    closing = {
        "bold": "</b>",
        "italic": "</i>",
        "underline": "</u>",
        "strikethrough": "</s>",
        "spoiler": "</tg-spoiler>",
        "code": "</code>",
        "blockquote": "</blockquote>",
        "expandable_blockquote": "</blockquote>",
        "text_link": "</a>",
        "text_mention": "</a>",
        "custom_emoji": "</tg-emoji>",
        "date_time": "</tg-time>",
    }
    if kind == "pre":
        return "</code></pre>" if e.get("language") else "</pre>"
    return closing.get(kind, "")


def entities_to_html(text: str, entities: Sequence[Entity] | None) -> str:
    """Re-render ``text`` + formatting ``entities`` as Telegram HTML (automatic entities stay plain text).

    Properly nested entities round-trip through :func:`bot.emulator.html.parse_html`; partially
    overlapping ones are closed and re-opened so the output is always well-formed.
    """
    formatting = [e for e in (entities or []) if _open_tag(e)]
    units = text.encode("utf-16-le")
    total = len(units) // 2
    starts: dict[int, list[Entity]] = {}
    for e in sort_entities(list(formatting)):
        starts.setdefault(e["offset"], []).append(e)
    boundaries = sorted({0, total, *starts, *(e["offset"] + e["length"] for e in formatting)})
    out: list[str] = []
    stack: list[Entity] = []
    for idx, pos in enumerate(boundaries):
        # close entities ending here (and re-open any inner ones cut by an overlap)
        reopen: list[Entity] = []
        while any(e["offset"] + e["length"] <= pos for e in stack):
            top = stack.pop()
            out.append(_close_tag(top))
            if top["offset"] + top["length"] > pos:
                reopen.append(top)
        for e in reversed(reopen):
            out.append(_open_tag(e))
            stack.append(e)
        for e in starts.get(pos, []):
            out.append(_open_tag(e))
            stack.append(e)
        if idx + 1 < len(boundaries):
            nxt = boundaries[idx + 1]
            out.append(_escape(units[2 * pos : 2 * nxt].decode("utf-16-le", errors="replace")))
    while stack:
        out.append(_close_tag(stack.pop()))
    return "".join(out)
