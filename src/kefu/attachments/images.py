"""Images are decoded only after their size is checked, then re-encoded from pixels alone:
no EXIF (GPS), comments, ICC profiles or trailing bytes survive. A thumbnail is made too."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from kefu.domain.errors import InvalidInput

THUMB_SIZE = (320, 320)
MAX_FRAMES = 300
# The formats the sniffer lets through, and how each is written back.
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}


@dataclass(frozen=True, slots=True)
class Reencoded:
    width: int
    height: int


def _open(source: Path, mime: str, max_pixels: int) -> Image.Image:
    try:
        # Pillow's own bomb check runs inside open(); ours, stricter, runs right after, before
        # any pixel is decoded.
        image = Image.open(source, formats=[FORMATS[mime]])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_large(max_pixels) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise InvalidInput("the image could not be read", code="invalid_image") from None
    width, height = image.size
    frames = getattr(image, "n_frames", 1)
    if width * height > max_pixels or width * height * min(frames, MAX_FRAMES) > 4 * max_pixels:
        image.close()
        raise _too_large(max_pixels)
    if frames > MAX_FRAMES:
        image.close()
        raise InvalidInput(f"the image has more than {MAX_FRAMES} frames", code="image_too_large")
    return image


def _too_large(max_pixels: int) -> InvalidInput:
    return InvalidInput(f"the image is larger than {max_pixels:,} pixels", code="image_too_large")


def reencode(source: Path, mime: str, target: Path, thumb: Path, max_pixels: int) -> Reencoded:
    """Write a clean copy of the image at ``source`` to ``target`` and a thumbnail (WebP) to
    ``thumb``. Blocking; run it in a thread."""
    fmt = FORMATS[mime]
    with _open(source, mime, max_pixels) as image:
        try:
            frames = [_clean(frame, fmt) for frame in ImageSequence.Iterator(image)]
            durations = [frame.info.get("duration", 100) for frame in ImageSequence.Iterator(image)]
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise InvalidInput("the image could not be decoded", code="invalid_image") from None
    first = frames[0]
    options: dict[str, object] = {}
    if fmt == "JPEG":
        options = {"quality": 88, "optimize": True}
    elif len(frames) > 1:
        options = {"save_all": True, "append_images": frames[1:], "duration": durations, "loop": 0}
    first.save(target, format=fmt, **options)
    preview = first.copy()
    preview.thumbnail(THUMB_SIZE)
    preview.save(thumb, format="WEBP", quality=80)
    return Reencoded(first.width, first.height)


def _clean(frame: Image.Image, fmt: str) -> Image.Image:
    """Pixels only, upright (the EXIF orientation applied before EXIF is dropped)."""
    upright = ImageOps.exif_transpose(frame) if fmt == "JPEG" else frame
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
    mode = "RGBA" if has_alpha and fmt != "JPEG" else "RGB"
    if upright.mode in ("L", "I;16") and not has_alpha:
        mode = "L"
    pixels = upright.convert(mode)
    clean = Image.new(mode, pixels.size)
    clean.paste(pixels)
    return clean
