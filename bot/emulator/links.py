"""URL checks Telegram applies to ``text_link`` entities and URL buttons.

Faithful to tdlib's ``LinkManager::check_link`` / ``parse_url``: ``tg://``, ``ton://`` and ``tonsite://``
links are kept as they are; anything else must parse as an HTTP(S) URL whose host contains a dot (an
absent scheme means ``http://``), the host is lower-cased and an empty path becomes ``/`` — so
``<a href="Example.com">`` is stored as ``http://example.com/``.  ``tg://user?id=N`` is recognised as a
link to a user (``text_mention`` / user button).
"""

from __future__ import annotations

import re

_USER_LINK = re.compile(r"^tg:(?://)?user\?id=(\d+)$", re.IGNORECASE)
_HOST_OK = re.compile(r"^[A-Za-z0-9.\-_!$,~*'();&+=%\u0080-\U0010ffff]+$")


class LinkError(ValueError):
    """tdlib's reason a link is unusable (``Wrong HTTP URL``, ``Unsupported URL protocol`` ...)."""


def link_user_id(url: str) -> int | None:
    """The user id of a ``tg://user?id=N`` link, else ``None``."""
    m = _USER_LINK.match(url.strip())
    return int(m.group(1)) if m else None


def check_link(link: str) -> str:
    """Return the normalised link Telegram stores, or raise :class:`LinkError`."""
    lowered = link.lower()
    for scheme in ("tg", "ton", "tonsite"):
        if lowered.startswith(scheme + ":"):
            rest = link[len(scheme) + 1 :]
            if rest.startswith("//"):
                rest = rest[2:]
            host, query = _split_host(rest)
            allowed = r"^[A-Za-z0-9\-_" + (r"." if scheme == "tonsite" else "") + r"]+$"
            if not host or not re.match(allowed, host):
                raise LinkError("Unallowed characters in URL host" if host else "URL host is empty")
            query = query if query.startswith("/") else "/" + query
            if query.startswith("/?"):
                query = query[1:]
            return f"{scheme}://{host.lower()}{query}"
    protocol = "http"
    rest = link
    m = re.match(r"^([^:/?#@\[\]]*)://", link)
    if m:
        protocol = m.group(1).lower()
        if protocol not in ("http", "https"):
            raise LinkError("Unsupported URL protocol")
        rest = link[m.end() :]
    authority, query = _split_host(rest)
    port = ""
    if ":" in authority.rsplit("@", 1)[-1]:
        authority, port_text = authority.rsplit(":", 1)
        port_text = port_text.lstrip("0") or "0"
        if not port_text.isdigit() or not 0 < int(port_text) <= 65535:
            raise LinkError("Wrong port number specified in the URL")
        port = f":{int(port_text)}"
    userinfo, _, host = authority.rpartition("@")
    if not host:
        raise LinkError("URL host is empty")
    if host == ".":
        raise LinkError("Host is invalid")
    host = host.lower()
    if not _HOST_OK.match(host):
        raise LinkError("Disallowed character in URL host")
    if "." not in host:
        raise LinkError("Wrong HTTP URL")
    query = query.rstrip()
    if not query:
        query = "/"
    if not query.startswith("/"):
        query = "/" + query
    query = "".join(f"%{ord(c):02X}" if ord(c) <= 0x20 else c for c in query)
    user = f"{userinfo}@" if userinfo else ""
    return f"{protocol}://{user}{host}{port}{query}"


def _split_host(rest: str) -> tuple[str, str]:
    m = re.search(r"[/?#]", rest)
    if not m:
        return rest, ""
    return rest[: m.start()], rest[m.start() :]
