from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.chunking import SEPARATORS, Chunker, WordCounter, sentence_starts, split_sentences
from search.documents import Document

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=3000) | st.lists(
    st.sampled_from(
        [
            "Mr. Smith went to Washington.",
            "Привет мир.",
            "日本語の文。",
            "\n",
            "\r\n",
            " ",
            "Kuril Islands!",
            "U.S. policy",
            "?",
            "x" * 50,
            "\u200f",
            "\x00",
            "\ufeff",
            "مرحبا.",
        ]
    ),
    max_size=200,
).map("".join)


def _check(text: str, chunker: Chunker) -> None:
    doc = Document(doc_id="d", text=text)
    passages = chunker.chunk(doc)
    covered = [False] * len(text)
    last_start = -1
    for n, p in enumerate(passages):
        assert p.ordinal == n
        assert 0 <= p.start < p.end <= len(text)
        assert text[p.start : p.end] == p.text
        assert p.start > last_start, "passages must move forward"
        last_start = p.start
        assert chunker.counter.count([p.text])[0] <= chunker.max_tokens or len(p.text.split()) <= 1
        for a, b in p.sentences:
            assert p.start <= a < b <= p.end
        for i in range(p.start, p.end):
            covered[i] = True
    lost = [i for i, c in enumerate(text) if not c.isspace() and not covered[i]]
    assert not lost, f"characters not in any passage: {lost[:5]}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXT, max_tokens=st.integers(8, 80), overlap=st.integers(0, 3))
def test_spans_are_exact_and_cover_the_text(text: str, max_tokens: int, overlap: int) -> None:
    _check(text, Chunker(WordCounter(), max_tokens=max_tokens, overlap=overlap))


@settings(max_examples=100, deadline=None)
@given(text=TEXT)
def test_sentences_are_trimmed_ordered_and_cover_the_text(text: str) -> None:
    spans = split_sentences(text)
    last = 0
    for s, e in spans:
        assert last <= s < e
        assert text[s:e] == text[s:e].strip()
        last = e
    inside = {i for s, e in spans for i in range(s, e)}
    assert all(c.isspace() or i in inside for i, c in enumerate(text))


def _blingfire_starts(piece: str) -> list[int]:
    """Sentence starts as BlingFire's own Python wrapper gives them (what ``sentence_starts`` replaces)."""
    import blingfire

    try:
        _, offsets = blingfire.text_to_sentences_and_offsets(piece)
    except Exception:
        return []
    return sorted({s for s, _ in offsets if 0 < s < len(piece)})


LINE = st.lists(
    st.sampled_from(
        [
            "Mr. Putin spoke.",
            " ",
            "Привет мир.",
            "日本語の文。",
            "“Yes,” he said.",
            "’",
            "x" * 40,
            "\U0001f600",
            "\x00",
            "\t",
            "?!",
            "U.S.",
            "é.",
            "مرحبا.",
        ]
    ),
    min_size=1,
    max_size=60,
).map("".join) | st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), min_size=1, max_size=400
)


@settings(max_examples=300, deadline=None)
@given(piece=LINE)
def test_sentence_starts_are_blingfires_own(piece: str) -> None:
    # the same starts as BlingFire's wrapper, multi-byte characters and refused inputs included
    try:
        mine = sentence_starts(piece)
    except Exception:
        mine = []
    assert mine == _blingfire_starts(piece)


def test_abbreviations_do_not_end_sentences() -> None:
    text = "Mr. Putin met Mr. Abe on Jan. 5. They discussed the U.S. position.\nNext line."
    got = [text[s:e] for s, e in split_sentences(text)]
    assert got == ["Mr. Putin met Mr. Abe on Jan. 5.", "They discussed the U.S. position.", "Next line."]


def test_long_sentence_is_cut_at_token_boundaries_not_truncated() -> None:
    words = " ".join(f"w{i}" for i in range(250))
    chunker = Chunker(WordCounter(), max_tokens=100, overlap=1)
    passages = chunker.chunk(Document(doc_id="d", text=words))
    assert [len(p.text.split()) for p in passages] == [100, 100, 50]
    assert " ".join(p.text for p in passages) == words


def test_overlap_repeats_whole_sentences() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(12))
    passages = Chunker(WordCounter(), max_tokens=15, overlap=1).chunk(Document(doc_id="d", text=text))
    assert len(passages) > 2
    for a, b in zip(passages, passages[1:]):
        assert a.sentences[-1] == b.sentences[0]


def test_large_document_is_chunked(benchmark_text: str = "The talks went well. " * 200_000) -> None:
    passages = Chunker(WordCounter(), max_tokens=200, overlap=0).chunk(Document(doc_id="big", text=benchmark_text))
    assert passages[-1].end == len(benchmark_text.rstrip())
    assert sum(len(p.text.split()) for p in passages) == len(benchmark_text.split())


WORDY = st.lists(
    st.sampled_from(
        [
            "The Kuril Islands.",
            "unaffable",
            "Привет мир.",
            "日本語の文。",
            "Mr. Abe",
            "U.S.",
            "naïve café",
            "e\u0301",
            "\u0301",
            "x" * 120,
            "!?",
            "\ufffd",
            "\u200b",
            "\x00",
            " ",
            "\n",
            "\t",
            "\u00a0",
            "\u3000",
            "\u2009",
            "\x0b",
            "\x0c",
            "\x1c",
            "\x85",
            "\r\n",
        ]
    ),
    max_size=300,
).map("".join)


class _Counted:
    """A counter that tokenizes every passage again (what the chunker does for non-additive ones)."""

    additive = False

    def __init__(self, inner) -> None:
        self.count, self.offsets = inner.count, inner.offsets


def _minilm_counter():
    from search.embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder("minilm").counter


@settings(max_examples=300, deadline=None)
@given(a=WORDY, b=WORDY, sep=st.sampled_from(sorted(SEPARATORS)))
def test_wordpiece_counts_add_up_over_separators(a: str, b: str, sep: str) -> None:
    # the contract an additive counter signs (see TokenCounter): U+000B or U+0085 here would fail,
    # since BERT deletes them and joins the words on either side
    counter = _minilm_counter()
    assert counter.additive
    assert counter.count([a + sep + b]) == [sum(counter.count([a, b]))]
    assert [len(counter.offsets(t)) for t in (a, b)] == counter.count([a, b])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=WORDY, max_tokens=st.integers(8, 60), overlap=st.integers(0, 2))
def test_added_up_counts_give_the_passages_real_counts_give(text: str, max_tokens: int, overlap: int) -> None:
    # BERT's WordPiece counts add up over separator-bounded sentences: summing them instead of
    # tokenizing each passage again must not change a single span (spaces BERT deletes included)
    counter = _minilm_counter()
    doc = Document(doc_id="d", text=text)
    fast = Chunker(counter, max_tokens=max_tokens, overlap=overlap).chunk(doc)
    slow = Chunker(_Counted(counter), max_tokens=max_tokens, overlap=overlap).chunk(doc)
    assert fast == slow
    for p in fast:
        assert counter.count([p.text])[0] <= max_tokens or len(p.text.split()) <= 1
