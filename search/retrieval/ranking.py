"""Ranking maths: fusing the dense and lexical lists, per-document grouping, maximal marginal relevance."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

RRF_K = 60
LEXICAL_RRF_WEIGHT = 1.0
# Weighted fusion scales each list from its score at this rank (0) to its best score (1). Anchoring
# at a fixed rank, not at the list's last candidate, keeps the scale the same however deep the
# candidate lists go and however small the corpus is: when the lists hold the whole of a small
# corpus, their minimum is a passage about something else, and min-max would let a passage that
# only matches one incidental query word win with a poor cosine.
FUSION_ANCHOR = 20


def fuse(
    dense: Sequence[tuple[int, float]],
    lexical: Sequence[tuple[int, float]],
    method: str = "weighted",
    weight: float = 0.5,
    anchor: int = FUSION_ANCHOR,
) -> list[tuple[int, float]]:
    """Merge two ranked lists of ``(id, score)`` into one, best first.

    ``weighted``: ``weight`` × the dense score + (1 − ``weight``) × the lexical score, each anchored
    at ``anchor`` (see ``_anchored``) and counted from 0 up: below the anchor of a list, or missing
    from it, a candidate gets nothing from that list. Candidates below both anchors (score 0) keep the
    order of their unclipped sums, a missing score counting as its list's last. ``rrf``:
    reciprocal-rank fusion, ``Σ 1/(60 + rank)``.
    """
    if method == "rrf":
        fused: dict[int, float] = {}
        for ranked, w in ((dense, 1.0), (lexical, LEXICAL_RRF_WEIGHT)):
            for rank, (pid, _) in enumerate(ranked, 1):
                fused[pid] = fused.get(pid, 0.0) + w / (RRF_K + rank)
        return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
    # In arrays: the same float64 arithmetic as one candidate at a time (195 → 110 µs for 2 × 100 candidates).
    ids, d, lx = _aligned(dense, lexical, anchor)
    fused = weight * np.maximum(d, 0.0) + (1 - weight) * np.maximum(lx, 0.0)
    below = weight * d + (1 - weight) * lx
    order = np.lexsort((ids, -below, -fused))
    return list(zip(ids[order].tolist(), fused[order].tolist()))


def _aligned(
    dense: Sequence[tuple[int, float]], lexical: Sequence[tuple[int, float]], anchor: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every candidate id of either list, and its anchored score in each (a list's last where missing)."""
    (d_ids, d), (lx_ids, lx) = _anchored(dense, anchor), _anchored(lexical, anchor)
    ids, where = np.unique(np.concatenate([d_ids, lx_ids]), return_inverse=True)
    columns = []
    for scores, at in ((d, where[: len(d)]), (lx, where[len(d) :])):
        column = np.full(len(ids), scores.min() if len(scores) else 0.0)
        column[at] = scores
        columns.append(column)
    return ids, columns[0], columns[1]


def _anchored(ranked: Sequence[tuple[int, float]], anchor: int = FUSION_ANCHOR) -> tuple[np.ndarray, np.ndarray]:
    """A ranked list as ``(ids, scores)`` arrays, each score scaled so that the ``anchor``-th best (or
    the last, in a shorter list) is 0 and the best is 1; below the anchor it goes negative."""
    if not ranked:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    pids, values = zip(*ranked)
    ids, scores = np.array(pids, dtype=np.int64), np.array(values, dtype=np.float64)
    hi, lo = scores.max(), np.sort(scores)[::-1][min(anchor, len(scores)) - 1]
    span = hi - lo
    return ids, (scores - lo) / span if span > 0 else np.ones(len(scores))


def group(
    ranked: Sequence[tuple[int, float]], doc_of: dict[int, str], per_doc: int | None, k: int
) -> list[tuple[int, float]]:
    """The first ``k`` entries of ``ranked`` with at most ``per_doc`` passages from any one document."""
    seen: dict[str, int] = {}
    out = []
    for pid, score in ranked:
        doc = doc_of.get(pid)
        if doc is None:
            continue
        if per_doc is not None and seen.get(doc, 0) >= per_doc:
            continue
        seen[doc] = seen.get(doc, 0) + 1
        out.append((pid, score))
        if len(out) == k:
            break
    return out


def mmr_order(
    ranked: Sequence[tuple[int, float]], vectors: np.ndarray, lam: float, limit: int
) -> list[tuple[int, float]]:
    """Maximal marginal relevance: pick, one at a time, the candidate with the best
    ``λ·relevance − (1−λ)·(highest cosine to anything already picked)``; relevance is the candidate's
    min-max normalised score. Returns up to ``limit`` entries with their original scores."""
    if not ranked:
        return []
    rel = _anchored(ranked, len(ranked))[1].astype(np.float32)
    picked: list[int] = []
    closest = np.full(len(ranked), -np.inf, dtype=np.float32)
    left = np.ones(len(ranked), dtype=bool)
    for _ in range(min(limit, len(ranked))):
        penalty = np.where(np.isfinite(closest), closest, 0.0)
        gain = np.where(left, lam * rel - (1 - lam) * penalty, -np.inf)
        best = int(np.argmax(gain))
        picked.append(best)
        left[best] = False
        closest = np.maximum(closest, vectors @ vectors[best])
    return [ranked[i] for i in picked]
