"""Sentence encoders for the embeddings backend: a packaged sentence-transformers model, run by
ONNX Runtime with int8 weights, one thread per question, without PyTorch.

The first use of a model converts it (:func:`convert`): PyTorch exports the model's transformer
to ONNX, ONNX Runtime quantises the weights of its linear layers to int8 (dynamic quantisation;
:data:`KEEP_FLOAT` names the ones left in float32), and the model directory with its tokenizer
is renamed into place under ``KEFU_BOT_MODELS_DIR/onnx``, so a reader never sees half a model.
A few minutes, once;
``python -m kefu.bot.matching.encoders mpnet`` does it ahead of time (an image's build step).
Later uses, in any process, load the converted model with ONNX Runtime and ``tokenizers``
only: nothing is downloaded, and PyTorch is not imported.

A text is encoded alone (batch of one): dynamic quantisation scales each run's activations
together, so a text padded into a batch would get a slightly different vector than alone; alone,
a question gets the same vector in a conversation, in a batch job and in the cache.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from kefu.bot import packaged
from kefu.bot.matching.features import MAX_QUERY_CHARS
from kefu.bot.matching.vectorcache import VectorCache

#: Bump when the conversion changes what a model computes (the cache keys depend on it).
CONVERSION = "1"
#: Embeddings kept in memory by text, on top of the disk cache.
MEMORY_CACHE = 50_000
_converting = threading.Lock()


class EncoderError(packaged.PackagedModelError):
    """A model that cannot be converted or loaded."""


def onnx_dir(name: str, quantise: bool = True) -> Path:
    """Where the converted model lives: the source model's fingerprint is in the name, so new
    weights get a new directory."""
    source = _source(name)
    kind = "int8" if quantise else "fp32"
    short = Path(name).name if name not in packaged.NAMES else name
    return packaged.models_dir() / "onnx" / f"{short}-{_fingerprint(source)}-{kind}-v{CONVERSION}"


def convert(name: str, quantise: bool = True) -> Path:
    """The directory of the ONNX model of ``name`` (a packaged model's short name or a local
    sentence-transformers directory), converted on first use."""
    target = onnx_dir(name, quantise)
    if (target / "meta.json").is_file():
        return target
    with _converting:
        if (target / "meta.json").is_file():
            return target
        source = _source(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        try:
            _export(source, work / "fp32.onnx")
            if quantise:
                _quantise(work / "fp32.onnx", work / "model.onnx")
                (work / "fp32.onnx").unlink()
            else:
                (work / "fp32.onnx").rename(work / "model.onnx")
            shutil.copy(source / "tokenizer.json", work / "tokenizer.json")
            meta = {
                "source": name,
                "conversion": CONVERSION,
                "quantised": quantise,
                "max_seq_length": _read_json(source / "sentence_bert_config.json").get(
                    "max_seq_length", 256
                ),
                "pooling": _pooling(source),
                "sha256": _sha256(work / "model.onnx"),
            }
            (work / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
            work.chmod(0o755)
            try:
                os.replace(work, target)
            except OSError:  # another process finished first: use its copy
                if not (target / "meta.json").is_file():
                    raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return target


#: The feed-forward blocks' second projections (BERT's and MPNet's ``layer.N/output/dense``,
#: not the attention's ``attention/output/dense``) stay float32: their inputs (after GELU) have
#: a few very large values, which one int8 scale per tensor flattens (all-mpnet-base-v2's
#: vectors fell to a cosine of 0.85 with them quantised, 0.986 without; docs/bot.md).
KEEP_FLOAT = re.compile(r"/layer\.\d+/output/dense/")


def _quantise(fp32: Path, out: Path) -> None:
    """int8 weights (unsigned: no saturation on CPUs without VNNI) for the linear layers, one
    scale per tensor; activations are quantised per run (dynamic)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(fp32), load_external_data=False).graph
    weights = {init.name for init in graph.initializer}
    nodes = [
        node.name
        for node in graph.node
        if node.op_type == "MatMul"
        and any(i in weights for i in node.input)
        and not KEEP_FLOAT.search(node.name)
    ]
    quantize_dynamic(
        fp32,
        out,
        weight_type=QuantType.QUInt8,
        op_types_to_quantize=["MatMul"],
        nodes_to_quantize=nodes,
    )


def _source(name: str) -> Path:
    if name in packaged.NAMES:
        return packaged.path_of(name)
    path = Path(name)
    if not (path / "config.json").is_file() or not (path / "tokenizer.json").is_file():
        raise EncoderError(
            f"{name!r} is neither a packaged model {packaged.NAMES} nor a local "
            "sentence-transformers directory with config.json and tokenizer.json"
        )
    return path


