#!/usr/bin/env python3
"""A clustering threshold for a sentence encoder read off answers no gold folder holds and no training saw: the
held-out prompts of `make-structure-pairs.py --heldout-prompts` (heldout.json).

  python3 scripts/structure-threshold.py MODEL_DIR HELDOUT.json [--adapter ADAPTER.safetensors]

The answers say themselves which of their bodies make one point and which make different ones, without annotation:
  same point       two answers to one prompt (different models) with an item under the same lead-in (lower case,
                   words only: "Use a Sharp Knife" = "use a sharp knife"); the pair is their bodies;
  different points two items of one answer (distinct lead-ins by construction); the pair is their bodies.
Bodies only, so that an identical lead-in does not make the pair similar by itself. Prints, for the cosine of the
mean-pooled, normalised vectors (encode-vectors.py's forward pass, the native encoder's arithmetic): the
equal-error threshold (the cosine above which as many same-point pairs fall below as different-point pairs rise
above; prior-free), the two error rates there, and the pair counts. Development only.
"""
import importlib.util
import itertools
import json
import os
import re
import sys

import numpy as np

spec = importlib.util.spec_from_file_location("encode_vectors", os.path.join(os.path.dirname(__file__), "encode-vectors.py"))
encode_vectors = importlib.util.module_from_spec(spec)
spec.loader.exec_module(encode_vectors)


def key(lead):
    return " ".join(re.findall(r"[a-z0-9]+", lead.lower()))


def pairs(heldout):
    same, different = [], []
    for prompt in heldout:
        answers = prompt["answers"]
        for answer in answers:
            for (_, a), (_, b) in itertools.combinations(answer["items"], 2):
                different.append((a, b))
        for x, y in itertools.combinations(answers, 2):
            leads = {key(lead): body for lead, body in y["items"]}
            for lead, body in x["items"]:
                if key(lead) in leads:
                    same.append((body, leads[key(lead)]))
    return same, different


def equal_error(same, different):
    """The threshold t where the share of same-point cosines below t equals the share of different-point ones at
    or above t (scanned over every observed cosine)."""
    same, different = np.sort(same), np.sort(different)
    best = None
    for t in np.unique(np.concatenate([same, different])):
        miss = np.searchsorted(same, t, side="left") / len(same)
        false = 1 - np.searchsorted(different, t, side="left") / len(different)
        gap = abs(miss - false)
        if best is None or gap < best[0]:
            best = (gap, float(t), miss, false)
    return best[1:]


def main():
    model_dir, path, adapter = encode_vectors.arguments(sys.argv[1:], __doc__)
    same, different = pairs(json.load(open(path)))
    texts = sorted({t for p in same + different for t in p})
    cfg = json.load(open(os.path.join(model_dir, "sentence_bert_config.json")))
    enc = encode_vectors.Encoder(model_dir, cfg.get("max_seq_length", 256), adapter)
    vectors = dict(zip(texts, enc.encode([[t] for t in texts])))
    cos = lambda ps: np.array([float(vectors[a] @ vectors[b]) for a, b in ps])
    s, d = cos(same), cos(different)
    t, miss, false = equal_error(s, d)
    name = os.path.basename(os.path.normpath(model_dir)) + ("+" + os.path.basename(adapter) if adapter else "")
    print(f"{name}: {len(same)} same-point pairs (mean cosine {s.mean():.3f}), {len(different)} different-point pairs "
          f"({d.mean():.3f}); equal-error threshold {t:.3f} (same below {miss:.3f}, different above {false:.3f})")


if __name__ == "__main__":
    main()
