"""The FAISS side of the embedded store: inner-product search over unit vectors, keyed by passage id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import faiss
import numpy as np

from ..errors import IndexDamaged


class VectorIndex:
    """Passage vectors in FAISS. Scores are inner products of unit vectors, i.e. cosine similarity."""

    def __init__(self, index: faiss.Index) -> None:
        self.index = index

    @classmethod
    def empty(cls, dimension: int) -> VectorIndex:
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)))

    @classmethod
    def read(cls, path: Path) -> VectorIndex:
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise IndexDamaged(f"{path} is not a readable FAISS index; rebuild the index") from exc
        return cls(index)

    def write(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self.index.d)

    def add(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids.astype(np.int64))

    def remove(self, ids: np.ndarray) -> int:
        return int(self.index.remove_ids(ids.astype(np.int64)))

    def reconstruct(self, ids: list[int]) -> np.ndarray:
        """The stored vectors of these passage ids."""
        if not ids:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self.index.reconstruct(int(i)) for i in ids])

    def ids(self) -> np.ndarray:
        return faiss.vector_to_array(self.index.id_map).astype(np.int64)

    def finalize(self, ann: dict[str, Any]) -> None:
        """Called before writing: the place where the index type is chosen for its size."""

    def describe(self) -> dict[str, Any]:
        return {"type": "IDMap2,Flat", "metric": "inner_product", "dimension": self.dimension}

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> list[list[tuple[int, float]]]:
        """Top-k ``(id, score)`` per query, best first; ``allowed`` limits the ids that may be returned."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        limit = self.ntotal if allowed is None else min(self.ntotal, len(allowed))
        k = min(k, limit)
        if k < 1 or len(queries) == 0:
            return [[] for _ in range(len(queries))]
        params = None
        if allowed is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed.astype(np.int64)))
        scores, ids = self.index.search(queries, k, params=params)
        return [
            [(int(i), float(s)) for i, s in zip(row_ids, row_scores) if i >= 0]
            for row_ids, row_scores in zip(ids, scores)
        ]
