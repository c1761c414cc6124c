#!/usr/bin/env python3
"""Averages LoRA adapters trained with different seeds into one (a weight-space ensemble): the mean of the
deltas B_i·A_i is exactly B'·A' with A' the factors A_i stacked along the rank ([n·r, in]) and B' the B_i / n
side by side ([out, n·r]), so the native merge (`ModelAdapter`) needs nothing new. Also scores the averaged
adapter on ArgKP dev with the training script's JAX forward pass (dev is only scored).

  python3 scripts/average-adapters.py MODEL_DIR ../shared/corpus/argkp OUT_DIR ADAPTER_DIR...
"""
import json
import os
import sys

from adapter_jax import training_module  # sets XLA_FLAGS before jax loads

import jax.numpy as jnp
import numpy as np
from safetensors.numpy import load_file, save_file

train = training_module()


def main():
    model_dir, argkp, out_dir, *inputs = sys.argv[1:]
    parts = [load_file(f"{d}/adapter.safetensors") for d in inputs]
    n = len(parts)
    layers = sorted(k[: -len(".lora_a")] for k in parts[0] if k.endswith(".lora_a"))
    tensors = {}
    for layer in layers:
        tensors[layer + ".lora_a"] = np.concatenate([p[layer + ".lora_a"] for p in parts], axis=0).astype(np.float32)
        tensors[layer + ".lora_b"] = (np.concatenate([p[layer + ".lora_b"] for p in parts], axis=1) / n).astype(np.float32)
    os.makedirs(out_dir, exist_ok=True)
    save_file(tensors, f"{out_dir}/adapter.safetensors",
              metadata={"base": "all-MiniLM-L6-v2", "averaged": " ".join(inputs)})
    enc = train.Encoder(model_dir)
    lora = {l: (jnp.asarray(tensors[l + ".lora_a"]), jnp.asarray(tensors[l + ".lora_b"])) for l in layers}
    dev = train.read_split(argkp, "dev")
    scores = train.kpa_metrics(train.cosines(enc, lora, *dev[:2], dev[3]), *dev)
    logs = [json.load(open(f"{d}/train-log.json")) for d in inputs]
    log = dict(logs[0])
    log.update({"averaged_from": inputs, "dev": scores, "dev_of_inputs": [l["dev"] for l in logs],
                "train_seconds": sum(l["train_seconds"] for l in logs),
                "seeds": ", ".join(str(l["settings"]["seed"]) for l in logs),
                "command": logs[0]["command"][:3] + ["--seed", ",".join(str(l["settings"]["seed"]) for l in logs)]
                + logs[0]["command"][5:]})
    json.dump(log, open(f"{out_dir}/train-log.json", "w"), indent=1)
    print("dev, averaged adapter cosine:", json.dumps({k: round(v, 4) for k, v in scores.items()}))


if __name__ == "__main__":
    main()
