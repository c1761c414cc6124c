#!/usr/bin/env python3
"""Simulates int8 weight-product arithmetics on the committed fixture before (or instead of) building them.

  python3 scripts/simulate-int8.py MODEL_DIR [--weights row|N] [--activations N] [--outliers K] [--reorder]

Encodes the 202 texts of Tests/ConvergeEmbeddingsTests/Fixtures/minilm-reference.json with the numpy forward pass
of scripts/encode-vectors.py, every dense product rounded as asked, and prints the least and mean cosine to the
fixture's Float32 reference (the bound `int8EmbeddingsStayNearTheReference` checks is least >= 0.999):
  --weights row   one int8 scale (max |w| / 127) per weight row (default); N: per row and group of N inputs
  --activations N uint8 with a scale and zero point per token and group of N inputs (default 64)
  --outliers K    each product's K inputs of largest range, calibrated on 150 ArgKP train arguments
                  (../shared/corpus/argkp), multiplied in float64 instead (LLM.int8()'s decomposition, Dettmers et
                  al. 2022); they are set to the row's median before rounding and their int8 weights are zero
  --reorder       inputs ordered by calibrated range before grouping (the same permutation on both sides)
BENCHMARKS.md ("Issue 16: the int8 kernel on AVX512-VNNI") has the figures. Development only; 20-60 s on 2 cores.
"""
import base64
import csv
import importlib.util
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("encode_vectors", os.path.join(HERE, "encode-vectors.py"))
ev = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ev)


def option(name, default):
    if name in sys.argv:
        return sys.argv[sys.argv.index(name) + 1]
    return default


def main():
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        raise SystemExit(__doc__)
    model_dir = sys.argv[1]
    weights = option("--weights", "row")
    agroup = int(option("--activations", "64"))
    outliers = int(option("--outliers", "0"))
    reorder = "--reorder" in sys.argv
    fixture = json.load(open(os.path.join(HERE, "..", "Tests", "ConvergeEmbeddingsTests", "Fixtures", "minilm-reference.json")))
    texts = [item["text"] for item in fixture["items"]]
    reference = np.array([np.frombuffer(base64.b64decode(item["embedding"]), dtype="<f4") for item in fixture["items"]],
                         dtype=np.float64)

    ranges = {}
    if outliers or reorder:
        calibration = []
        with open(os.path.join(HERE, "..", "..", "shared", "corpus", "argkp", "arguments_train.csv")) as f:
            calibration = [row["argument"] for row in csv.DictReader(f)][::40][:150]

        class Calibrate(ev.Encoder):
            def int8_product(self, t, key):
                x = t.reshape(-1, t.shape[-1]).astype(np.float64)
                ranges[key] = np.maximum(ranges.get(key, 0), np.abs(x).max(axis=0))
                return (t.astype(np.float64) @ self.w[key].astype(np.float64).T).astype(np.float32)

        Calibrate(model_dir, 256, int8="asym").encode([[t] for t in calibration])

    class Simulated(ev.Encoder):
        def int8_product(self, t, key):
            order = np.argsort(-ranges[key], kind="stable") if reorder else None
            out = np.argsort(-ranges[key])[:outliers] if outliers else np.array([], dtype=int)
            if key not in self.quantized:
                w = self.w[key].astype(np.float64).copy()
                kept = w[:, out].copy()
                w[:, out] = 0
                if order is not None:
                    w = w[:, order]
                n, k = w.shape
                size = k if weights == "row" else int(weights)
                grouped = w.reshape(n, k // size, size)
                scale = np.maximum(np.abs(grouped).max(axis=2, keepdims=True), 1e-12) / 127.0
                self.quantized[key] = ((np.clip(np.rint(grouped / scale), -127, 127) * scale).reshape(n, k), kept)
            rounded, kept = self.quantized[key]
            x = t.astype(np.float64).copy()
            result = x[..., out] @ kept.T
            if outliers:
                x[..., out] = np.median(x, axis=-1, keepdims=True)
            if order is not None:
                x = x[..., order]
            for a in range(0, x.shape[-1], agroup):
                part = x[..., a:a + agroup]
                low, high = part.min(axis=-1, keepdims=True), part.max(axis=-1, keepdims=True)
                s = np.maximum(high - low, 1e-12) / 255.0
                z = np.rint(-low / s)
                result = result + ((np.clip(np.rint(part / s) + z, 0, 255) - z) * s) @ rounded[:, a:a + agroup].T
            return result.astype(np.float32)

    vectors = np.array(Simulated(model_dir, 256, int8="asym").encode([[t] for t in texts]), dtype=np.float64)
    cosine = (vectors * reference).sum(1) / np.linalg.norm(vectors, axis=1) / np.linalg.norm(reference, axis=1)
    print(f"weights {weights}, activations per {agroup}, outliers {outliers}{', reordered' if reorder else ''}: "
          f"least {cosine.min():.5f} mean {cosine.mean():.6f} (worst {texts[int(cosine.argmin())][:40]!r})")


if __name__ == "__main__":
    main()
