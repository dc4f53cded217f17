"""Bot API error values and the way the official server words them.

Faithful to Telegram: the official Bot API server (tdlib/telegram-bot-api) answers every failed
request with ``{"ok": false, "error_code": N, "description": "..."}`` and, for flood control,
``"parameters": {"retry_after": N}``.  The description is built from an internal message by
prefixing the HTTP reason ("Bad Request", "Forbidden", "Unauthorized", ...) and lower-casing the
first letter of the message unless the message is an upper-case MTProto error name such as
``BUTTON_DATA_INVALID``.  :func:`describe` reproduces that rule so the emulator's texts match the
ones bots see in production.
"""

from __future__ import annotations

from typing import Any

_PREFIXES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


# MTProto error names the official server rewrites into prose (Client::fail_query_with_error).
SERVER_ERROR_TEXTS = {
    "MESSAGE_NOT_MODIFIED": (
        "message is not modified: specified new message content and reply markup are exactly the same as a "
        "current content and reply markup of the message"
    ),
    "QUERY_ID_INVALID": "query is too old and response timeout expired or query ID is invalid",
    "MESSAGE_DELETE_FORBIDDEN": "message can't be deleted",
    "REPLY_MARKUP_TOO_LONG": "reply markup is too long",
    "MEDIA_GROUPED_INVALID": "Can't use the media of the specified type in the album",
}


def describe(code: int, message: str) -> str:
    """Return the description Telegram shows for ``message`` under HTTP status ``code``.

    >>> describe(400, "Message text is empty")
    'Bad Request: message text is empty'
    >>> describe(400, "BUTTON_DATA_INVALID")
    'Bad Request: BUTTON_DATA_INVALID'
    """
    prefix = _PREFIXES.get(code, "Bad Request")
    if code == 400:
        message = SERVER_ERROR_TEXTS.get(message, message)
    if message.startswith(prefix):
        return message
    if not message:
        return prefix
    if len(message) >= 2 and (message[1] == "_" or "A" <= message[1] <= "Z"):
        return f"{prefix}: {message}"
    return f"{prefix}: {message[0].lower()}{message[1:]}"


class ApiError(Exception):
    """A Bot API failure: raised by method implementations, rendered by the HTTP layer."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        """The JSON body Telegram sends for this error."""
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = dict(self.parameters)
        return body

    def __repr__(self) -> str:
        return f"ApiError({self.code}, {self.description!r})"


def bad_request(message: str) -> ApiError:
    """400 with Telegram's wording rule applied (``"Chat not found"`` → ``"Bad Request: chat not found"``)."""
    return ApiError(400, describe(400, message))


def forbidden(message: str) -> ApiError:
    """403, e.g. ``forbidden("bot was blocked by the user")``."""
    return ApiError(403, describe(403, message))


def too_many_requests(retry_after: int) -> ApiError:
    """429 flood-control error exactly as Telegram shapes it."""
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


UNAUTHORIZED = ApiError(401, "Unauthorized")
NOT_FOUND = ApiError(404, "Not Found")


class EntityParseError(ValueError):
    """A parse_mode text Telegram would refuse; the message is tdlib's (e.g. ``Unclosed start tag ...``)."""
