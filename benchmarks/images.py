"""What the worst images kefu accepts cost to check: peak memory and CPU of the real ingest
path (``attachments.ingest.check_and_store``: type sniffing, the pixel check, decoding,
re-encoding, the thumbnail, storage) at the default limits (40 MP, 20 MB).

Each file runs in a fresh process of its own, so its peak RSS (``ru_maxrss``) is its own;
``base`` is that process's RSS once kefu is imported, ``peak`` its high-water mark, ``kept``
its RSS after the upload finished and the collector ran. The files are made by another
process, since a child starts with its parent's high-water mark.

    python -m benchmarks.images             # every file; a table; benchmarks/results/images.json
    python -m benchmarks.images --only gif  # the files whose name holds "gif"
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import resource
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import psutil
from PIL import Image

RESULTS = Path(__file__).parent / "results"
MAX_PIXELS = 40_000_000  # the defaults of KEFU_MAX_IMAGE_PIXELS and KEFU_MAX_UPLOAD_BYTES
MAX_BYTES = 20 * 1024 * 1024
SIDE = 6324  # 6324 x 6324 = 39,992,976 pixels: a still image just under the limit


def _sparks(size: tuple[int, int], frames: int) -> bytes:
    """A GIF whose frames are one pixel each, painted by the decoder onto the whole canvas:
    about 20 bytes a frame on disk, width x height pixels a frame decoded."""
    width, height = size
    head = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\0" * 3 + b"\xff" * 3
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    body = b"".join(
        b"\x21\xf9\x04\x00\x05\x00\x00\x00\x2c"
        + struct.pack("<HHHHB", i % width, (i // width) % height, 1, 1, 0)
        + b"\x02\x02\x4c\x01\x00"
        for i in range(frames)
    )
    return head + loop + body + b"\x3b"


def _frames(size: tuple[int, int], count: int) -> list[Image.Image]:
    """Frames that differ from each other (so no writer merges them) and compress well."""
    return [Image.new("RGBA", size, (i * 6 % 256, 90, 160, 255)) for i in range(count)]


def _animation(fmt: str, size: tuple[int, int], count: int) -> bytes:
    frames = _frames(size, count)
    out = io.BytesIO()
    frames[0].save(out, fmt, save_all=True, append_images=frames[1:], duration=50, loop=0)
    return out.getvalue()


def _still(fmt: str) -> bytes:
    image = (
        Image.linear_gradient("L").resize((SIDE, SIDE)).convert("RGBA" if fmt == "PNG" else "RGB")
    )
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


# name -> (how it is made, what the fixed code answers)
FILES: dict[str, tuple[Callable[[], bytes], str]] = {
    "png-still-6324x6324-rgba": (lambda: _still("PNG"), "accepted"),
    "jpeg-still-6324x6324": (lambda: _still("JPEG"), "accepted"),
    "gif-1000x1000x40": (lambda: _sparks((1000, 1000), 40), "accepted"),
    "gif-365x365x300": (lambda: _sparks((365, 365), 300), "accepted"),
    "apng-1000x1000x40": (lambda: _animation("PNG", (1000, 1000), 40), "accepted"),
    "webp-1000x1000x40": (lambda: _animation("WEBP", (1000, 1000), 40), "accepted"),
    "gif-1000x1000x160 (the report)": (lambda: _sparks((1000, 1000), 160), "refused"),
    "gif-1x1x1000000 (frame bomb)": (lambda: _sparks((1, 1), 1_000_000)[:MAX_BYTES], "refused"),
}


def _one(path: Path) -> dict[str, Any]:
    """Run in the child: check and store ``path`` as an upload, and measure."""
    from kefu.attachments.ingest import Limits, check_and_store
    from kefu.attachments.storage import LocalStorage
    from kefu.domain.errors import KefuError

    me = psutil.Process()
    gc.collect()
    base = me.memory_info().rss
    before = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kefu-bench-img-") as store:

        async def upload() -> str:
            with path.open("rb") as source:
                try:
                    await check_and_store(
                        LocalStorage(Path(store)),
                        uuid.uuid4(),
                        source,
                        path.name,
                        Limits(MAX_BYTES, MAX_PIXELS),
                    )
                except KefuError as exc:
                    return f"refused ({exc.code})"
            return "accepted"

        outcome = asyncio.run(upload())
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_SELF)
    gc.collect()
    return {
        "outcome": outcome,
        "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2),
        "wall_s": round(wall, 2),
        "base_mb": round(base / 2**20),
        "peak_mb": round(after.ru_maxrss / 1024),  # kilobytes on Linux
        "kept_mb": round(me.memory_info().rss / 2**20),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run the files whose name holds this")
    parser.add_argument("--out", type=Path, default=RESULTS / "images.json")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--make", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make is not None:
        Path(args.make[1]).write_bytes(FILES[args.make[0]][0]())
        return
    if args.one is not None:
        sys.stdout.write(orjson.dumps(_one(args.one)).decode() + "\n")
        return
    rows: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="kefu-bench-img-") as scratch:
        for name, (_, expected) in FILES.items():
            if args.only not in name:
                continue
            path = Path(scratch) / name.split(" ")[0]
            _run("--make", name, str(path))
            child = _run("--one", str(path), check=False)
            if child.returncode == 0:
                row = orjson.loads(child.stdout.splitlines()[-1])
            else:  # the code under test crashed: say how
                crash = (child.stderr.strip().splitlines() or ["?"])[-1][:60]
                row = dict.fromkeys(("cpu_s", "wall_s", "base_mb", "peak_mb", "kept_mb"), "-")
                row["outcome"] = f"crashed: {crash}"
            rows[name] = {"bytes": path.stat().st_size, "expected": expected, **row}
            path.unlink()
            _print_row(name, rows[name])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(rows, option=orjson.OPT_INDENT_2))


def _run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "benchmarks.images", *args]
    return subprocess.run(command, capture_output=True, check=check, text=True)


def _print_row(name: str, row: dict[str, Any]) -> None:
    if not getattr(_print_row, "header", False):
        print(
            f"{'file':32} {'KB':>7} {'outcome':26} {'cpu s':>6} {'wall s':>6} "
            f"{'base MB':>7} {'peak MB':>7} {'kept MB':>7}"
        )
        _print_row.header = True  # type: ignore[attr-defined]
    print(
        f"{name:32} {row['bytes'] // 1024:>7} {row['outcome']:26} {row['cpu_s']:>6} "
        f"{row['wall_s']:>6} {row['base_mb']:>7} {row['peak_mb']:>7} {row['kept_mb']:>7}",
        flush=True,
    )


if __name__ == "__main__":
    main()
