"""Fusion and MMR (``search.retrieval.ranking``)."""

from __future__ import annotations

import numpy as np
import pytest

from search.retrieval import fuse, mmr_order


def test_rrf_and_weighted_fusion() -> None:
    dense = [(1, 0.9), (2, 0.8), (3, 0.1)]
    lexical = [(3, 12.0), (1, 5.0)]
    rrf = fuse(dense, lexical, "rrf")
    assert [pid for pid, _ in rrf] == [1, 3, 2]
    assert rrf[0][1] == pytest.approx(1 / 61 + 1 / 62)
    weighted = dict(fuse(dense, lexical, "weighted", weight=0.5))
    assert weighted[3] == pytest.approx(0.5 * 0.0 + 0.5 * 1.0)
    assert weighted[1] == pytest.approx(0.5 * 1.0 + 0.5 * 0.0)


def test_weighted_fusion_does_not_depend_on_how_deep_the_lists_go() -> None:
    """Scores are anchored at a fixed rank, not at the last candidate: fusing the first 40 of each list
    ranks and scores the top exactly as fusing the first 200 (min-max over the lists would not)."""
    rng = np.random.default_rng(7)
    dense = sorted(enumerate(rng.uniform(0.1, 0.7, 300).tolist()), key=lambda x: -x[1])
    lexical = sorted(enumerate(rng.exponential(3.0, 300).tolist()), key=lambda x: -x[1])
    deep, shallow = fuse(dense[:200], lexical[:200]), fuse(dense[:40], lexical[:40])
    assert shallow[:10] == deep[:10]
    # the 20th dense candidate gets nothing from its dense score, only what BM25 gives it
    scores, lexical_only = dict(deep), dict(fuse([], lexical[:200]))
    twentieth = dense[19][0]
    assert scores[dense[0][0]] >= 0.5 and scores[twentieth] == pytest.approx(lexical_only.get(twentieth, 0.0))


def test_weighted_fusion_keeps_an_order_below_the_anchors() -> None:
    dense = [(100 - i, 0.9 - i / 100) for i in range(60)]  # ids run against the score order
    lexical = [(100 - i, 9.0 - i / 10) for i in range(0, 60)]  # the same order
    fused = fuse(dense, lexical)
    assert [pid for pid, _ in fused] == [pid for pid, _ in dense]
    assert fused[-1][1] == 0.0 and fused[0][1] == 1.0


def test_mmr_skips_near_duplicates() -> None:
    vecs = np.array([[1, 0], [0.999, 0.0447], [0, 1]], dtype=np.float32)
    ranked = [(10, 0.9), (11, 0.89), (12, 0.5)]
    assert [pid for pid, _ in mmr_order(ranked, vecs, 0.5, 3)] == [10, 12, 11]
    assert [pid for pid, _ in mmr_order(ranked, vecs, 1.0, 3)] == [10, 11, 12]
