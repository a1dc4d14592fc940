"""kefu's build backend: setuptools, after building the web apps into the package.

A wheel or sdist of kefu carries the agent app and the chat widget (``src/kefu/static/<app>``),
so that ``pip install kefu`` serves ``/app`` and ``/widget`` without Node. Before setuptools
builds either, every ``web/<app>`` with a ``package.json`` is built with ``npm ci`` and
``npm run build`` unless its built files are newer than its sources. An sdist carries both the
web sources and the built files, so a wheel built from it needs no Node. Editable installs
(``make``) leave the web apps to ``make web``.

``KEFU_SKIP_WEB_BUILD=1`` skips the front-end step (the static files then come from wherever
they are, or are missing).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403 - every other hook as setuptools has it

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
STATIC = ROOT / "src" / "kefu" / "static"
# What each app's build must leave behind (the server serves these).
OUTPUTS = {"agent": "index.html", "widget": "loader.js"}


def _newest(folder: Path, skip: str | None = None) -> float:
    newest = 0.0
    for dirpath, dirnames, filenames in os.walk(folder):
        if skip is not None:
            dirnames[:] = [d for d in dirnames if d != skip]
        for name in filenames:
            newest = max(newest, (Path(dirpath) / name).stat().st_mtime)
    return newest


def _built(app: str) -> bool:
    out = STATIC / app
    marker = out / OUTPUTS.get(app, "index.html")
    return marker.is_file() and _newest(out) >= _newest(WEB / app, skip="node_modules")


def build_web() -> None:
    """Build each web app whose built files are missing or older than its sources."""
    if os.environ.get("KEFU_SKIP_WEB_BUILD") == "1" or not WEB.is_dir():
        return
    npm = shutil.which("npm")
    for package in sorted(WEB.glob("*/package.json")):
        app = package.parent.name
        if _built(app):
            continue
        if npm is None:
            raise RuntimeError(
                f"web/{app} is not built and npm is not on the PATH: Node.js 20 and npm are "
                "needed to build kefu from a checkout (an sdist carries the built apps)"
            )
        print(f"kefu: building web/{app} (npm ci && npm run build)", file=sys.stderr)
        for args in (["ci", "--no-audit", "--no-fund", "--loglevel=error"], ["run", "build"]):
            subprocess.run([npm, *args], cwd=package.parent, check=True)  # noqa: S603
        if not (STATIC / app / OUTPUTS.get(app, "index.html")).is_file():
            raise RuntimeError(f"web/{app}: the build left no {OUTPUTS.get(app)} in {STATIC}")


def build_sdist(sdist_directory: str, config_settings: dict[str, Any] | None = None) -> str:
    build_web()
    return _setuptools.build_sdist(sdist_directory, config_settings)


def build_wheel(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    build_web()
    return _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)
