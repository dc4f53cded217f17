"""Telegram's ``parse_mode=MarkdownV2`` and legacy ``Markdown``: markup → plain text + entities.

Faithful to tdlib's ``parse_markdown_v2`` / ``parse_markdown`` semantics and error texts (byte offsets
are UTF-8 offsets into the submitted text): in MarkdownV2 every character of ``_*[]()~`>#+-=|{}.!``
outside code must be escaped with ``\\`` (``Character '.' is reserved and must be escaped with the
preceding '\\'``); ``*bold*``, ``_italic_``, ``__underline__``, ``~strike~``, ``||spoiler||``,
`` `code` ``, fenced ``pre`` with optional language, ``[text](url)``, ``![emoji](tg://emoji?id=N)``
and ``>`` block quotes (``**>`` ... ``||`` for expandable ones) are supported.

Simplified: ``tg://time`` links inside ``![..](..)`` are not supported (they are refused as invalid).
"""

from __future__ import annotations

import re

from .entities import Entity, sort_entities
from .errors import EntityParseError
from .links import LinkError, check_link, link_user_id

_TYPE_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "pre_code": "PreCode",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
    "blockquote": "BlockQuote",
}
_RESERVED = "_*[]()~`>#+-=|{}.!\n"
_SPACES = " \t\r\n\v\f\0"
_EMOJI_URL = re.compile(r"^tg://emoji\?id=([1-9][0-9]{0,18})$")


