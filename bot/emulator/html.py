"""Telegram's ``parse_mode=HTML``: markup → plain text + entities (UTF-16 offsets).

Faithful to the parser Telegram runs (tdlib ``parse_html``), including its error texts, which the Bot
API reports as ``Bad Request: can't parse entities: <message>`` with UTF-8 *byte* offsets:

* supported tags: ``b strong i em u ins s strike del span tg-spoiler tg-emoji tg-time a code pre
  blockquote``; ``span`` needs ``class="tg-spoiler"``; ``<pre><code class="language-x">`` makes a
  ``pre`` entity with ``language``; ``<blockquote expandable>`` an ``expandable_blockquote``;
* tag and attribute names are case-insensitive, attribute values may be quoted or bare name tokens;
  unknown attributes are ignored;
* only ``&lt; &gt; &amp; &quot;`` and numeric references are decoded; any other ``&`` is kept as a
  literal character (Telegram does *not* reject a bare ``&``);
* a ``<`` always starts a tag: ``a < b`` fails with ``Unsupported start tag "" at byte offset 2``;
* an end tag must close the innermost open tag (``</>`` closes whatever is open);
* empty elements produce no entity; an ``<a>`` without ``href`` uses its text as the URL; a link
  that is not a valid URL silently produces no entity; ``tg://user?id=N`` makes a ``text_mention``.
"""

from __future__ import annotations

from .entities import Entity, sort_entities
from .errors import EntityParseError
from .links import LinkError, check_link, link_user_id

SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "tg-time",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = " \t\r\n\v\f\0"
_END = "\0"


