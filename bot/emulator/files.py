"""Uploaded files: identifiers, ``getFile`` paths, photo sizes and image sniffing.

Faithful to Telegram where bots can observe it: ``file_id`` is a long opaque URL-safe string and
``file_unique_id`` a short one; ``getFile`` returns a ``file_path`` such as ``photos/file_3.jpg`` that is
downloadable at ``/file/bot<token>/<file_path>``; photos are offered as several ``PhotoSize`` objects
(thumbnails with the longest side 90/320/800/1280 px, largest last); downloads above 20 MB are refused
(``file is too big``); photos must be real images no larger than 10 MB whose width + height ≤ 10000
and aspect ratio ≤ 20 (``PHOTO_INVALID_DIMENSIONS``), otherwise ``IMAGE_PROCESS_FAILED``.

Simplified: no re-encoding — every ``PhotoSize`` of a photo downloads the originally uploaded bytes and
reports that size; ``file_id`` values are shared by all bots of the emulator (Telegram issues per-bot
ids for the same file).  Dimensions are read from PNG ``IHDR``, GIF, BMP, WebP and JPEG ``SOF`` headers.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import struct
from dataclasses import dataclass, field
from typing import Any

MAX_DOWNLOAD = 20 * 1024 * 1024
MAX_PHOTO = 10 * 1024 * 1024
MAX_DOCUMENT = 50 * 1024 * 1024
THUMB_SIDES = (90, 320, 800, 1280)


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG/JPEG/GIF/BMP/WebP image, or ``None`` if the bytes are not one."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"BM") and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return abs(int(width)), abs(int(height))
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8X":
            width = 1 + int.from_bytes(data[24:27], "little")
            height = 1 + int.from_bytes(data[27:30], "little")
            return width, height
        if chunk == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            return width & 0x3FFF, height & 0x3FFF
        if chunk == b"VP8L" and len(data) >= 25:
            bits = int.from_bytes(data[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        return None
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        (seg_len,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            if pos + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return int(width), int(height)
        pos += 2 + seg_len
    return None


@dataclass
class StoredFile:
    """One file Telegram knows: its bytes and what ``getFile`` reports about it."""

    file_id: str
    file_unique_id: str
    data: bytes
    kind: str  # "photos" | "documents"
    number: int
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def file_size(self) -> int:
        return len(self.data)

    @property
    def file_path(self) -> str:
        if self.kind == "photos":
            return f"photos/file_{self.number}.jpg"
        suffix = ""
        if self.file_name and "." in self.file_name:
            suffix = "." + self.file_name.rsplit(".", 1)[1]
        return f"{self.kind}/file_{self.number}{suffix}"

    def file_json(self) -> dict[str, Any]:
        """The ``File`` object returned by getFile."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "file_path": self.file_path,
        }


class FileStore:
    """All files uploaded by users or bots, addressable by ``file_id`` and by download path."""

    def __init__(self, seed: int = 0) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._counter = 0
        self._seed = seed

    def _ids(self, kind: str, data: bytes, salt: str) -> tuple[str, str]:
        digest = hashlib.sha256(f"{self._seed}:{self._counter}:{kind}:{salt}".encode() + data).digest()
        prefix = b"\x02\x00" if kind == "photos" else b"\x05\x00"
        file_id = base64.urlsafe_b64encode(prefix + digest + digest[:16]).decode().rstrip("=")
        unique = base64.urlsafe_b64encode(b"\x01" + digest[:11]).decode().rstrip("=")
        return "AgAC" + file_id if kind == "photos" else "BQAC" + file_id, "AQAD" + unique

    def add(
        self,
        data: bytes,
        kind: str,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int | None = None,
        height: int | None = None,
        salt: str = "",
    ) -> StoredFile:
        self._counter += 1
        file_id, unique = self._ids(kind, data, salt)
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=unique,
            data=data,
            kind=kind,
            number=self._counter,
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self._by_id[file_id] = stored
        self._by_path[stored.file_path] = stored
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        return self._by_id.get(file_id)

    def by_path(self, path: str) -> StoredFile | None:
        return self._by_path.get(path)

    def add_photo(self, data: bytes, width: int, height: int) -> list[StoredFile]:
        """Store a photo as Telegram offers it: thumbnails smaller than the original, then the original."""
        longest = max(width, height)
        sizes: list[StoredFile] = []
        for side in THUMB_SIDES:
            if side >= longest:
                break
            scale = side / longest
            sizes.append(
                self.add(
                    data,
                    "photos",
                    width=max(1, round(width * scale)),
                    height=max(1, round(height * scale)),
                    salt=f"thumb{side}",
                )
            )
        sizes.append(self.add(data, "photos", width=width, height=height, salt="full"))
        return sizes

    def add_document(self, data: bytes, file_name: str | None, mime_type: str | None) -> StoredFile:
        """Telegram derives the MIME type from the file name; the declared type is only a fallback."""
        guessed = mimetypes.guess_type(file_name)[0] if file_name else None
        mime_type = guessed or mime_type
        return self.add(data, "documents", file_name=file_name, mime_type=mime_type or "application/octet-stream")


def photo_size_json(stored: StoredFile) -> dict[str, Any]:
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.file_size,
        "width": stored.width,
        "height": stored.height,
    }


def document_json(stored: StoredFile) -> dict[str, Any]:
    out: dict[str, Any] = {"file_name": stored.file_name} if stored.file_name else {}
    out.update(
        {
            "mime_type": stored.mime_type,
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
        }
    )
    return out
