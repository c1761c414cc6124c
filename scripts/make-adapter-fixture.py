#!/usr/bin/env python3
"""Reference cosines of the adapted all-MiniLM-L6-v2, from the training framework itself, for AdapterTests.

The forward pass is scripts/train-matcher-adapter.py's JAX `Encoder` (float32, the LoRA delta applied as the
training applied it: `x·Wᵀ + (x·Aᵀ)·Bᵀ`, never merged), on the committed adapter. Pairs: every 8th ArgKP dev
argument against every key point of its topic and stance, plus consecutive pairs of those arguments. Also
written: the base model's cosines on the same pairs (no adapter), so the test can show how far the adapter
moves them.

  python3 -m pip install "jax[cpu]" optax tokenizers safetensors numpy
  python3 scripts/make-adapter-fixture.py MODEL_DIR models/argkp-adapter ../shared/corpus/argkp \\
      Tests/ConvergeEmbeddingsTests/Fixtures/argkp-adapter-reference.json
  python3 scripts/make-adapter-fixture.py MODEL_DIR ADAPTER_DIR ../shared/corpus/argkp OUT.json   # any adapter
"""
import json
import sys

from adapter_jax import training_module  # sets XLA_FLAGS before jax loads

import jax.numpy as jnp
import numpy as np
from safetensors.numpy import load_file

train = training_module()


def main():
    model_dir, adapter_dir, argkp, out = sys.argv[1:5]
    enc = train.Encoder(model_dir)
    t = load_file(f"{adapter_dir}/adapter.safetensors")
    lora = {k[: -len(".lora_a")]: (jnp.asarray(t[k]), jnp.asarray(t[k[: -len(".lora_a")] + ".lora_b"]))
            for k in t if k.endswith(".lora_a")}
    args, kps, labels, groups = train.read_split(argkp, "dev")
    texts, index = [], {}

    def slot(text):
        if text not in index:
            index[text] = len(texts)
            texts.append(text)
        return index[text]

    pairs = []
    for ga, gk in groups:
        chosen = ga[::8]
        for a in chosen:
            for k in gk:
                pairs.append((slot(args[a]["argument"]), slot(kps[k]["key_point"])))
        for a, b in zip(chosen, chosen[1:]):
            pairs.append((slot(args[a]["argument"]), slot(args[b]["argument"])))
    tuned = train.encode_all(enc, lora, texts)
    base = train.encode_all(enc, None, texts)
    rows = [{"a": i, "b": j, "cosine": round(float(tuned[i] @ tuned[j]), 7), "base": round(float(base[i] @ base[j]), 7)}
            for i, j in pairs]
    json.dump({"made_by": f"python3 scripts/make-adapter-fixture.py MODEL_DIR {adapter_dir} {argkp} {out} (JAX float32 "
               "forward pass of scripts/train-matcher-adapter.py, LoRA unmerged)",
               "texts": texts, "pairs": rows}, open(out, "w"), indent=0, ensure_ascii=False)
    moved = max(abs(r["cosine"] - r["base"]) for r in rows)
    print(f"wrote {out}: {len(texts)} texts, {len(rows)} pairs; largest move by the adapter {moved:.3f}")


if __name__ == "__main__":
    main()
