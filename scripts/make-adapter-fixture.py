#!/usr/bin/env python3
"""Reference scores of the ArgKP-tuned encoder, for Tests/ConvergeEmbeddingsTests/AdapterTests.swift.

The adapter's low-rank deltas (models/argkp-adapter/adapter.safetensors, written by scripts/train-matcher.py)
are merged into all-MiniLM-L6-v2's weights in numpy (W + lora_b @ lora_a, float64), and the pairs are encoded
by scripts/minilm-reference.py's independent float64 forward pass (Hugging Face `tokenizers`, numpy): the
training framework (JAX) and the Swift encoder share nothing with it but the files.

Pairs: every 8th ArgKP dev argument against every key point of its topic and stance (>= 500 pairs), and
every 40th dev argument against every 41st one (statement-statement similarity, as clustering uses it).

  python3 scripts/make-adapter-fixture.py MODEL_DIR models/argkp-adapter ../shared/corpus/argkp \
      Tests/ConvergeEmbeddingsTests/Fixtures/argkp-adapter-reference.json
"""
import csv
import importlib.util
import json
import os
import sys

import numpy as np
from safetensors.numpy import load_file

model_dir, adapter_dir, argkp, output = sys.argv[1:5]
spec = importlib.util.spec_from_file_location("ref", os.path.join(os.path.dirname(__file__), "minilm-reference.py"))
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)

w, cfg, tok = ref.load(model_dir, np.float64)
base = dict(w)
delta = load_file(f"{adapter_dir}/adapter.safetensors")
layers = sorted({k.rsplit(".", 1)[0] for k in delta})
for layer in layers:
    a = delta[layer + ".lora_a"].astype(np.float64)
    b = delta[layer + ".lora_b"].astype(np.float64)
    w[layer + ".weight"] = w[layer + ".weight"] + b @ a

with open(f"{argkp}/arguments_dev.csv", newline="", encoding="utf-8") as f:
    args = list(csv.DictReader(f))
with open(f"{argkp}/key_points_dev.csv", newline="", encoding="utf-8") as f:
    kps = list(csv.DictReader(f))
pairs = []
for a in args[::8]:
    for k in kps:
        if (k["topic"], k["stance"]) == (a["topic"], a["stance"]):
            pairs.append((a["argument"], k["key_point"], "argument-key-point"))
for a, b in zip(args[::40], args[20::41]):
    pairs.append((a["argument"], b["argument"], "argument-argument"))
texts = sorted({t for p in pairs for t in p[:2]})


def vectors(weights):
    out = {}
    for s in range(0, len(texts), 32):
        chunk = texts[s:s + 32]
        v, _ = ref.encode(chunk, weights, cfg, tok, np.float64)
        out.update(zip(chunk, v))
    return out


tuned = vectors(w)
plain = vectors(base)
items = [{"a": a, "b": b, "kind": kind, "cosine": float(tuned[a] @ tuned[b]), "base_cosine": float(plain[a] @ plain[b])}
         for a, b, kind in pairs]
json.dump({"model": "all-MiniLM-L6-v2", "adapter": adapter_dir, "layers": len(layers),
           "made_by": "python3 scripts/make-adapter-fixture.py MODEL_DIR models/argkp-adapter ../shared/corpus/argkp "
                      "Tests/ConvergeEmbeddingsTests/Fixtures/argkp-adapter-reference.json",
           "reference": "adapter merged in numpy float64; tokenizers (Rust) + scripts/minilm-reference.py forward pass",
           "items": items}, open(output, "w"), ensure_ascii=False, indent=0)
print(f"{len(items)} pairs -> {output}")
