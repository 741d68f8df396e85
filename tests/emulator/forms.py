"""Request bodies: chunked transfer decoding and a small, byte-exact multipart/form-data parser."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from typing import BinaryIO


@dataclass(frozen=True, slots=True)
class FilePart:
    filename: str | None
    content_type: str | None
    data: bytes


class FormError(ValueError):
    pass


def read_body(rfile: BinaryIO, headers: Message) -> bytes:
    """The request body, by Content-Length or chunked transfer encoding."""
    if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
        parts = []
        while True:
            size = int(rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            parts.append(rfile.read(size))
            rfile.readline()
    length = int(headers.get("Content-Length") or 0)
    return rfile.read(length) if length else b""


def _header_params(value: str, name: str) -> Message:
    message = Message()
    message[name] = value
    return message


def parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, FilePart]]:
    """Split a multipart/form-data body into text fields and file parts (exact bytes)."""
    boundary = _header_params(content_type, "content-type").get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise FormError("multipart body without a boundary")
    fields: dict[str, str] = {}
    files: dict[str, FilePart] = {}
    # Every delimiter is CRLF "--boundary"; prefixing CRLF makes the first one look the same.
    pieces = (b"\r\n" + body).split(b"\r\n--" + boundary.encode())
    if len(pieces) < 3:
        raise FormError("multipart body without parts")
    for piece in pieces[1:]:
        if piece.startswith(b"--"):
            break
        head, sep, data = piece.partition(b"\r\n\r\n")
        if not sep:
            raise FormError("multipart part without a header block")
        part_headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            if key.strip():
                part_headers[key.strip().lower()] = value.strip()
        disposition = _header_params(
            part_headers.get("content-disposition", ""), "content-disposition"
        )
        name = disposition.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            raise FormError("multipart part without a name")
        filename = disposition.get_filename()
        if filename is not None:
            files[name] = FilePart(filename, part_headers.get("content-type"), data)
        else:
            fields[name] = data.decode("utf-8")
    else:
        raise FormError("multipart body without its closing delimiter")
    return fields, files
