"""Images are decoded only after their size is checked, then re-encoded from pixels alone:
no EXIF (GPS), comments, ICC profiles or trailing bytes survive. A thumbnail is made too.

The pixel limit counts every frame: width × height × frames must stay within it (and frames
within :data:`MAX_FRAMES`), checked from the headers before any pixel is decoded. Frames are
then decoded one at a time; an animation is written back as an animation, its thumbnail is
its first frame."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, ImageSequence

from kefu.attachments.gif import count_frames
from kefu.domain.errors import InvalidInput

THUMB_SIZE = (320, 320)
MAX_FRAMES = 300
# The formats the sniffer lets through, and how each is written back.
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}


@dataclass(frozen=True, slots=True)
class Reencoded:
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class _Opened:
    image: Image.Image
    frames: int  # how many frames are decoded and written back


def _open(source: Path, mime: str, max_pixels: int) -> _Opened:
    try:
        # Pillow's own bomb check runs inside open(); ours, stricter, runs right after, before
        # any pixel is decoded.
        image = Image.open(source, formats=[FORMATS[mime]])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_large(max_pixels) from None
    except Exception:  # UnidentifiedImageError, or whatever a damaged header raises
        raise InvalidInput("the image could not be read", code="invalid_image") from None
    try:
        return _Opened(image, _check_size(source, image, max_pixels))
    except BaseException:
        image.close()
        raise


def _check_size(source: Path, image: Image.Image, max_pixels: int) -> int:
    """The number of frames to decode, once width × height × frames is known to be within
    ``max_pixels``; read from the headers only."""
    width, height = image.size
    if width * height > max_pixels:
        raise _too_large(max_pixels)
    if image.format == "JPEG" or image.format == "MPO":
        return 1  # only the first picture of a multi-picture JPEG is kept
    allowed = min(MAX_FRAMES, max_pixels // max(1, width * height))
    if image.format == "GIF":
        # Pillow's n_frames would walk every frame, however many; this stops past the limit.
        gif = count_frames(source.read_bytes(), allowed + 1)
        frames, width, height = gif.count, gif.width, gif.height
    else:
        frames = getattr(image, "n_frames", 1)  # PNG: the acTL chunk; WebP: the demuxer
    if frames > MAX_FRAMES:
        raise InvalidInput(f"the image has more than {MAX_FRAMES} frames", code="image_too_large")
    if width * height * max(frames, 1) > max_pixels:
        raise _too_large(max_pixels)
    return max(frames, 1)


def _too_large(max_pixels: int) -> InvalidInput:
    return InvalidInput(
        f"the image is larger than {max_pixels:,} pixels (width × height × frames)",
        code="image_too_large",
    )


def reencode(source: Path, mime: str, target: Path, thumb: Path, max_pixels: int) -> Reencoded:
    """Write a clean copy of the image at ``source`` to ``target`` and a thumbnail (WebP) to
    ``thumb``. Blocking and CPU-bound (the pixel limit bounds the work); run it in a thread."""
    fmt = FORMATS[mime]
    opened = _open(source, mime, max_pixels)
    with opened.image as image:
        try:
            frames = _frames(image, fmt, opened.frames, max_pixels)
            first = next(frames)
            if opened.frames == 1:
                # Its pixels are not needed any more; freed before the thumbnail's resizing
                # (which makes a full-size premultiplied copy of RGBA) and the writing.
                image.close()
                _thumbnail(first, thumb)
                first.save(target, format=fmt, **_still_options(fmt))
            else:
                _thumbnail(first, thumb)
                _save_animation(first, frames, target, fmt)
        except InvalidInput:
            raise
        except Exception:  # a damaged file: IndexError, struct.error, OSError …
            raise InvalidInput("the image could not be decoded", code="invalid_image") from None
    return Reencoded(first.width, first.height)


def _frames(image: Image.Image, fmt: str, count: int, max_pixels: int) -> Iterator[Image.Image]:
    """Clean copies of the first ``count`` frames, decoded one at a time; the pixel budget is
    counted again as they come (a frame larger than the headers said is refused)."""
    spent = 0
    for index, frame in enumerate(ImageSequence.Iterator(image)):
        if index == count:
            return
        spent += frame.width * frame.height
        if spent > max_pixels:
            raise _too_large(max_pixels)
        frame.load()  # a WebP frame's duration is known once it is decoded
        duration = frame.info.get("duration", 100) if count > 1 else None
        clean = _clean(frame, fmt)
        if duration is not None:
            clean.info["duration"] = duration
        yield clean


def _save_animation(
    first: Image.Image, rest: Iterator[Image.Image], target: Path, fmt: str
) -> None:
    """The GIF writer takes the frames as they are decoded (it keeps them as palette images,
    a byte a pixel); the PNG and WebP writers walk their frames more than once, so they get a
    list. Within the pixel limit either way."""
    frames: Iterator[Image.Image] | list[Image.Image] = rest if fmt == "GIF" else list(rest)
    options: dict[str, object] = {"save_all": True, "append_images": frames, "loop": 0}
    if fmt == "WEBP":  # it reads durations only from the options
        assert isinstance(frames, list)
        options["duration"] = [f.info["duration"] for f in (first, *frames)]
    first.save(target, format=fmt, **options)


def _still_options(fmt: str) -> dict[str, object]:
    return {"quality": 88, "optimize": True} if fmt == "JPEG" else {}


def _thumbnail(image: Image.Image, thumb: Path) -> None:
    """At most :data:`THUMB_SIZE`, never enlarged, without a full-size copy."""
    scale = min(1.0, THUMB_SIZE[0] / image.width, THUMB_SIZE[1] / image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    preview = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
    preview.save(thumb, format="WEBP", quality=80)


def _clean(frame: Image.Image, fmt: str) -> Image.Image:
    """Pixels only, upright (the EXIF orientation applied before EXIF is dropped): a new image
    whose metadata is emptied, so no writer finds EXIF, ICC, comments or text to copy."""
    if fmt == "JPEG":
        ImageOps.exif_transpose(frame, in_place=True)
    has_alpha = frame.mode in ("RGBA", "LA", "PA") or "transparency" in frame.info
    mode = "RGBA" if has_alpha and fmt != "JPEG" else "RGB"
    if frame.mode in ("L", "I;16") and not has_alpha:
        mode = "L"
    clean = frame.convert(mode)  # always a new image, a copy when the mode is the same
    clean.info = {}
    return clean
