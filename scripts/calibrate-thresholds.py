#!/usr/bin/env python3
"""Thresholds for a new key point matcher that keep the analysis calibrated as with the old one.

HybridSimilarity's clusterThreshold and rubricThreshold were set for KeyPointMatcher.miniLM's probabilities.
For a new matcher, each threshold is moved to the same quantile: over every (argument, key point) pair of the
given ArgKP topics (the train topics held out of the adapter's training), the new threshold is the score of
the new matcher that as many pairs reach as reach the old threshold under the old matcher (equal volume);
and, second rule, the lowest threshold on a grid of 0.05 from 0.5 at which the labelled pairs that reach it
are at least as precise as the old matcher's at its threshold (equal precision: a better matcher then
credits more at the same precision). Prints both, with the precision of the labelled pairs above them.

  converge-eval kpa-predict ../shared/corpus/argkp train --output old.json --similarity hybrid-v1
  converge-eval kpa-predict ../shared/corpus/argkp train --output new.json --similarity hybrid
  python3 scripts/calibrate-thresholds.py ../shared/corpus/argkp train old.json new.json 4 0.98 0.9
"""
import csv
import json
import sys

argkp, split, old_file, new_file, topics_n = sys.argv[1:6]
thresholds = [float(t) for t in sys.argv[6:]]
args = list(csv.DictReader(open(f"{argkp}/arguments_{split}.csv", newline="", encoding="utf-8")))
topics = list(dict.fromkeys(a["topic"] for a in args))
keep = set(topics[len(topics) - int(topics_n):])
ids = {a["arg_id"] for a in args if a["topic"] in keep}
labels = {(r["arg_id"], r["key_point_id"]): r["label"] == "1"
          for r in csv.DictReader(open(f"{argkp}/labels_{split}.csv", newline="", encoding="utf-8"))}
old, new = json.load(open(old_file)), json.load(open(new_file))
pairs = [(a, k) for a in sorted(ids) for k in sorted(old[a])]
old_scores = [old[a][k] for a, k in pairs]
new_scores = sorted((new[a][k] for a, k in pairs), reverse=True)


def precision(scores, t):
    hits = [labels[p] for p, s in zip(pairs, scores) if s >= t and p in labels]
    return (sum(hits) / len(hits) if hits else float("nan")), len(hits)


print(f"{len(pairs)} pairs of {len(keep)} topics: " + "; ".join(sorted(keep)))
for t in thresholds:
    count = sum(s >= t for s in old_scores)
    t_new = new_scores[count - 1] if count > 0 else new_scores[0] + 1e-6
    p_old, n_old = precision(old_scores, t)
    p_new, n_new = precision([new[a][k] for a, k in pairs], t_new)
    print(f"old threshold {t}: {count} pairs reach it (labelled precision {p_old:.3f} over {n_old}); "
          f"equal volume: new threshold {t_new:.4f} (labelled precision {p_new:.3f} over {n_new})")
    for g in [0.5 + 0.05 * i for i in range(10)]:
        p_g, n_g = precision([new[a][k] for a, k in pairs], g)
        if n_g and p_g >= p_old:
            print(f"  equal precision: new threshold {g:.2f} (labelled precision {p_g:.3f} over {n_g})")
            break
