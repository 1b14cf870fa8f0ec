"""Which image format a file is, from its first bytes (never from its name or claimed type)."""

from __future__ import annotations

_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
)
FORMATS = "PNG, JPEG, GIF or WebP"
IMAGE_TYPES = frozenset(media_type for _, _, media_type in _SIGNATURES)
"""The formats recognised here: the only types the site shows inline."""


def image_type(head: bytes) -> str | None:
    """The media type of the image whose file starts with ``head``, or None if not an image."""
    for signature, offset, media_type in _SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            if media_type == "image/webp" and head[:4] != b"RIFF":
                continue
            return media_type
    return None


def media_type(head: bytes) -> str:
    """The media type a stored file gets, decided from its first bytes alone (never from what
    the client said): a recognised image's, a PDF's, else ``application/octet-stream``."""
    image = image_type(head)
    if image is not None:
        return image
    return "application/pdf" if head.startswith(b"%PDF-") else "application/octet-stream"
