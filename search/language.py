"""What language a query is in, so that a query the index's model cannot read gets a warning instead
of confidently ranked, off-topic hits.

Two signals, measured on short queries (docs/calibration.md, "Query language"):

- the script: a query whose letters are mostly not Latin (Cyrillic, CJK, Arabic ...) is not English,
  whatever a statistical model says about two words of it;
- py3langid (a maintained fork of langid.py that ships its model), limited to ``LANGUAGES`` and with
  normalised probabilities: a Latin-script query counts as another language when py3langid gives it
  at least ``MIN_PROBABILITY``. On 1,199 English queries (our dev and off-topic sets, SciFact's claims)
  that raised no false alarm, and it named 39 of 39 foreign queries.
"""

from __future__ import annotations

import functools
import threading
import unicodedata
from dataclasses import dataclass

# Languages py3langid may answer with: the ones our users write in, and the neighbours they are confused
# with. Fewer candidates make short queries far more reliable (with all 97, "skin care routine for oily
# skin" is Nigerian Pidgin); Uzbek, Kazakh and Azeri are left out because two Russian words were read as them.
LANGUAGES = {
    "en": "English",
    "ru": "Russian",
    "uk": "Ukrainian",
    "be": "Belarusian",
    "bg": "Bulgarian",
    "sr": "Serbian",
    "ja": "Japanese",
    "zh": "Chinese",
    "ko": "Korean",
    "ar": "Arabic",
    "fa": "Persian",
    "he": "Hebrew",
    "hi": "Hindi",
    "ur": "Urdu",
    "bn": "Bengali",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "pl": "Polish",
    "tr": "Turkish",
    "sv": "Swedish",
    "da": "Danish",
    "no": "Norwegian",
    "fi": "Finnish",
    "cs": "Czech",
    "sk": "Slovak",
    "hu": "Hungarian",
    "ro": "Romanian",
    "el": "Greek",
    "vi": "Vietnamese",
    "id": "Indonesian",
    "ms": "Malay",
    "th": "Thai",
    "ka": "Georgian",
    "hy": "Armenian",
}
MIN_PROBABILITY = 0.5
_lock = threading.Lock()


@dataclass(frozen=True)
class Guess:
    code: str  # ISO 639-1, as py3langid names it
    probability: float
    script: str  # "Latin", or the script most of its letters are in ("Cyrillic", "CJK", ...)

    @property
    def name(self) -> str:
        return LANGUAGES.get(self.code, self.code)


@functools.cache
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def warm() -> None:
    """Load the detector's model (about 0.8 s) now, e.g. on a thread while the embedding model loads."""
    with _lock:
        _identifier()


def _script(text: str) -> str:
    counts: dict[str, int] = {}
    for ch in text:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            script = "CJK" if name.startswith(("CJK", "HIRAGANA", "KATAKANA", "HANGUL")) else name.split(" ")[0]
            counts[script] = counts.get(script, 0) + 1
    if not counts:
        return "Latin"
    script = max(counts, key=counts.__getitem__)
    return "Latin" if script == "LATIN" or counts.get("LATIN", 0) * 2 >= sum(counts.values()) else script.title()


@functools.lru_cache(maxsize=4096)  # the engine and the service both ask about the same query
def detect(text: str) -> Guess:
    """The query's most likely language (of ``LANGUAGES``), its probability and its script."""
    with _lock:
        code, probability = _identifier().classify(text)
    return Guess(code, float(probability), _script(text))


def is_foreign(guess: Guess, languages: frozenset[str]) -> bool:
    """Whether the query is, with the confidence above, in none of ``languages``."""
    if guess.script != "Latin":  # whatever the statistics say of two words, this is not English
        return guess.code not in languages or guess.code == "en"
    return guess.code not in languages and guess.probability >= MIN_PROBABILITY


def note(text: str, languages: frozenset[str] | None, model: str) -> str | None:
    """A one-line warning when ``text`` is not in a language of the model (None: it is, or the
    model's languages are not known)."""
    if languages is None:
        return None
    guess = detect(text)
    if not is_foreign(guess, languages):
        return None
    known = guess.probability >= MIN_PROBABILITY and guess.code != "en"
    said = f"seems to be in {guess.name}" if known else f"is in {guess.script} script"
    reads = ", ".join(LANGUAGES.get(code, code) for code in sorted(languages))
    short = model.rsplit("/", 1)[-1]
    return (
        f"the query {said}, but this index's model ({short}) reads {reads} only, so these hits are "
        f"likely off-topic: ask in {reads}"
    )
