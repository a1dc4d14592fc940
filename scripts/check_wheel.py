"""Check that kefu installs as a package with its web apps (``make check-wheel``; .ci/run).

Usage: python scripts/check_wheel.py [--full] [--keep DIR]

1. Builds the sdist from this checkout (the build backend, tools/kefu_build_backend.py, builds
   the web apps first when they are missing or stale: Node.js is needed here).
2. Unpacks the sdist and builds the wheel from it with no Node on the PATH: the sdist carries
   the built apps.
3. Installs the wheel into a fresh virtual environment with no Node on the PATH. Its
   dependencies are those of the environment running this script (a ``.pth`` line after the
   fresh environment's own site-packages: the kefu that runs is the wheel's, which the check
   asserts), because installing some forty packages from the index takes minutes; ``--full``
   installs them from the index as a user's ``pip install`` does (about 11 minutes here).
4. Runs that environment's ``kefu demo`` on a free loopback port and a temporary data
   directory, and fetches ``/``, ``/app/``, the app's script, ``/widget/loader.js`` and the
   chat page: each must answer 200 with the right kind of content.

Prints the sizes of the sdist and the wheel and how long each step took. Exits non-zero on the
first failure (with the server's output).
"""

# ruff: noqa: S603 - the commands run are this script's own, on files it made
from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def step(name: str) -> Iterator[None]:
    started = time.monotonic()
    print(f"-- {name}", flush=True)
    yield
    print(f"   {name}: {time.monotonic() - started:.1f} s", flush=True)


def no_node_env(bin_dir: Path) -> dict[str, str]:
    """The environment with only ``bin_dir`` on the PATH (Debian puts node in /usr/bin, next
    to everything else, so the PATH is cut to the one directory the step needs)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEFU_", "PYTHON"))}
    env["PATH"] = str(bin_dir)
    probe = subprocess.run(
        ["/bin/sh", "-c", "command -v node npm"], env=env, capture_output=True, text=True
    )
    assert probe.stdout.strip() == "", f"node is still on the PATH: {probe.stdout}"
    return env


def fetch(url: str) -> tuple[int, str, bytes]:
    req = urllib.request.Request(url)  # noqa: S310 - loopback only
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=30) as r:
            return r.status, r.headers.get("content-type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("content-type", ""), e.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def check_server(kefu: Path, env: dict[str, str], work: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data = work / "data"
    proc = subprocess.Popen(
        [str(kefu), "demo", "--port", str(port), "--data-dir", str(data)],
        env=env | {"KEFU_DEMO_PASSWORD": "wheel-check-pw-1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=work,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if fetch(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("kefu demo did not start")
            time.sleep(0.3)
        status, _, _ = fetch(f"{base}/")
        assert status == 302, f"/ answered {status}"
        status, ctype, page = fetch(f"{base}/app/")
        assert status == 200 and ctype.startswith("text/html"), f"/app/ answered {status}"
        scripts = re.findall(rb'src="(/app/assets/[^"]+\.js)"', page)
        assert scripts, "the app's page names no script"
        status, ctype, js = fetch(base + scripts[0].decode())
        assert status == 200 and "javascript" in ctype and len(js) > 10_000, "app script"
        status, ctype, loader = fetch(f"{base}/widget/loader.js")
        assert status == 200 and "javascript" in ctype and len(loader) > 1000, "loader"
        print(f"   /app/ script {len(js):,} bytes, loader {len(loader):,} bytes")
    finally:
        proc.terminate()
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    key = re.search(r"chat\.html\?key=([A-Za-z0-9_\-]+)", out)
    if key is None:
        print(out)
        raise SystemExit("kefu demo printed no chat link")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="dependencies from the index too")
    parser.add_argument("--keep", type=Path, help="work in DIR and keep it (default: a temp dir)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="kefu-wheel-"))
    work.mkdir(parents=True, exist_ok=True)
    dist = work / "dist"
    try:
        with step("sdist from the checkout (builds the web apps when stale)"):
            subprocess.run(
                [sys.executable, "-m", "build", "--sdist", "--outdir", str(dist), str(REPO)],
                check=True,
            )
        sdist = next(dist.glob("kefu-*.tar.gz"))
        with tarfile.open(sdist) as tar:
            names = tar.getnames()
            tar.extractall(work / "src", filter="data")
        for needed in ("src/kefu/static/agent/index.html", "src/kefu/static/widget/loader.js"):
            assert any(n.endswith(needed) for n in names), f"the sdist lacks {needed}"
        unpacked = next((work / "src").iterdir())

        empty = work / "empty-bin"
        empty.mkdir(exist_ok=True)
        with step("wheel from the sdist, no Node on the PATH"):
            subprocess.run(
                [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist)],
                check=True,
                env=no_node_env(empty),
                cwd=unpacked,
            )
        wheel = next(dist.glob("kefu-*.whl"))

        venv = work / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        env = no_node_env(venv / "bin")
        with step("pip install of the wheel into a fresh venv, no Node on the PATH"):
            install = [venv / "bin/python", "-m", "pip", "install", "--quiet", str(wheel)]
            if not args.full:
                install.append("--no-deps")
                site = subprocess.run(
                    [
                        venv / "bin/python",
                        "-c",
                        "import sysconfig; print(sysconfig.get_path('purelib'))",
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout.strip()
                deps = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
                (Path(site) / "zz_kefu_check_deps.pth").write_text("\n".join(sorted(deps)) + "\n")
            subprocess.run(install, check=True, env=env)
            where = subprocess.run(
                [venv / "bin/python", "-c", "import kefu; print(kefu.__file__)"],
                check=True,
                capture_output=True,
                text=True,
                env=env,
                cwd=work,
            ).stdout.strip()
            assert where.startswith(str(venv)), f"kefu was imported from {where}"
        with step("kefu demo from the installed wheel serves /app and the widget"):
            check_server(venv / "bin/kefu", env, work)
        print(
            f"sdist {sdist.name}: {sdist.stat().st_size / 1e6:.2f} MB; "
            f"wheel {wheel.name}: {wheel.stat().st_size / 1e6:.2f} MB"
        )
        print("the wheel carries the agent app and the widget")
        return 0
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