def decode_html_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode the character reference at ``text[pos] == '&'``; ``None`` means "keep the '&' literally"."""
    n = len(text)
    end = pos + 1
    if end < n and text[end] == "#":
        end += 1
        value = 0
        digits_start = end
        if end < n and text[end] == "x":
            end += 1
            digits_start = end
            while end < n and text[end] in "0123456789abcdefABCDEF":
                end += 1
            value = int(text[digits_start:end], 16) if end > digits_start else 0
        else:
            while end < n and text[end].isascii() and text[end].isdigit():
                end += 1
            value = int(text[digits_start:end]) if end > digits_start else 0
        if value == 0 or value >= 0x10FFFF or end - pos >= 10:
            return None
        char = chr(value)
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        name = text[pos + 1 : end]
        if name not in _NAMED:
            return None
        char = _NAMED[name]
    if end < n and text[end] == ";":
        end += 1
    return char, end


def _width(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


class _Open:
    __slots__ = ("tag", "argument", "unix", "offset", "out_len")

    def __init__(self, tag: str, argument: str, unix: int, offset: int, out_len: int) -> None:
        self.tag = tag
        self.argument = argument
        self.unix = unix
        self.offset = offset
        self.out_len = out_len


def parse_html(source: str) -> tuple[str, list[Entity]]:
    """Parse Telegram HTML. Returns ``(text, entities)``; raises :class:`EntityParseError` like Telegram.

    ``text_mention`` entities carry a bare ``user_id`` here; the caller resolves it to a User object.
    """
    n = len(source)

    def at(k: int) -> str:
        return source[k] if k < n else _END

    def byte_offset(k: int) -> int:
        return len(source[:k].encode("utf-8"))

    def fail(message: str) -> EntityParseError:
        return EntityParseError(message)

    out: list[str] = []
    out_len_chars = 0
    u16 = 0
    stack: list[_Open] = []
    entities: list[Entity] = []
    i = 0
    while i < n:
        c = source[i]
        if c == "&":
            decoded = decode_html_entity(source, i)
            if decoded is not None:
                char, i = decoded
                out.append(char)
                out_len_chars += 1
                u16 += _width(char)
                continue
        if c != "<":
            out.append(c)
            out_len_chars += 1
            u16 += _width(c)
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != "/":
            tag, argument, unix, i = _start_tag(source, begin)
            stack.append(_Open(tag, argument, unix, u16, out_len_chars))
            i += 1  # the '>'
            continue

        # end tag
        if not stack:
            raise fail(f"Unexpected end tag at byte offset {byte_offset(begin)}")
        while at(i) not in _SPACES and at(i) != ">":
            i += 1
        end_name = source[begin + 2 : i].lower()
        while at(i) != _END and at(i) in _SPACES:
            i += 1
        if at(i) != ">":
            raise fail(f"Unclosed end tag at byte offset {byte_offset(begin)}")
        top = stack[-1]
        if end_name and end_name != top.tag:
            raise fail(
                f'Unmatched end tag at byte offset {byte_offset(begin)}, expected "</{top.tag}>", found "</{end_name}>"'
            )
        if u16 > top.offset:
            _close(top, u16 - top.offset, "".join(out[top.out_len :]), entities)
        stack.pop()
        i += 1
    if stack:
        raise fail(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    for e in entities:
        if e["type"] == "code":
            e.pop("language", None)
    text = "".join(out)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise fail(
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units"
        ) from None
    return text, sort_entities(entities)


def _start_tag(source: str, begin: int) -> tuple[str, str, int, int]:
    """The start tag at `begin` (a '<'): its name, the argument its attributes give (href, language,
    spoiler class, emoji id, expandable, time format), its unix time (tg-time), and the index of its
    '>'. Raises EntityParseError like Telegram."""
    n = len(source)

    def at(k: int) -> str:
        return source[k] if k < n else _END

    def byte_offset(k: int) -> int:
        return len(source[:k].encode("utf-8"))

    def fail(message: str) -> EntityParseError:
        return EntityParseError(message)

    i = begin + 1
    while at(i) not in _SPACES and at(i) != ">":
        i += 1
    if at(i) == _END:
        raise fail(f"Unclosed start tag at byte offset {byte_offset(begin)}")
    tag = source[begin + 1 : i].lower()
    if tag not in SUPPORTED_TAGS:
        raise fail(f'Unsupported start tag "{tag}" at byte offset {byte_offset(begin)}')
    argument = ""
    unix = 0
    while at(i) != ">":
        while at(i) != _END and at(i) in _SPACES:
            i += 1
        if at(i) == ">":
            break
        attr_begin = i
        while at(i) not in _SPACES and at(i) not in "=>/\"'":
            i += 1
        name = source[attr_begin:i]
        if not name:
            raise fail(f'Empty attribute name in the tag "{tag}" at byte offset {byte_offset(begin)}')
        while at(i) != _END and at(i) in _SPACES:
            i += 1
        if at(i) != "=":
            if at(i) == _END:
                raise fail(f'Unclosed start tag "{tag}" at byte offset {byte_offset(begin)}')
            if tag == "blockquote" and name == "expandable":
                argument = "1"
            continue
        i += 1
        while at(i) != _END and at(i) in _SPACES:
            i += 1
        if at(i) == _END:
            raise fail(f'Unclosed start tag "{tag}" at byte offset {byte_offset(begin)}')
        if at(i) not in "'\"":
            token_begin = i
            while (at(i).isascii() and at(i).isalnum()) or at(i) in ".-":
                i += 1
            value = source[token_begin:i].lower()
            if at(i) not in _SPACES and at(i) != ">":
                raise fail(f"Unexpected end of name token at byte offset {byte_offset(token_begin)}")
        else:
            quote = at(i)
            i += 1
            chars: list[str] = []
            while at(i) != quote and at(i) != _END:
                if at(i) == "&":
                    decoded = decode_html_entity(source, i)
                    if decoded is not None:
                        chars.append(decoded[0])
                        i = decoded[1]
                        continue
                chars.append(at(i))
                i += 1
            if at(i) == quote:
                i += 1
            value = "".join(chars)
        if at(i) == _END:
            raise fail(f"Unclosed start tag at byte offset {byte_offset(begin)}")
        if tag == "a" and name == "href":
            argument = value
        elif tag == "code" and name == "class" and value.startswith("language-"):
            argument = value[len("language-") :]
        elif tag == "span" and name == "class" and value.startswith("tg-"):
            argument = value[3:]
        elif tag == "tg-emoji" and name == "emoji-id":
            argument = value
        elif tag == "blockquote" and name == "expandable":
            argument = "1"
        elif tag == "tg-time" and name == "unix":
            unix = int(value) if value.lstrip("-").isdigit() else 0
        elif tag == "tg-time" and name == "format":
            argument = value
    if tag == "span" and argument != "spoiler":
        raise fail(f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}')
    return tag, argument, unix, i


def _close(top: _Open, length: int, inner_text: str, entities: list[Entity]) -> None:
    tag, offset = top.tag, top.offset
    if tag in _SIMPLE:
        entities.append({"offset": offset, "length": length, "type": _SIMPLE[tag]})
    elif tag == "span":
        entities.append({"offset": offset, "length": length, "type": "spoiler"})
    elif tag == "tg-emoji":
        arg = top.argument
        if not arg.lstrip("-").isdigit() or int(arg) == 0:
            raise EntityParseError("Invalid custom emoji identifier specified")
        entities.append({"offset": offset, "length": length, "type": "custom_emoji", "custom_emoji_id": str(int(arg))})
    elif tag == "tg-time":
        fmt = top.argument
        if fmt and not (fmt == "r" or all(ch in "tTdDwW" for ch in fmt)):
            raise EntityParseError("Invalid date format used")
        if top.unix > 0:
            entity: Entity = {"offset": offset, "length": length, "type": "date_time", "unix_time": top.unix}
            if top.argument:
                entity["date_time_format"] = top.argument
            entities.append(entity)
    elif tag == "a":
        url = top.argument or inner_text
        user_id = link_user_id(url)
        if user_id is not None:
            entities.append({"offset": offset, "length": length, "type": "text_mention", "user_id": user_id})
        else:
            try:
                entities.append({"offset": offset, "length": length, "type": "text_link", "url": check_link(url)})
            except LinkError:
                pass  # Telegram silently drops links it cannot use
    elif tag == "pre":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "code"
            and last["offset"] == offset
            and last["length"] == length
            and last.get("language")
        ):
            last["type"] = "pre"
        else:
            entities.append({"offset": offset, "length": length, "type": "pre"})
    elif tag == "code":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "pre"
            and last["offset"] == offset
            and last["length"] == length
            and top.argument
        ):
            last["language"] = top.argument
        else:
            entity = {"offset": offset, "length": length, "type": "code"}
            if top.argument:
                entity["language"] = top.argument
            entities.append(entity)
    elif tag == "blockquote":
        kind = "expandable_blockquote" if top.argument else "blockquote"
        entities.append({"offset": offset, "length": length, "type": kind})