def _fingerprint(source: Path) -> str:
    """The source's files by name, size and modification time (cheap: no weights are read)."""
    h = hashlib.sha256()
    for f in sorted(p for p in source.rglob("*") if p.is_file()):
        st = f.stat()
        h.update(f"{f.relative_to(source)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:12]


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _pooling(source: Path) -> str:
    config = _read_json(source / "1_Pooling" / "config.json")
    if config.get("pooling_mode_cls_token"):
        return "cls"
    if config and not config.get("pooling_mode_mean_tokens", True):
        raise EncoderError(f"{source}: only mean and CLS pooling are supported")
    return "mean"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _export(source: Path, out: Path) -> None:
    """The transformer's token vectors as an ONNX graph (PyTorch's exporter, opset 17)."""
    try:
        import torch
        from transformers import AutoModel
    except ImportError:
        raise EncoderError(
            "converting a model to ONNX needs the kefu[embeddings] extra (PyTorch)"
        ) from None
    model = AutoModel.from_pretrained(str(source), local_files_only=True).eval()

    class Tokens(torch.nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.model(input_ids=input_ids, attention_mask=attention_mask)[0]

    ids = torch.ones((1, 8), dtype=torch.int64)
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad(), warnings.catch_warnings():
        # the exporter's notices (the TorchScript exporter, traced shapes): not our user's
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Tokens(),
            (ids, torch.ones_like(ids)),
            str(out),
            input_names=["input_ids", "attention_mask"],
            output_names=["tokens"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "tokens": axes},
            opset_version=17,
            dynamo=False,
        )


class TextEncoder(Protocol):
    """What the embeddings backend needs of an encoder (unit vectors, float32)."""

    @property
    def name(self) -> str: ...

    def encode_one(self, text: str) -> npt.NDArray[np.float32]: ...

    def encode_many(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


class Encoder:
    """One converted model, loaded once per process, safe to share between threads.

    ``encode_one`` runs the model on one question; ``encode_many`` (training, batch jobs) looks
    each text up in memory, then in the disk cache (:class:`VectorCache`, keyed by the ONNX
    model's hash and the text's), and runs the model only on the texts neither holds.
    ``encoded`` counts the texts the model has run on."""

    def __init__(self, name: str, cache: VectorCache | None = None) -> None:
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError:
            raise ImportError("the embeddings backend needs the kefu[embeddings] extra") from None
        self.name = name
        where = convert(name)
        meta = _read_json(where / "meta.json")
        self.model_id = f"{meta['sha256'][:16]}"
        self._pooling = meta.get("pooling", "mean")
        options = onnxruntime.SessionOptions()
        # One thread per question: the bot answers one question at a time and leaves the other
        # cores to the server; it also makes a question's CPU time the calling thread's.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self._session = onnxruntime.InferenceSession(
                str(where / "model.onnx"), options, providers=["CPUExecutionProvider"]
            )
            self._tokenizer = Tokenizer.from_file(str(where / "tokenizer.json"))
        except Exception as exc:  # onnxruntime's and tokenizers' own error types
            raise EncoderError(f"cannot load the converted model in {where}: {exc}") from exc
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(int(meta.get("max_seq_length", 256)))
        self.cache = cache if cache is not None else VectorCache.default()
        self._memory: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()
        self._lock = threading.Lock()
        self.encoded = 0
        self.dimensions = int(self._encode(".").shape[0])
        self.encoded = 0

    def _encode(self, text: str) -> npt.NDArray[np.float32]:
        ids = np.asarray([self._tokenizer.encode(text).ids], dtype=np.int64)
        tokens = self._session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
        hidden = tokens[0][0]
        vector = hidden[0] if self._pooling == "cls" else hidden.mean(axis=0)
        out: npt.NDArray[np.float32] = (vector / max(np.linalg.norm(vector), 1e-12)).astype(
            np.float32
        )
        with self._lock:
            self.encoded += 1
        return out

    def encode_one(self, text: str) -> npt.NDArray[np.float32]:
        """The unit vector of one question (not cached: questions rarely repeat)."""
        return self._encode(text[:MAX_QUERY_CHARS])

    def encode_many(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Unit vectors of many texts; texts seen before come from memory or the disk cache."""
        keys = [t[:MAX_QUERY_CHARS] for t in texts]
        with self._lock:
            found = {k: self._memory[k] for k in keys if k in self._memory}
        wanted = [k for k in dict.fromkeys(keys) if k not in found]
        if wanted:
            found.update(self.cache.get(self.model_id, wanted))
        missing = [k for k in wanted if k not in found]
        if missing:
            fresh = dict(zip(missing, _map(self._encode, missing), strict=True))
            self.cache.put(self.model_id, fresh)
            found.update(fresh)
        with self._lock:
            for key in dict.fromkeys(keys):
                self._memory[key] = found[key]
                self._memory.move_to_end(key)
            while len(self._memory) > MEMORY_CACHE:
                self._memory.popitem(last=False)
        if not keys:
            return np.empty((0, self.dimensions), np.float32)
        return np.vstack([found[k] for k in keys]).astype(np.float32, copy=False)


_workers = 1


def _map(fn: Any, texts: list[str]) -> list[npt.NDArray[np.float32]]:
    """``fn`` over the texts, on :func:`every_core`'s threads in a batch job (ONNX Runtime
    releases the GIL while it runs)."""
    if _workers <= 1 or len(texts) < 2 * _workers:
        return [fn(t) for t in texts]
    with ThreadPoolExecutor(_workers) as pool:
        return list(pool.map(fn, texts, chunksize=16))


@contextmanager
def every_core() -> Iterator[None]:
    """Encode on every core (embedding a knowledge base in a batch job), then go back to one
    thread per question."""
    global _workers
    # the cores this process may run on (a container's CPU set), not the host's
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    _workers = cores or 1
    try:
        yield
    finally:
        _workers = 1


def main() -> None:
    """Convert packaged models ahead of time (for example while building an image)."""
    parser = argparse.ArgumentParser(prog="python -m kefu.bot.matching.encoders")
    parser.add_argument("models", nargs="*", default=["mpnet"], help="packaged names or paths")
    for name in parser.parse_args().models:
        print(convert(name))


if __name__ == "__main__":
    main()
