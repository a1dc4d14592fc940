"""Files the attachment tests upload: real images made with Pillow, and hostile ones."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from PIL import Image


def jpeg(size: tuple[int, int] = (64, 48), *, exif: bool = False) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    if exif:
        tags = Image.Exif()
        tags[0x010F] = "SpyCam"  # Make
        tags[0x0112] = 6  # Orientation: rotate 90° to show upright
        image.save(out, "JPEG", exif=tags.tobytes(), comment=b"secret comment")
    else:
        image.save(out, "JPEG")
    return out.getvalue()


def png(size: tuple[int, int] = (32, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 0, 255, 128)).save(out, "PNG")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_flood(width: int = 50_000, height: int = 50_000) -> bytes:
    """A valid PNG header claiming width x height pixels, with a few bytes of data: a few
    hundred bytes that would take gigabytes to decode."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + _chunk(b"IEND", b"")
    )


SVG_SCRIPT = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
    b"<script>alert(document.domain)</script></svg>"
)
SVG_BARE = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>'
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
POLYGLOT_TAIL = b"<html><body><script>alert(document.cookie)</script></body></html>"


def jpeg_html_polyglot() -> bytes:
    """A real JPEG whose comment and trailer carry HTML: a browser sniffing it would run it."""
    image = Image.new("RGB", (16, 16), (1, 2, 3))
    out = io.BytesIO()
    image.save(out, "JPEG", comment=POLYGLOT_TAIL)
    return out.getvalue() + POLYGLOT_TAIL


def zip_of(entries: list[tuple[str, bytes]], *, symlink: str | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
        if symlink is not None:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = 0o120777 << 16
            archive.writestr(info, "/etc/passwd")
    return out.getvalue()


def zip_bomb() -> bytes:
    """40 MB of zeros in one entry: about 40 KB packed, a ratio near 1000."""
    return zip_of([("zeros.bin", b"\x00" * (40 * 1024 * 1024))])


def zip_many(count: int = 10_000) -> bytes:
    return zip_of([(f"f{i}.txt", b"x") for i in range(count)])


def pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def gif_sparks(size: tuple[int, int], frames: int) -> bytes:
    """An animated GIF of ``frames`` frames on a canvas of ``size``, each frame a single pixel:
    about 20 bytes a frame on disk, width × height pixels a frame once decoded (the
    decoder paints every frame onto the whole canvas). Written by hand, so that even a
    million-frame file takes no time to make."""
    width, height = size
    head = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00" * 3 + b"\xff" * 3
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    frame = [
        b"\x21\xf9\x04\x00\x05\x00\x00\x00"  # 50 ms
        + b"\x2c"
        + struct.pack("<HHHHB", i % width, (i // width) % height, 1, 1, 0)
        + b"\x02\x02\x4c\x01\x00"  # one pixel of colour 1 (white)
        for i in range(frames)
    ]
    return head + loop + b"".join(frame) + b"\x3b"


def animation(fmt: str, size: tuple[int, int], frames: int) -> bytes:
    """An animated PNG (APNG) or WebP whose frames all differ (so no writer merges them)."""
    pictures = [Image.new("RGBA", size, (i * 7 % 256, 40, 90, 255)) for i in range(frames)]
    out = io.BytesIO()
    pictures[0].save(out, fmt, save_all=True, append_images=pictures[1:], duration=50, loop=0)
    return out.getvalue()
