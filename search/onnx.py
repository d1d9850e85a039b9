"""Fast encoders: the index's own model, exported once to ONNX and run with ONNX Runtime.

Encoding one short query through PyTorch spends most of its time in Python and operator dispatch, not
arithmetic; ONNX Runtime runs the same float32 graph in a few milliseconds on one thread. The export is
made from the model folder on first use (``torch.onnx``, needs the ``onnx`` package) into
``$FPSEARCH_CACHE/onnx/`` and reused; its vectors equal PyTorch's to float rounding (cosine ≥ 0.99999).
Only models that mean-pool their token vectors (all-MiniLM-L6-v2, all-mpnet-base-v2) are exported;
others keep using PyTorch.

Queries then run a static int8 copy of that export (``quantized``): its matrix products take 8-bit
weights and activations, with activation scales fixed once from the short texts in ``calibration.txt``,
so a text's vector never depends on what else is in its batch. The attention products and the
feed-forward down projections stay float32 (their inputs have outliers that 8 bits clip).

Passages run a second export (``passage_graph``): traced with eager attention so that ONNX Runtime's
transformer optimizer can fuse each layer's attention, embedding and layer norms into single kernels,
still float32. It is kept only if its vectors match PyTorch's on probe texts (cosine ≥ 0.99999); on
Kremlin passages it embeds 1.42× as fast as raw float32 ``encode`` on 2 AMD EPYC cores (BENCHMARKS.md).
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import threading
import warnings
from pathlib import Path

import numpy as np

from .config import cache_dir

_LOCK = threading.Lock()
CALIBRATION = Path(__file__).with_name("calibration.txt")
RUN_ROWS = 8  # texts per model run (see ``OnnxEncoder.embed``)


def mean_pooling(model_dir: Path) -> bool:
    """Whether a sentence-transformers folder pools by the mean of its token vectors."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text())
        pooling = next(m for m in modules if m["type"].endswith("Pooling"))
        config = json.loads((model_dir / pooling["path"] / "config.json").read_text())
    except (OSError, ValueError, StopIteration, KeyError):
        return False
    modes = {k for k, v in config.items() if k.startswith("pooling_mode") and v is True}
    return modes == {"pooling_mode_mean_tokens"} or config.get("pooling_mode") == "mean"


FAITHFUL = 0.99999  # least cosine to PyTorch's vectors, on the probe texts, for a passage graph to be kept


def passage_file() -> str | None:
    """The cache file name of the fused passage graph: its fused kernels are ONNX Runtime's own, so
    the graph is made again for another version of it (None: ONNX Runtime is not installed)."""
    try:
        import onnxruntime
    except ImportError:
        return None
    return f"passages-fused-ort{onnxruntime.__version__}.onnx"


def _target(model_dir: Path, name: str = "model.onnx") -> Path:
    weights = next((p for p in (model_dir / "model.safetensors", model_dir / "pytorch_model.bin") if p.exists()), None)
    stamp = f"{model_dir.resolve()}:{weights.stat().st_size if weights else 0}"
    key = hashlib.sha256(stamp.encode()).hexdigest()[:16]
    return cache_dir() / "onnx" / f"{model_dir.name}-{key}" / name


def cached(model_dir: Path, name: str = "model.onnx") -> Path | None:
    """The ONNX file already exported for this model folder (``name``: ``model.onnx`` for queries,
    ``passage_file()`` for passages), if any."""
    target = _target(model_dir, name)
    return target if target.exists() else None


def export(model, model_dir: Path) -> Path | None:
    """The cached ONNX file for this model folder, exported now if needed; None if it cannot be."""
    try:
        import onnx  # noqa: F401  (torch.onnx needs it)
    except ImportError:
        return cached(model_dir)
    return _made_once(_target(model_dir), lambda tmp: _trace(model, tmp))


