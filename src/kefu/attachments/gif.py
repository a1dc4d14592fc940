"""Counting a GIF's frames from its block structure, without decoding any of them.

Pillow's ``n_frames`` walks every frame of the file, however many there are; this walk stops
as soon as the count passes what the caller allows, so a file of a million tiny frames costs no
more than one of ``stop`` frames."""

from __future__ import annotations

from dataclasses import dataclass

_EXTENSION, _IMAGE, _TRAILER = 0x21, 0x2C, 0x3B


@dataclass(frozen=True, slots=True)
class GifFrames:
    count: int  # frames seen, at most ``stop``
    width: int  # the canvas: the logical screen grown to hold every frame seen (as Pillow does)
    height: int


def count_frames(data: bytes, stop: int) -> GifFrames:
    """The frames of the GIF ``data``, counting no further than ``stop``. Damaged data ends the
    count; the decoder reports it later."""
    width, height = _u16(data, 6), _u16(data, 8)
    pos = 13 + _table(data[10]) if len(data) > 10 else len(data)
    count = 0
    while pos < len(data) and count < stop:
        block = data[pos]
        if block == _TRAILER:
            break
        if block == _EXTENSION:
            pos = _skip_sub_blocks(data, pos + 2)
        elif block == _IMAGE:
            if pos + 10 > len(data):
                break
            left, top = _u16(data, pos + 1), _u16(data, pos + 3)
            width = max(width, left + _u16(data, pos + 5))
            height = max(height, top + _u16(data, pos + 7))
            count += 1
            pos = _skip_sub_blocks(data, pos + 10 + _table(data[pos + 9]) + 1)
        else:
            pos += 1  # stray byte: Pillow skips it too
    return GifFrames(count, width, height)


def _u16(data: bytes, pos: int) -> int:
    return int.from_bytes(data[pos : pos + 2], "little")


def _table(packed: int) -> int:
    """Bytes of the colour table a descriptor's flags announce."""
    return 3 << ((packed & 7) + 1) if packed & 0x80 else 0


def _skip_sub_blocks(data: bytes, pos: int) -> int:
    end = len(data)
    while pos < end:
        size = data[pos]
        pos += size + 1
        if size == 0:
            break
    return pos
