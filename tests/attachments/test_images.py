"""The pixel limit counts every frame of an animation (docs/attachments.md): width × height ×
frames within ``max_pixels``, checked from the headers, for GIF, APNG and animated WebP."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from kefu.attachments.gif import count_frames
from kefu.attachments.images import MAX_FRAMES, reencode
from kefu.domain.errors import InvalidInput
from tests.attachments import samples

MIME = {"GIF": "image/gif", "PNG": "image/png", "WEBP": "image/webp"}


def _sample(fmt: str, frames: int) -> bytes:
    """``frames`` frames of 100 × 100 pixels."""
    if fmt == "GIF":
        return samples.gif_sparks((100, 100), frames)
    return samples.animation(fmt, (100, 100), frames)


def _reencode(tmp_path: Path, data: bytes, fmt: str, max_pixels: int) -> Image.Image:
    source = tmp_path / "upload"
    source.write_bytes(data)
    target, thumb = tmp_path / "clean", tmp_path / "thumb"
    reencode(source, MIME[fmt], target, thumb, max_pixels)
    with Image.open(thumb) as preview:
        assert preview.format == "WEBP" and max(preview.size) <= 320
    return Image.open(target)


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP"])
def test_an_animation_of_exactly_the_limit_keeps_its_frames(tmp_path: Path, fmt: str) -> None:
    with _reencode(tmp_path, _sample(fmt, 40), fmt, 100 * 100 * 40) as clean:
        assert (clean.format, clean.size, getattr(clean, "n_frames", 1)) == (fmt, (100, 100), 40)
        clean.seek(1)
        clean.load()
        assert clean.info.get("duration") == 50


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP"])
def test_one_frame_over_the_limit_is_refused(tmp_path: Path, fmt: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        _reencode(tmp_path, _sample(fmt, 41), fmt, 100 * 100 * 40)
    assert refused.value.code == "image_too_large"
    assert "width × height × frames" in refused.value.message


def test_the_reported_gif_is_refused_at_the_default_limit(tmp_path: Path) -> None:
    """1000 × 1000 × 160 frames: 160 MP decoded from a few kilobytes."""
    with pytest.raises(InvalidInput) as refused:
        _reencode(tmp_path, samples.gif_sparks((1000, 1000), 160), "GIF", 40_000_000)
    assert refused.value.code == "image_too_large"


def test_a_million_tiny_frames_are_refused_without_walking_them(tmp_path: Path) -> None:
    bomb = samples.gif_sparks((1, 1), 1_000_000)
    assert count_frames(bomb, MAX_FRAMES + 1).count == MAX_FRAMES + 1
    with pytest.raises(InvalidInput) as refused:
        _reencode(tmp_path, bomb, "GIF", 40_000_000)
    assert refused.value.code == "image_too_large"


def test_frames_reaching_past_the_screen_count_at_their_full_extent(tmp_path: Path) -> None:
    """Pillow grows a GIF's canvas to hold a frame placed beyond the logical screen; so does
    the count."""
    grown = samples.gif_sparks((10, 10), 3)
    moved = grown.replace(b"\x2c\x02\x00\x00\x00", b"\x2c\x00\x10\x00\x20", 1)
    assert (count_frames(moved, 10).width, count_frames(moved, 10).height) == (4097, 8193)
    with pytest.raises(InvalidInput) as refused:  # 3 frames of 4097 × 8193
        _reencode(tmp_path, moved, "GIF", 40_000_000)
    assert refused.value.code == "image_too_large"


def test_a_still_image_of_exactly_the_limit_is_kept(tmp_path: Path) -> None:
    still = Image.new("RGB", (200, 100), (9, 9, 9))
    still.save(tmp_path / "still.png")
    with _reencode(tmp_path, (tmp_path / "still.png").read_bytes(), "PNG", 200 * 100) as clean:
        assert clean.size == (200, 100)
    with pytest.raises(InvalidInput):
        _reencode(tmp_path, (tmp_path / "still.png").read_bytes(), "PNG", 200 * 100 - 1)


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP"])
def test_every_truncation_is_read_or_refused_as_invalid(tmp_path: Path, fmt: str) -> None:
    """A damaged file is `invalid_image` (or, cut after its last frame, accepted): the decoder's
    IndexError or struct.error never escapes as a server error."""
    whole = _sample(fmt, 3)
    for cut in range(8, len(whole), max(1, len(whole) // 200)):
        try:
            _reencode(tmp_path, whole[:cut], fmt, 40_000_000).close()
        except InvalidInput as refused:
            assert refused.code in ("invalid_image", "image_too_large"), (cut, refused.code)