def passage_graph(model, model_dir: Path) -> Path | None:
    """The cached fused passage graph for this model folder, made now if needed; None if it cannot be
    made, or if its vectors do not match the model's own (then passages keep PyTorch)."""
    name = passage_file()
    if name is None:
        return None
    try:
        import onnx  # noqa: F401
        from onnxruntime.transformers import optimizer
    except ImportError:
        return cached(model_dir, name)
    settings = model[0].auto_model.config

    def fuse(tmp: Path) -> None:
        plain = tmp.with_name(f"{tmp.stem}-eager.onnx")
        try:
            _trace(model, plain, attention="eager")  # the pattern the optimizer recognises and fuses
            fused = optimizer.optimize_model(
                str(plain),
                model_type="bert",
                num_heads=int(settings.num_attention_heads),
                hidden_size=int(settings.hidden_size),
            )
            fused.save_model_to_file(str(tmp))
        finally:
            plain.unlink(missing_ok=True)
        _check_faithful(model, tmp)

    return _made_once(_target(model_dir, name), fuse)


def _check_faithful(model, graph: Path) -> None:
    """Raise unless ``graph`` embeds the probe texts as the PyTorch model does (cosine ≥ ``FAITHFUL``)."""
    from tokenizers import Tokenizer

    probes = [line.strip() for line in CALIBRATION.read_text(encoding="utf-8").splitlines() if line.strip()]
    probes += [" ".join(probes[i : i + 12]) for i in range(0, len(probes), 12)]  # passage-length texts too
    tokenizer = Tokenizer.from_str(model.tokenizer.backend_tokenizer.to_str())
    tokenizer.no_padding()
    tokenizer.no_truncation()
    ours = OnnxEncoder(graph, tokenizer, int(model.max_seq_length), threads=1).embed(probes)
    theirs = model.encode(probes, batch_size=16, normalize_embeddings=True, show_progress_bar=False)
    worst = float((ours * theirs).sum(axis=1).min())
    if worst < FAITHFUL:
        raise ValueError(f"the fused passage graph is not faithful (least cosine {worst:.6f})")


