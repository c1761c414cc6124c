#!/usr/bin/env python3
"""Threshold-free measure of a matcher on the consolidation golds: pair average precision.

  .build/debug/converge-eval consolidation ../shared/corpus/consolidation/*/ --similarity hybrid --pairs PAIRS.json
  python3 scripts/consolidation-pair-ap.py PAIRS.json [MORE.json ...]

Over every cross-answer pair of statements that both count for a gold point (the scorer's alignment), a pair is
positive when they count for the same point; the pairs are ranked by the similarity the analysis used (`score`)
and by the embedding cosine alone (`ab[0]`), and the average precision of each ranking is taken per folder
(the mean of precision at each positive, Manning, Raghavan & Schuetze 2008, 8.4). Prints the mean over folders of
both, then the score's AP per folder. Development only.
"""
import json
import sys

import numpy as np


def average_precision(scores, labels):
    order = np.argsort(-scores, kind="stable")
    ranked = labels[order]
    precision = np.cumsum(ranked) / np.arange(1, len(ranked) + 1)
    return float((precision * ranked).sum() / max(ranked.sum(), 1))


for path in sys.argv[1:]:
    folders = json.load(open(path))
    rows = []
    for folder in folders:
        statements = folder["statements"]
        labels, scores, cosines = [], [], []
        for pair in folder["pairs"]:
            a, b = statements[pair["a"]].get("gold"), statements[pair["b"]].get("gold")
            if a is None or b is None:
                continue
            labels.append(1.0 if a == b else 0.0)
            scores.append(pair["score"])
            cosines.append(pair["ab"][0])
        labels = np.array(labels)
        rows.append((average_precision(np.array(scores), labels), average_precision(np.array(cosines), labels)))
    mean = np.mean(rows, axis=0)
    print(f"{path}: pair AP score {mean[0]:.3f} cosine {mean[1]:.3f}; per folder "
          + " ".join(f"{r[0]:.3f}" for r in rows))
