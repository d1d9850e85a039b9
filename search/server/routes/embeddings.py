"""``/v1/embeddings``: OpenAI-compatible embeddings with the index's own model."""

from __future__ import annotations

import base64

import numpy as np
from fastapi import APIRouter

from ...errors import InvalidInput
from ...models import canonical_name
from ..deps import EngineDep, ModelNotServed, SettingsDep
from ..schemas import EmbeddingItem, EmbeddingRequest, EmbeddingResponse, EmbeddingUsage

router = APIRouter(tags=["embeddings"])


@router.post("/v1/embeddings", response_model=EmbeddingResponse)
def embeddings(engine: EngineDep, settings: SettingsDep, body: EmbeddingRequest) -> EmbeddingResponse:
    """OpenAI-compatible embeddings with the index's own model: unit vectors, so a dot product with
    them ranks passages exactly as fpsearch does."""
    name = engine.manifest.model.name
    accepted = {"default", "fpsearch", name, name.rsplit("/", 1)[-1]}
    if body.model not in accepted and canonical_name(body.model) != name:
        raise ModelNotServed(f"model {body.model!r} is not served here; use {name!r} (or 'default')")
    texts = [body.input] if isinstance(body.input, str) else list(body.input)
    if len(texts) > settings.max_embed_inputs:
        raise InvalidInput(f"{len(texts)} inputs; the limit is {settings.max_embed_inputs}")
    dim = engine.manifest.model.dimension
    if body.dimensions is not None and body.dimensions != dim:
        raise InvalidInput(f"this model gives {dim} dimensions, not {body.dimensions}")
    counter = engine.embedder.counter
    counts = counter.count(texts)
    limit = engine.embedder.max_tokens
    for i, n in enumerate(counts):
        if n > limit:
            raise InvalidInput(f"input {i} is {n} tokens; the model reads at most {limit}")
    vectors = engine.embed(texts)
    data = []
    for i, v in enumerate(vectors):
        if body.encoding_format == "base64":
            emb: list[float] | str = base64.b64encode(np.asarray(v, dtype="<f4").tobytes()).decode()
        else:
            emb = [float(x) for x in v]
        data.append(EmbeddingItem(index=i, embedding=emb))
    tokens = sum(counts) + 2 * len(texts)
    return EmbeddingResponse(data=data, model=name, usage=EmbeddingUsage(prompt_tokens=tokens, total_tokens=tokens))