def _trace(model, path: Path, attention: str | None = None) -> None:
    """Export the model's transformer (token vectors out) to ``path``, with ``attention`` as its
    attention implementation when given."""
    import torch

    # Tracing leaves marks on the module it runs (afterwards its padded batches pool differently), so
    # trace a copy: the model this process keeps embedding with must stay exactly as loaded.
    transformer = copy.deepcopy(model[0].auto_model).eval()
    if attention is not None:
        transformer.config._attn_implementation = attention

    class LastHidden(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    enc = model.tokenizer(["a query", "another query here"], padding=True, return_tensors="pt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes about shapes; the graph is checked by tests
        torch.onnx.export(
            LastHidden(transformer),
            (enc["input_ids"], enc["attention_mask"]),
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in ("input_ids", "attention_mask", "last_hidden_state")},
            opset_version=17,
            dynamo=False,
        )


def quantized(float_file: Path, tokenizer, max_length: int) -> Path | None:
    """The static int8 copy of an exported model (made next to it now if needed); None if it cannot be."""
    try:
        texts = [line.strip() for line in CALIBRATION.read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError:
        return None
    key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:12]
    target = float_file.with_name(f"{float_file.stem}-int8-{key}.onnx")
    try:
        import onnx
        from onnxruntime import quantization as q
    except ImportError:
        return target if target.exists() else None

    def quantize(tmp: Path) -> None:
        graph = onnx.load(str(float_file)).graph
        # each text alone (no padding in the ranges), then runs of four joined for longer inputs
        samples = texts + [" ".join(texts[i : i + 4]) for i in range(0, len(texts), 4)]
        feeds = iter(_feeds(graph, tokenizer.encode_batch(samples, add_special_tokens=True), max_length))

        class Reader(q.CalibrationDataReader):
            def get_next(self):
                return next(feeds, None)

        root = logging.getLogger()
        root.addFilter(_quantizer_notes)  # it advises "pre-processing" on the root logger
        try:
            q.quantize_static(
                str(float_file),
                str(tmp),
                Reader(),
                quant_format=q.QuantFormat.QOperator,
                op_types_to_quantize=["MatMul"],
                per_channel=True,
                activation_type=q.QuantType.QUInt8,
                weight_type=q.QuantType.QInt8,
                calibrate_method=q.CalibrationMethod.MinMax,
                nodes_to_exclude=_float_products(graph),
            )
        finally:
            root.removeFilter(_quantizer_notes)

    return _made_once(target, quantize)


def _made_once(target: Path, write) -> Path | None:
    """``target``, first written by ``write(tmp)`` if it does not exist; None if writing fails. One writer
    at a time in a process, and the file appears whole or not at all (a temporary name, then a rename)."""
    if target.exists():
        return target
    with _LOCK:
        if target.exists():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{target.stem}.tmp{os.getpid()}{target.suffix}")
        try:
            write(tmp)
        except Exception:
            tmp.unlink(missing_ok=True)
            return None
        os.replace(tmp, target)
    return target


def _float_products(graph) -> list[str]:
    """The matrix products kept float32: those without a weight (attention: activation x activation)
    and those whose weight has more rows than columns (the feed-forward down projections)."""
    weights = {w.name: list(w.dims) for w in graph.initializer}
    keep = []
    for node in graph.node:
        dims = [weights[i] for i in node.input if i in weights]
        if node.op_type == "MatMul" and (not dims or any(len(d) == 2 and d[0] > d[1] for d in dims)):
            keep.append(node.name)
    return keep


def _feeds(graph, encodings: list, max_length: int):
    """One model input per encoded text, as ``OnnxEncoder`` feeds it (no padding)."""
    segments = any(i.name == "token_type_ids" for i in graph.input)
    for e in encodings:
        ids = np.array([_clip(e.ids, max_length)], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        if segments:
            feed["token_type_ids"] = np.zeros_like(ids)
        yield feed


def _clip(ids: list[int], width: int) -> list[int]:
    return ids if len(ids) <= width else ids[: width - 1] + ids[-1:]  # keep the final [SEP]


def _quantizer_notes(record: logging.LogRecord) -> bool:
    return "quantization" not in record.pathname


class OnnxEncoder:
    """Unit vectors for short texts from an exported model: tokenize (the folder's fast tokenizer),
    run, mean-pool, normalise."""

    def __init__(self, onnx_file: Path, tokenizer, max_length: int, threads: int = 1) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.path = Path(onnx_file)
        self.session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        self.tokenizer = tokenizer
        self.max_length = max_length
        # exports made elsewhere (BERT-style) may also take token_type_ids: one segment, all zeros
        self._segments = any(i.name == "token_type_ids" for i in self.session.get_inputs())

    def embed(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=True)
        # Texts sorted by length and run a few at a time, so that each run pads little: 16 titles of
        # mixed length cost 6.7 ms each in one run, 5.9 in runs of 8 (one at a time: 8.1).
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        runs = [
            _pooled(*self._hidden([encodings[i] for i in order[lo : lo + RUN_ROWS]]))
            for lo in range(0, len(order), RUN_ROWS)
        ]
        vecs = np.concatenate(runs)
        out = np.empty_like(vecs)
        out[order] = vecs
        return out

    def embed_passages(self, texts: list[str], spans, progress=None) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors, and one vector per character span of each passage pooled from the same
        run's token vectors (as ``SentenceTransformerEmbedder.embed_passages`` makes them)."""
        from .embedding import pool_spans

        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=True)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        parts: list[np.ndarray] = [np.zeros((0, self.dimension), dtype=np.float32)] * len(texts)
        for lo in range(0, len(order), RUN_ROWS):
            idx = order[lo : lo + RUN_ROWS]
            hidden, mask = self._hidden([encodings[i] for i in idx])
            out[idx] = _pooled(hidden, mask)
            for row, i in enumerate(idx):
                offsets = np.zeros((mask.shape[1], 2), dtype=np.int64)
                seq = _clip(list(encodings[i].offsets), mask.shape[1])
                offsets[: len(seq)] = seq
                parts[i] = pool_spans(hidden[row], offsets, mask[row], spans[i])
            if progress:
                progress(len(idx))
        return out, parts

    @property
    def dimension(self) -> int:
        return int(self.session.get_outputs()[0].shape[-1])

    def _hidden(self, encodings: list) -> tuple[np.ndarray, np.ndarray]:
        """Token vectors and attention mask of one run of encoded texts, padded to the longest."""
        width = min(self.max_length, max(len(e.ids) for e in encodings))
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, e in enumerate(encodings):
            seq = _clip(e.ids, width)
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if self._segments:
            feed["token_type_ids"] = np.zeros_like(ids)
        return self.session.run(None, feed)[0], mask


def _pooled(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Unit vectors: the mean of each row's token vectors under its mask."""
    summed = (hidden * mask[..., None]).sum(axis=1)
    vecs = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    return (vecs / np.where(norms > 0, norms, 1)).astype(np.float32)