def _width(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


class _Open:
    __slots__ = ("kind", "argument", "offset", "src_index", "out_len")

    def __init__(self, kind: str, argument: str, offset: int, src_index: int, out_len: int) -> None:
        self.kind = kind
        self.argument = argument
        self.offset = offset
        self.src_index = src_index
        self.out_len = out_len


def _link_entity(offset: int, length: int, url: str) -> Entity | None:
    user_id = link_user_id(url)
    if user_id is not None:
        return {"offset": offset, "length": length, "type": "text_mention", "user_id": user_id}
    try:
        return {"offset": offset, "length": length, "type": "text_link", "url": check_link(url)}
    except LinkError:
        return None


def _at(source: str, k: int) -> str:
    return source[k] if k < len(source) else "\0"


def _closes(kind: str, source: str, i: int, have_quote: bool) -> bool:
    """Whether the reserved character at `i` ends the innermost open entity, of `kind`."""
    c = source[i]
    if have_quote and c == "\n" and (i + 1 == len(source) or source[i + 1] != ">"):
        return True
    if kind == "bold":
        return c == "*"
    if kind == "italic":
        return c == "_" and _at(source, i + 1) != "_"
    if kind == "code":
        return c == "`"
    if kind in ("pre", "pre_code"):
        return c == "`" and _at(source, i + 1) == "`" and _at(source, i + 2) == "`"
    if kind in ("text_link", "custom_emoji"):
        return c == "]"
    if kind == "underline":
        return c == "_" and _at(source, i + 1) == "_"
    if kind == "strikethrough":
        return c == "~"
    if kind == "spoiler":
        return c == "|" and _at(source, i + 1) == "|"
    return False


def _read_url(source: str, begin: int) -> tuple[str, int]:
    """The URL of `[text](url)` from `begin` (just after the parenthesis), unescaped, and the
    index of its closing parenthesis; raises EntityParseError when there is none."""
    i, n = begin, len(source)
    chars: list[str] = []
    while i < n and source[i] != ")":
        if source[i] == "\\" and 0 < ord(_at(source, i + 1)) <= 126:
            chars.append(source[i + 1])
            i += 2
            continue
        chars.append(source[i])
        i += 1
    if _at(source, i) != ")":
        offset = len(source[:begin].encode("utf-8"))
        raise EntityParseError(f"Can't find end of a URL at byte offset {offset}")
    return "".join(chars), i


def parse_markdown_v2(source: str) -> tuple[str, list[Entity]]:
    """Parse MarkdownV2; raises :class:`EntityParseError` with Telegram's message."""
    n = len(source)

    def at(k: int) -> str:
        return source[k] if k < n else "\0"

    def byte(k: int) -> int:
        return len(source[:k].encode("utf-8"))

    def reserved_error(ch: str) -> EntityParseError:
        return EntityParseError(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")

    def unterminated(top: _Open) -> EntityParseError:
        return EntityParseError(
            f"Can't find end of {_TYPE_NAMES[top.kind]} entity at byte offset {byte(top.src_index)}"
        )

    out: list[str] = []
    u16 = 0
    stack: list[_Open] = []
    entities: list[Entity] = []
    have_quote = False
    can_start_quote = True
    i = 0
    while i < n:
        c = source[i]
        if c == "\\" and 0 < ord(at(i + 1)) <= 126:
            i += 1
            out.append(source[i])
            u16 += 1
            if source[i] != "\r":
                can_start_quote = source[i] == "\n"
            i += 1
            continue
        reserved = "`" if stack and stack[-1].kind in ("code", "pre", "pre_code") else _RESERVED
        if c not in reserved:
            out.append(c)
            u16 += _width(c)
            if c != "\r":
                can_start_quote = False
            i += 1
            continue

        is_end = bool(stack) and _closes(stack[-1].kind, source, i, have_quote)
        if not is_end:
            begin = i
            argument = ""
            kind = ""
            if c == "_":
                if at(i + 1) == "_":
                    kind = "underline"
                    i += 1
                else:
                    kind = "italic"
            elif c == "*":
                kind = "bold"
            elif c == "~":
                kind = "strikethrough"
            elif c == "|":
                if at(i + 1) != "|":
                    raise reserved_error(c)
                i += 1
                kind = "spoiler"
            elif c == "[":
                kind = "text_link"
            elif c == "`":
                if at(i + 1) == "`" and at(i + 2) == "`":
                    i += 3
                    kind = "pre"
                    lang_end = i
                    while at(lang_end) not in _SPACES and at(lang_end) != "`":
                        lang_end += 1
                    if i != lang_end and lang_end < n and at(lang_end) != "`":
                        kind = "pre_code"
                        argument = source[i:lang_end]
                        i = lang_end
                    if at(i) in "\n\r":
                        if at(i + 1) in "\n\r" and at(i) != at(i + 1):
                            i += 2
                        else:
                            i += 1
                    i -= 1
                else:
                    kind = "code"
            elif c == "!":
                if at(i + 1) != "[":
                    raise reserved_error(c)
                i += 1
                kind = "custom_emoji"
            elif c == "\n":
                u16 += 1
                out.append("\n")
                can_start_quote = True
            elif c == ">":
                if not can_start_quote:
                    raise reserved_error(c)
                if not have_quote:
                    kind = "blockquote"
                    have_quote = True
            else:
                raise reserved_error(c)
            if kind:
                stack.append(_Open(kind, argument, u16, begin, len(out)))
            i += 1
            continue

        # end of an entity
        top = stack[-1]
        kind = top.kind
        if c == "\n" and kind != "blockquote":
            glued = top.src_index == i - 2 or (top.src_index == i - 3 and out and out[-1] == "\r")
            if kind != "spoiler" or not glued:
                raise unterminated(top)
            stack.pop()
            top = stack[-1]
            if top.kind != "blockquote":
                raise unterminated(top)
            kind = "expandable_blockquote"
        skip = u16 == top.offset
        entity: Entity | None = None
        length = 0
        if kind in ("bold", "italic", "code", "strikethrough"):
            pass
        elif kind in ("underline", "spoiler"):
            i += 1
        elif kind in ("pre", "pre_code"):
            i += 2
        elif kind == "text_link":
            if at(i + 1) != "(":
                url = "".join(out[top.out_len :])
            else:
                url, i = _read_url(source, i + 2)
            if not skip:
                entity = _link_entity(top.offset, u16 - top.offset, url)
            skip = True
        elif kind == "custom_emoji":
            if at(i + 1) != "(":
                raise EntityParseError("The entity must contain a tg://emoji or tg://time URL")
            url, i = _read_url(source, i + 2)
            m = _EMOJI_URL.match(url)
            if not m:
                raise EntityParseError("Invalid tg://emoji or tg://time URL specified")
            if not skip:
                entity = {
                    "offset": top.offset,
                    "length": u16 - top.offset,
                    "type": "custom_emoji",
                    "custom_emoji_id": m.group(1),
                }
            skip = True
        elif kind in ("blockquote", "expandable_blockquote"):
            have_quote = False
            out.append(source[i])
            can_start_quote = True
            u16 += 1
            skip = False
        if entity is not None:
            entities.append(entity)
        elif not skip:
            length = u16 - top.offset
            entities.append(_plain_entity(kind, top, length))
        stack.pop()
        i += 1

    if have_quote and stack:
        kind = "blockquote"
        if stack[-1].kind == "spoiler" and stack[-1].src_index == n - 2:
            stack.pop()
            kind = "expandable_blockquote"
        if stack and stack[-1].kind == "blockquote":
            top = stack.pop()
            if u16 > top.offset:
                entities.append({"offset": top.offset, "length": u16 - top.offset, "type": kind})
    if stack:
        raise unterminated(stack[-1])
    return "".join(out), sort_entities(entities)


def _plain_entity(kind: str, top: _Open, length: int) -> Entity:
    if kind == "pre_code":
        return {"offset": top.offset, "length": length, "type": "pre", "language": top.argument}
    return {"offset": top.offset, "length": length, "type": kind}


def parse_markdown(source: str) -> tuple[str, list[Entity]]:
    """Legacy ``Markdown``: ``*bold*``, ``_italic_``, `` `code` ``, fenced pre, ``[text](url)``; no nesting."""
    n = len(source)
    out: list[str] = []
    u16 = 0
    entities: list[Entity] = []
    i = 0

    def at(k: int) -> str:
        return source[k] if k < n else "\0"

    while i < n:
        c = source[i]
        if c == "\\" and at(i + 1) in "_*`[":
            out.append(source[i + 1])
            u16 += 1
            i += 2
            continue
        if c not in "_*`[":
            out.append(c)
            u16 += _width(c)
            i += 1
            continue
        begin = i
        end_char = "]" if c == "[" else c
        is_pre = False
        language = ""
        i += 1
        if c == "`" and at(i) == "`" and at(i + 1) == "`":
            i += 2
            is_pre = True
            lang_end = i
            while at(lang_end) not in _SPACES and at(lang_end) != "`":
                lang_end += 1
            if i != lang_end and lang_end < n and at(lang_end) != "`":
                language = source[i:lang_end]
                i = lang_end
            if at(i) in "\n\r":
                if at(i + 1) in "\n\r" and at(i) != at(i + 1):
                    i += 2
                else:
                    i += 1
        offset = u16
        inner_start = len(out)
        while i < n and (source[i] != end_char or (is_pre and not (at(i + 1) == "`" and at(i + 2) == "`"))):
            out.append(source[i])
            u16 += _width(source[i])
            i += 1
        if i == n:
            raise EntityParseError(
                f"Can't find end of the entity starting at byte offset {len(source[:begin].encode())}"
            )
        if u16 != offset:
            length = u16 - offset
            if c == "_":
                entities.append({"offset": offset, "length": length, "type": "italic"})
            elif c == "*":
                entities.append({"offset": offset, "length": length, "type": "bold"})
            elif c == "[":
                if at(i + 1) != "(":
                    url = "".join(out[inner_start:])
                else:
                    i += 2
                    chars: list[str] = []
                    while i < n and source[i] != ")":
                        chars.append(source[i])
                        i += 1
                    url = "".join(chars)
                entity = _link_entity(offset, length, url)
                if entity is not None:
                    entities.append(entity)
            elif is_pre:
                entity = {"offset": offset, "length": length, "type": "pre"}
                if language:
                    entity["language"] = language
                entities.append(entity)
            else:
                entities.append({"offset": offset, "length": length, "type": "code"})
        if is_pre:
            i += 2
        i += 1
    return "".join(out), sort_entities(entities)
