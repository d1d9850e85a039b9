"""The manifest of an index version, the same for every store: written by ``Manifest.new``, read by
``Manifest.parse``, and read in code through typed properties (``manifest.model.name``,
``manifest.passages``) rather than key chains.

A ``Manifest`` is the JSON object as stored (a ``dict``, so that ``fpsearch info --json`` and
``GET /info`` show it as it is); ``Recipe`` is the part a change to an index keeps: how its documents
become vectors (the model, the chunking, the vector index).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import IndexDamaged
from ..version import __version__

FORMAT = "fpsearch-index"
FORMAT_VERSION = 2  # 2: speaker turns, actors and a speaker per sentence


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class ModelInfo:
    name: str
    dimension: int
    max_tokens: int
    runtime: str = "torch"
    """What embedded the passages: ``torch`` (PyTorch float32; every index made before this was
    recorded), ``onnx`` (the fused float32 ONNX graph, kept only where it matches PyTorch), or the
    model's own engine."""


@dataclass(frozen=True)
class Chunking:
    splitter: str
    max_tokens: int
    overlap: int
    embed_title: bool = False


@dataclass(frozen=True)
class Ann:
    """When the vector index becomes approximate: above ``threshold`` passages, unless ``exact``."""

    exact: bool = False
    threshold: int | None = None
    seed: int = 0


@dataclass(frozen=True)
class Recipe:
    """How an index turns documents into vectors. A change to an index keeps its index's recipe, and
    embedding checkpoints are keyed on it (``as_dict`` is what the manifest stores)."""

    model: ModelInfo
    chunking: Chunking
    ann: Ann = Ann()

    def as_dict(self) -> dict[str, Any]:
        ann = {"exact": self.ann.exact, "threshold": self.ann.threshold}
        if self.ann.seed:
            ann["seed"] = self.ann.seed
        return {"model": asdict(self.model), "chunking": asdict(self.chunking), "ann": ann}

    @classmethod
    def of(cls, manifest: dict[str, Any]) -> Recipe:
        """The recipe an existing manifest records (a store that keeps no ``ann`` gets the default)."""
        try:
            model, chunking = manifest["model"], manifest["chunking"]
            return cls(
                ModelInfo(
                    str(model["name"]),
                    int(model["dimension"]),
                    int(model["max_tokens"]),
                    str(model.get("runtime", "torch")),
                ),
                Chunking(
                    str(chunking.get("splitter", "")),
                    int(chunking["max_tokens"]),
                    int(chunking.get("overlap", 1)),
                    bool(chunking.get("embed_title", False)),
                ),
                Ann(**{k: v for k, v in manifest.get("ann", {}).items() if k in ("exact", "threshold", "seed")}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexDamaged(f"the manifest's model or chunking settings are incomplete ({exc!r})") from exc


class Manifest(dict):
    """An index version's manifest as stored, with typed access to what code reads of it."""

    @classmethod
    def new(
        cls,
        recipe: Recipe,
        created: str | None,
        documents: int,
        passages: int,
        sources: dict[str, int],
        keep_ann: bool = True,
        **parts: Any,
    ) -> Manifest:
        """The manifest of a newly written version: what fpsearch and which recipe wrote it, what it
        holds, then the store's own ``parts`` (its vectors, files, lexical statistics...)."""
        settings = recipe.as_dict()
        if not keep_ann:
            settings.pop("ann")
        return cls(
            {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "created": created or utc_now(),
                "updated": utc_now(),
                "package_version": __version__,
                **settings,
                "counts": {"documents": documents, "passages": passages},
                "sources": sources,
                **parts,
            }
        )

    @classmethod
    def parse(cls, raw: Any, where: str) -> Manifest:
        """A stored manifest, checked to be one (``IndexDamaged`` naming ``where`` if not). Its format
        version is left to the caller, whose message says what to do about an old one."""
        if not isinstance(raw, dict) or raw.get("format", FORMAT) != FORMAT:
            raise IndexDamaged(f"{where} is not an fpsearch manifest")
        missing = [k for k in ("format_version", "model", "counts") if k not in raw]
        if missing:
            raise IndexDamaged(f"{where} lacks {', '.join(missing)}; rebuild the index")
        return cls(raw)

    @property
    def format_version(self) -> int | None:
        return self.get("format_version")

    @property
    def model(self) -> ModelInfo:
        m = self["model"]
        return ModelInfo(m["name"], int(m["dimension"]), int(m.get("max_tokens", 0)), str(m.get("runtime", "torch")))

    @property
    def recipe(self) -> Recipe:
        return Recipe.of(self)

    @property
    def documents(self) -> int:
        return int(self["counts"]["documents"])

    @property
    def passages(self) -> int:
        return int(self["counts"]["passages"])

    @property
    def created(self) -> str | None:
        return self.get("created")

    def file(self, name: str) -> dict[str, Any]:
        """``{"bytes": …, "sha256": …}`` of one of the version's files (empty where not recorded)."""
        return self.get("files", {}).get(name, {})
