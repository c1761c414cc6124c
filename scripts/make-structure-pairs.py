#!/usr/bin/env python3
"""Training data for the matcher from the answers' own structure, no annotation: a list item's bold lead-in names
the point its body explains, and the other items of the same answer are other points by that answer's account.

  python3 scripts/make-structure-pairs.py ../shared/corpus/alpaca-eval OUT_DIR --answers 600 --seed 1 \
      --exclude-prompts 5,15,41,48,127,215 --dev ../shared/corpus/argkp

Reads the AlpacaEval answers (one JSON list per model, `instruction` and `output`), keeps every list item of the form
`1. **Lead-in**: body` or `- **Lead-in:** body` whose body has at least five words, and every answer with at least
three such items and distinct lead-ins (its first --max-items). Writes them in ArgKP's layout, so that `train-matcher-adapter.py` trains
on them unchanged: each answer is a topic (stance 1), each body an argument, each lead-in a key point; a body
matches its own lead-in and none of the answer's others (labels_train.csv). The answers are sampled with --seed;
--exclude-prompts leaves out prompts (0-based indices: the consolidation golds' ae-NNN); --dev copies that ArgKP
folder's dev split, so that the training script's dev figures say what the adapter does to ArgKP.
--heldout-prompts K sets aside K prompts with two or more such answers (all their answers, chosen with --seed before
the sample) and writes them to heldout.json for `structure-threshold.py`: [{"prompt": I, "answers": [{"model": M,
"items": [[lead-in, body], ...]}]}].
"""
import argparse
import csv
import json
import os
import random
import re
import shutil

ITEM = re.compile(r"^\s*(?:\d+[.)]|[-*+])\s+\*\*(?P<lead>[^*]{2,80}?)\s*[:.]?\*\*\s*[:.\-\u2013\u2014]?\s*(?P<body>.+)$")


def items(output):
    found = []
    for line in output.splitlines():
        m = ITEM.match(line)
        if not m:
            continue
        lead = m.group("lead").strip().rstrip(":.").strip()
        body = m.group("body").strip()
        if len(body.split()) >= 5 and lead:
            found.append((lead, body))
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("out_dir")
    ap.add_argument("--answers", type=int, default=600)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--exclude-prompts", default="")
    ap.add_argument("--max-items", type=int, default=12, help="an answer's first N items (the candidates of a step)")
    ap.add_argument("--dev")
    ap.add_argument("--heldout-prompts", type=int, default=0)
    opt = ap.parse_args()
    excluded = {int(x) for x in opt.exclude_prompts.split(",") if x}
    answers = []
    for name in sorted(os.listdir(opt.corpus)):
        if not name.endswith(".json"):
            continue
        for index, row in enumerate(json.load(open(os.path.join(opt.corpus, name)))):
            if index in excluded:
                continue
            found = items(row["output"])[: opt.max_items]
            leads = [lead.lower() for lead, _ in found]
            if len(found) >= 3 and len(set(leads)) == len(leads):
                answers.append((index, name[:-5], found))
    rng = random.Random(opt.seed)
    heldout = []
    if opt.heldout_prompts:
        counts = {}
        for index, _, _ in answers:
            counts[index] = counts.get(index, 0) + 1
        shared = sorted(i for i, n in counts.items() if n >= 2)
        reserved = set(rng.sample(shared, min(opt.heldout_prompts, len(shared))))
        heldout = [{"prompt": i, "answers": [{"model": m, "items": f} for j, m, f in answers if j == i]}
                   for i in sorted(reserved)]
        answers = [a for a in answers if a[0] not in reserved]
    rng.shuffle(answers)
    chosen = sorted(answers[: opt.answers])
    os.makedirs(opt.out_dir, exist_ok=True)
    with open(os.path.join(opt.out_dir, "arguments_train.csv"), "w", newline="") as fa, \
         open(os.path.join(opt.out_dir, "key_points_train.csv"), "w", newline="") as fk, \
         open(os.path.join(opt.out_dir, "labels_train.csv"), "w", newline="") as fl:
        wa, wk, wl = csv.writer(fa), csv.writer(fk), csv.writer(fl)
        wa.writerow(["arg_id", "argument", "topic", "stance"])
        wk.writerow(["key_point_id", "key_point", "topic", "stance"])
        wl.writerow(["arg_id", "key_point_id", "label"])
        bodies = 0
        for index, model, found in chosen:
            topic = f"prompt {index} ({model})"
            for i, (lead, body) in enumerate(found):
                wk.writerow([f"k{index}_{model}_{i}", lead, topic, 1])
            for i, (lead, body) in enumerate(found):
                wa.writerow([f"a{index}_{model}_{i}", body, topic, 1])
                for j in range(len(found)):
                    wl.writerow([f"a{index}_{model}_{i}", f"k{index}_{model}_{j}", 1 if i == j else 0])
                bodies += 1
    if opt.dev:
        for split in ("arguments_dev.csv", "key_points_dev.csv", "labels_dev.csv"):
            shutil.copy(os.path.join(opt.dev, split), os.path.join(opt.out_dir, split))
    if heldout:
        with open(os.path.join(opt.out_dir, "heldout.json"), "w") as f:
            json.dump(heldout, f, indent=1)
        print(f"held out {len(heldout)} prompts, {sum(len(h['answers']) for h in heldout)} answers: heldout.json")
    print(f"{len(answers)} answers with 3+ lead-in items; wrote {len(chosen)} answers, {bodies} bodies to {opt.out_dir}")


if __name__ == "__main__":
    main()
