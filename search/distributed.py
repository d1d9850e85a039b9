"""Embedding on a Ray cluster: the same passages, vectors and index as a local build, computed by many
machines.

``RayEmbedder`` is an ``Embedder``: reading, chunking, checkpointing and the atomic write stay on the
machine that runs ``fpsearch index``; each checkpoint part of passages becomes a Ray Data dataset that
``map_batches`` sends through a pool of actors, one model replica each (loaded on the worker from the
bundled package). Ray retries the tasks of a lost worker on another; a part that still fails stops the
build with a message, and the finished parts stay checkpointed for the next run. Optional: install with
``pip install 'fpsearch[ray]'``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from .chunking import TokenCounter
from .embedding import make_embedder
from .errors import FpsearchError, InvalidInput


class RayFailed(FpsearchError):
    """The Ray cluster could not be reached or a part could not be embedded there."""

    exit_code = 7


class _EmbedActor:
    """One model replica on a Ray worker."""

    def __init__(self, model: str, threads: int, passages: str) -> None:
        import torch

        torch.set_num_threads(threads)
        # embeds as the driver records the index is embedded: the same model, on the same runtime
        self.embedder = make_embedder(model, passages=passages, threads=threads)
        self.embedder.passage_runtime  # load now, not on the first batch  # noqa: B018

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in batch["text"]]
        spans = [np.frombuffer(b, dtype=np.int64).reshape(-1, 2).tolist() for b in batch["spans"]]
        vectors, parts = self.embedder.embed_passages(texts, spans, batch_size=len(texts))
        return {
            "i": batch["i"],
            "vector": vectors,
            "sentences": np.array([np.ascontiguousarray(p, dtype=np.float32).tobytes() for p in parts], dtype=object),
            "count": np.array([len(p) for p in parts], dtype=np.int64),
        }


class RayEmbedder:
    """Embeds passages on a Ray cluster (``address``), or on a local Ray instance (``address=None``)."""

    def __init__(
        self, model: str = "minilm", address: str | None = None, actors: int | None = None, threads_per_actor: int = 1
    ) -> None:
        try:
            import ray  # noqa: F401
        except ImportError as exc:
            raise InvalidInput("building on a Ray cluster needs Ray: pip install 'fpsearch[ray]'") from exc
        self.model = model
        self.local = make_embedder(model)
        self.name = self.local.name
        self.address = None if address in (None, "", "local") else address
        self.actors = actors
        self.threads = threads_per_actor

    @property
    def dimension(self) -> int:
        return self.local.dimension

    @property
    def passage_runtime(self) -> str:
        return self.local.passage_runtime

    @property
    def max_tokens(self) -> int:
        return self.local.max_tokens

    @property
    def counter(self) -> TokenCounter:
        return self.local.counter

    def embed(
        self, texts: Sequence[str], batch_size: int = 32, progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        return self.local.embed(texts, batch_size, progress)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.local.embed_queries(texts)

    def _connect(self):
        import ray

        if not ray.is_initialized():
            for name in ("ray", "ray.data"):
                logging.getLogger(name).setLevel(logging.WARNING)
            try:
                ray.init(
                    address=self.address, log_to_driver=False, include_dashboard=False, logging_level=logging.WARNING
                )
            except Exception as exc:
                where = self.address or "a local Ray instance"
                raise RayFailed(f"cannot start or reach {where}: {str(exc).splitlines()[0]}") from exc
            from ray.data import DataContext

            DataContext.get_current().enable_progress_bars = False
        return ray

    def workers(self) -> int:
        ray = self._connect()
        if self.actors:
            return self.actors
        return max(1, int(ray.cluster_resources().get("CPU", 1)) // self.threads)

    def embed_passages(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        batch_size: int = 32,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        dim = self.dimension
        vectors = np.zeros((len(texts), dim), dtype=np.float32)
        parts: list[np.ndarray] = [np.zeros((0, dim), np.float32)] * len(texts)
        for index, vecs, svecs in self.embed_stream(texts, spans, batch_size):
            vectors[index] = vecs
            for i, sv in zip(index, svecs):
                parts[i] = sv
            if progress:
                progress(len(index))
        return vectors, parts

    def embed_stream(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], batch_size: int = 32
    ) -> Iterator[tuple[np.ndarray, np.ndarray, list[np.ndarray]]]:
        """``(indices, vectors, sentence vectors)`` batches as the cluster finishes them, in about the
        input order: one Ray Data job, so the actors load the model once for the whole build."""
        ray = self._connect()
        texts = list(texts)
        dim = self.dimension
        if not texts:
            return
        # within each stretch of 2,048 passages, shortest first so batches pad little
        order = sorted(range(len(texts)), key=lambda i: (i // 2048, len(texts[i])))
        rows = [
            {"i": i, "text": texts[i], "spans": np.asarray(spans[i], dtype=np.int64).reshape(-1, 2).tobytes()}
            for i in order
        ]
        actors = self.workers()
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True
        dataset = ray.data.from_items(rows, override_num_blocks=max(1, min(len(rows) // batch_size, actors * 8)))
        out = dataset.map_batches(
            _EmbedActor,
            fn_constructor_kwargs={"model": self.model, "threads": self.threads, "passages": self.passage_runtime},
            batch_size=batch_size,
            batch_format="numpy",
            concurrency=actors,
            num_cpus=self.threads,
            max_restarts=3,
            max_task_retries=3,
        )
        try:
            for batch in out.iter_batches(batch_size=None, batch_format="numpy"):
                index = np.asarray(batch["i"], dtype=np.int64)
                parts = [
                    np.frombuffer(blob, dtype=np.float32).reshape(int(n), dim).copy()
                    for blob, n in zip(batch["sentences"], batch["count"])
                ]
                yield index, np.asarray(batch["vector"], dtype=np.float32), parts
        except Exception as exc:
            raise RayFailed(f"embedding on the Ray cluster failed: {str(exc).splitlines()[0]}") from exc
