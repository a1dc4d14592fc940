"""Summarise a py-spy raw (collapsed stacks) profile: where the server spends its samples.

    python -m benchmarks.profile_summary benchmarks/results/profile-kefu-sqlite-quick.txt [-n 25]

Prints the split between the event loop thread and the database driver's thread, the root
frames (with uvloop a resumed coroutine, and SQLAlchemy's work inside a greenlet, each start a
stack of their own, so "inclusive" undercounts the callers of ORM work), the functions with the
most samples on top of the stack (self), and the functions present anywhere in the stack
(inclusive, kefu's own first), as shares of all samples.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]+)(?::\d+)?\)$")


def short(frame: str) -> str:
    m = _FRAME.match(frame.strip())
    if not m:
        return frame.strip()
    path = m["file"]
    for marker in ("site-packages/", "/src/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{m['func']} ({path})"


def load(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        stacks.append(([short(f) for f in stack.split(";")], int(count)))
    return stacks


def summarise(stacks: list[tuple[list[str], int]], top: int) -> str:
    total = sum(c for _, c in stacks) or 1
    threads: Counter[str] = Counter()
    selfs: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    for frames, count in stacks:
        worker = any(f.startswith(("_connection_worker_thread", "Thread.run")) for f in frames)
        threads["database driver thread" if worker else "event loop thread"] += count
        selfs[frames[-1]] += count
        for f in set(frames):
            incl[f] += count
            if "(kefu/" in f and not f.startswith(("serve (", "_uvicorn (")):
                ours[f] += count
    roots: Counter[str] = Counter()
    for frames, count in stacks:
        roots[frames[0]] += count
    lines = [f"{total} samples"]
    lines += [f"  {c / total:6.1%}  {t}" for t, c in threads.most_common()]
    lines.append(
        "\nby root frame (a coroutine resumed by the loop, or SQLAlchemy work in a greenlet,"
        " starts its own stack):"
    )
    lines += [f"  {c / total:6.1%}  {f}" for f, c in roots.most_common(top // 2)]
    lines.append("\nself (top of stack):")
    lines += [f"  {c / total:6.1%}  {f}" for f, c in selfs.most_common(top)]
    lines.append("\nkefu's own functions, inclusive (anywhere on the stack):")
    lines += [f"  {c / total:6.1%}  {f}" for f, c in ours.most_common(top)]
    lines.append("\nall functions, inclusive:")
    skip = ("<module>", "_run_code", "_run_module", "Runner.run", "run (", "asyncio_run")
    generic = [
        (f, c)
        for f, c in incl.most_common(top * 4)
        if not f.startswith(skip) and "(typer/" not in f and "(kefu/cli.py" not in f
    ]
    lines += [f"  {c / total:6.1%}  {f}" for f, c in generic[:top]]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("profile")
    ap.add_argument("-n", type=int, default=25)
    a = ap.parse_args()
    print(summarise(load(Path(a.profile)), a.n))


if __name__ == "__main__":
    main()
