#!/usr/bin/env python3
"""Independent reference embeddings for all-MiniLM-L6-v2, for Tests/ConvergeEmbeddingsTests.

Tokenization by Hugging Face `tokenizers` (the Rust implementation, reading the model's tokenizer.json,
truncated to max_seq_length 256 as sentence-transformers does); the BERT forward pass, mean pooling and L2
normalisation written here in numpy (float64) from the weights in model.safetensors. Nothing is shared with
the Swift implementation but the model files.

  python3 -m pip install numpy scipy tokenizers safetensors
  python3 scripts/minilm-reference.py MODEL_DIR ../shared/corpus \
      Tests/ConvergeEmbeddingsTests/Fixtures/minilm-reference.json

`--pairs MODEL_DIR CORPUS OUTPUT` instead writes sentence pairs (context, text) as
`SentenceEmbeddingModel.encode(_:context:)` reads them: `tokenizers`' pair encoding ([CLS] context [SEP] text
[SEP], `longest_first` truncation to 256), the same forward pass, mean pooling over the text's pieces and its
[SEP] only (Tests/ConvergeEmbeddingsTests/Fixtures/minilm-pair-reference.json).

`--bench N MODEL_DIR ARGKP_DIR BATCH` instead times encoding the first N ArgKP dev arguments (float32,
same code, sorted by length and batched as the native encoder does) and prints `reference sentences/s=X`
(used by `converge-eval bench encode`).
"""
import base64
import json
import math
import re
import sys
import time

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

MAX_LEN = 256


def load(model_dir, dtype):
    w = {k: v.astype(dtype) for k, v in load_file(f"{model_dir}/model.safetensors").items()}
    cfg = json.load(open(f"{model_dir}/config.json"))
    tok = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    tok.no_padding()
    tok.enable_truncation(MAX_LEN)
    return w, cfg, tok


def layer_norm(x, g, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def erf(x):
    from scipy.special import erf as scipy_erf
    return scipy_erf(x).astype(x.dtype)


def encode(texts, w, cfg, tok, dtype, pool_from=None):
    encs = tok.encode_batch(texts)
    ids_list = [e.ids for e in encs]
    if pool_from == "second":
        # A pair's second sentence: after the first [SEP].
        pool_from = [ids.index(102) + 1 for ids in ids_list]
    L = max(len(i) for i in ids_list)
    B = len(texts)
    H = cfg["hidden_size"]
    nh = cfg["num_attention_heads"]
    hd = H // nh
    eps = cfg["layer_norm_eps"]
    ids = np.zeros((B, L), dtype=np.int64)
    mask = np.zeros((B, L), dtype=dtype)
    for b, seq in enumerate(ids_list):
        ids[b, : len(seq)] = seq
        mask[b, : len(seq)] = 1
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:L][None] \
        + w["embeddings.token_type_embeddings.weight"][0][None, None]
    x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    bias = (1.0 - mask)[:, None, None, :] * np.finfo(dtype).min
    for l in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{l}."
        def lin(t, name):
            return t @ w[p + name + ".weight"].T + w[p + name + ".bias"]
        q = lin(x, "attention.self.query").reshape(B, L, nh, hd).transpose(0, 2, 1, 3)
        k = lin(x, "attention.self.key").reshape(B, L, nh, hd).transpose(0, 2, 1, 3)
        v = lin(x, "attention.self.value").reshape(B, L, nh, hd).transpose(0, 2, 1, 3)
        s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(hd) + bias
        s = np.exp(s - s.max(-1, keepdims=True))
        s = s / s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(0, 2, 1, 3).reshape(B, L, H)
        a = layer_norm(lin(ctx, "attention.output.dense") + x, w[p + "attention.output.LayerNorm.weight"],
                       w[p + "attention.output.LayerNorm.bias"], eps)
        i = lin(a, "intermediate.dense")
        i = 0.5 * i * (1.0 + erf(i / math.sqrt(2.0)))
        x = layer_norm(lin(i, "output.dense") + a, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
    if pool_from is not None:
        for b, start in enumerate(pool_from):
            mask[b, :start] = 0
    pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1)[:, None]
    pooled = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
    return pooled, ids_list


def sentences(corpus):
    """>= 200 sentences from the three corpora plus edge cases, deterministic."""
    out = []
    for name in ["ai-1", "ai-2", "ai-3"]:
        text = open(f"{corpus}/senior-backend/{name}.md").read()
        parts = [s.strip(" -*#\t") for s in re.split(r"(?<=[.!?])\s+|\n+", text)]
        out += [s for s in parts if len(s.split()) >= 4][:40]
    for model in ["gpt-4o-2024-05-13", "claude-3-5-sonnet-20240620"]:
        rows = json.load(open(f"{corpus}/alpaca-eval/{model}.json"))
        for row in rows[:30]:
            first = re.split(r"(?<=[.!?])\s+", row["output"].strip())[0]
            out.append(first)
        out.append(max((r["output"] for r in rows), key=len))  # a long answer: truncated at 256 tokens
    import csv
    with open(f"{corpus}/argkp/arguments_dev.csv") as f:
        args = [r["argument"] for r in csv.DictReader(f)]
    out += args[::8][:100]
    with open(f"{corpus}/argkp/key_points_dev.csv") as f:
        out += [r["key_point"] for r in csv.DictReader(f)][:20]
    out += [
        "Café naïve résumé — Zürich, São Paulo and Ångström.",
        "数据库设计 matters: 分布式系统 and caching.",
        "Emoji 🚀 and symbols: $5+ years, C#/C++, <html>, a|b, ~tilde^caret`",
        "",
        "supercalifragilisticexpialidocious " * 3,
        "Tabs\tand\nnewlines\r\nand\u00a0non-breaking spaces and zero\u200bwidth.",
    ]
    return out


def pairs(corpus):
    """(context, text) pairs: ArgKP dev arguments and key points in their topic, AlpacaEval sentences in their
    prompt, and edge cases (an empty text, a long context and a long text that truncation must share)."""
    import csv
    out = []
    with open(f"{corpus}/argkp/arguments_dev.csv") as f:
        out += [(r["topic"], r["argument"]) for r in csv.DictReader(f)][::20][:48]
    with open(f"{corpus}/argkp/key_points_dev.csv") as f:
        out += [(r["topic"], r["key_point"]) for r in csv.DictReader(f)][:16]
    rows = json.load(open(f"{corpus}/alpaca-eval/gpt-4o-2024-05-13.json"))
    for row in rows[:24]:
        first = re.split(r"(?<=[.!?])\s+", row["output"].strip())[0]
        out.append((row["instruction"], first))
    longest = max(rows, key=lambda r: len(r["output"]))["output"]
    out += [
        ("How do I dice without slicing my finger", ""),
        ("", "Use a sharp knife."),
        ("How do I dice without slicing my finger " * 40, "Use a sharp knife."),
        ("Short question?", longest),
        (longest[:3000], longest),
    ]
    return out


def vector(v):
    """A float32 vector as the fixtures keep it: little-endian bytes, base64."""
    return base64.b64encode(v.astype("<f4").tobytes()).decode()


def write_fixture(output, items, made_by, reference):
    json.dump({"model": "all-MiniLM-L6-v2", "max_seq_length": MAX_LEN, "made_by": made_by, "reference": reference,
               "items": items}, open(output, "w"), ensure_ascii=False)


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "--pairs":
        model_dir, corpus, output = sys.argv[2], sys.argv[3], sys.argv[4]
        w, cfg, tok = load(model_dir, np.float64)
        items = []
        ps = pairs(corpus)
        for s in range(0, len(ps), 16):
            chunk = ps[s:s + 16]
            vecs, ids = encode(chunk, w, cfg, tok, np.float64, pool_from="second")
            for (c, t), v, i in zip(chunk, vecs, ids):
                items.append({"context": c, "text": t, "ids": i, "textStart": i.index(102) + 1, "embedding": vector(v)})
        write_fixture(output, items, "python3 scripts/minilm-reference.py --pairs MODEL_DIR ../shared/corpus "
                                     "Tests/ConvergeEmbeddingsTests/Fixtures/minilm-pair-reference.json",
                      "tokenizers (Rust) pair encoding + numpy float64 forward pass, text tokens pooled")
        print(f"{len(items)} pairs -> {output}")
        return
    if len(sys.argv) >= 3 and sys.argv[1] == "--bench":
        n, model_dir, argkp, batch = int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
        w, cfg, tok = load(model_dir, np.float32)
        import csv
        with open(f"{argkp}/arguments_dev.csv") as f:
            texts = [r["argument"] for r in csv.DictReader(f)][:n]
        encode(texts[:batch], w, cfg, tok, np.float32)  # warm-up
        start = time.perf_counter()
        order = sorted(range(len(texts)), key=lambda i: len(tok.encode(texts[i]).ids))
        for s in range(0, len(order), batch):
            encode([texts[i] for i in order[s:s + batch]], w, cfg, tok, np.float32)
        elapsed = time.perf_counter() - start
        print(f"reference sentences/s={len(texts) / elapsed:.1f}")
        return
    model_dir, corpus, output = sys.argv[1], sys.argv[2], sys.argv[3]
    w, cfg, tok = load(model_dir, np.float64)
    texts = sentences(corpus)
    items = []
    for s in range(0, len(texts), 32):
        chunk = texts[s:s + 32]
        vecs, ids = encode(chunk, w, cfg, tok, np.float64)
        for t, v, i in zip(chunk, vecs, ids):
            items.append({"text": t, "ids": i, "embedding": vector(v)})
    write_fixture(output, items, "python3 scripts/minilm-reference.py MODEL_DIR ../shared/corpus "
                                 "Tests/ConvergeEmbeddingsTests/Fixtures/minilm-reference.json",
                  "tokenizers (Rust) + numpy float64 forward pass")
    print(f"{len(items)} sentences -> {output}")


if __name__ == "__main__":
    main()
