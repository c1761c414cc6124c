#!/usr/bin/env python3
"""all-MiniLM-L6-v2 on onnxruntime, for `converge-eval bench encode` (development only, never at run time).

The BERT graph is built here with `onnx.helper` (opset 17) from the weights in model.safetensors (no PyTorch,
no Hugging Face hub): embeddings + LayerNorm, then per layer self-attention with an additive padding mask,
output projection, residual + LayerNorm, erf-GELU feed-forward, residual + LayerNorm; mean pooling over the
real tokens and L2 normalisation in numpy. Tokenization by Hugging Face `tokenizers` (tokenizer.json,
truncated to 256). onnxruntime runs it on the CPU execution provider with all graph optimisations.

  python3 -m pip install onnxruntime onnx tokenizers safetensors numpy
  python3 scripts/minilm-onnx.py --check MODEL_DIR FIXTURE_JSON
      least cosine against the committed reference vectors (Tests/ConvergeEmbeddingsTests/Fixtures)
  python3 scripts/minilm-onnx.py --bench N MODEL_DIR ARGKP_DIR BATCH THREADS
      times the first N ArgKP dev arguments, sorted by token count and batched BATCH at a time (each batch
      padded to its longest), THREADS intra-op threads; prints sentences per CPU-second of the process, then
      `onnxruntime sentences/s=X`
"""
import base64
import csv
import json
import sys
import time

try:
    import numpy as np
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer
except ImportError as error:
    print(f"onnxruntime skipped: {error} (python3 -m pip install onnxruntime onnx tokenizers safetensors numpy)")
    sys.exit(3)

MAX_LEN = 256


def build(model_dir):
    """The ONNX model (bytes) of the BERT encoder in model_dir: input_ids int64 [B, L] and mask float [B, L]
    in, last hidden states float [B, L, H] out."""
    w = load_file(f"{model_dir}/model.safetensors")
    cfg = json.load(open(f"{model_dir}/config.json"))
    prefix = "" if "embeddings.word_embeddings.weight" in w else "bert."
    h, heads, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg.get("layer_norm_eps", 1e-12)
    nodes, inits = [], []

    def const(name, array):
        inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def weight(name, transpose=False):
        array = w[prefix + name].astype(np.float32)
        return const(name, array.T.copy() if transpose else array)

    count = [0]

    def node(op, inputs, **attrs):
        count[0] += 1
        out = f"t{count[0]}"
        nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    def layer_norm(x, name):
        return node("LayerNormalization", [x, weight(name + ".weight"), weight(name + ".bias")], axis=-1, epsilon=eps)

    def linear(x, name):
        return node("Add", [node("MatMul", [x, weight(name + ".weight", transpose=True)]), weight(name + ".bias")])

    length = node("Gather", [node("Shape", ["input_ids"]), const("one", np.array(1, dtype=np.int64))], axis=0)
    positions = node("Range", [const("zero", np.array(0, dtype=np.int64)), length, const("step", np.array(1, dtype=np.int64))])
    x = node("Add", [node("Gather", [weight("embeddings.word_embeddings.weight"), "input_ids"]),
                     node("Gather", [weight("embeddings.position_embeddings.weight"), positions])])
    x = node("Add", [x, const("type0", w[prefix + "embeddings.token_type_embeddings.weight"][0].astype(np.float32))])
    x = layer_norm(x, "embeddings.LayerNorm")
    # Additive mask [B, 1, 1, L]: 0 on real tokens, -1e9 on padding.
    bias = node("Mul", [node("Sub", [const("onef", np.array(1, dtype=np.float32)), "mask"]),
                        const("neg", np.array(-1e9, dtype=np.float32))])
    bias = node("Unsqueeze", [bias, const("axes12", np.array([1, 2], dtype=np.int64))])
    split = const("split", np.array([0, 0, heads, h // heads], dtype=np.int64))
    merge = const("merge", np.array([0, 0, h], dtype=np.int64))
    scale = const("scale", np.array(1 / np.sqrt(h // heads), dtype=np.float32))
    for l in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{l}."
        q = node("Transpose", [node("Reshape", [linear(x, p + "attention.self.query"), split])], perm=[0, 2, 1, 3])
        k = node("Transpose", [node("Reshape", [linear(x, p + "attention.self.key"), split])], perm=[0, 2, 3, 1])
        v = node("Transpose", [node("Reshape", [linear(x, p + "attention.self.value"), split])], perm=[0, 2, 1, 3])
        scores = node("Add", [node("Mul", [node("MatMul", [q, k]), scale]), bias])
        context = node("MatMul", [node("Softmax", [scores], axis=-1), v])
        context = node("Reshape", [node("Transpose", [context], perm=[0, 2, 1, 3]), merge])
        x = layer_norm(node("Add", [linear(context, p + "attention.output.dense"), x]), p + "attention.output.LayerNorm")
        inner = linear(x, p + "intermediate.dense")
        gelu = node("Mul", [node("Mul", [inner, const(f"half{l}", np.array(0.5, dtype=np.float32))]),
                            node("Add", [const(f"one{l}", np.array(1, dtype=np.float32)),
                                         node("Erf", [node("Mul", [inner, const(f"rs2{l}", np.array(1 / np.sqrt(2), dtype=np.float32))])])])])
        x = layer_norm(node("Add", [linear(gelu, p + "output.dense"), x]), p + "output.LayerNorm")
    nodes.append(helper.make_node("Identity", [x], ["hidden"]))
    graph = helper.make_graph(
        nodes, "minilm",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["B", "L"]),
         helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["B", "L"])],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["B", "L", h])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return model.SerializeToString()


def session(model_dir, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(build(model_dir), options, providers=["CPUExecutionProvider"])


def tokenizer(model_dir):
    tok = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    tok.no_padding()
    tok.enable_truncation(MAX_LEN)
    return tok


def encode(sess, tok, texts):
    """Unit vectors of texts (one batch, padded to its longest)."""
    ids = [tok.encode(t).ids for t in texts]
    length = max(len(i) for i in ids)
    input_ids = np.zeros((len(ids), length), dtype=np.int64)
    mask = np.zeros((len(ids), length), dtype=np.float32)
    for b, i in enumerate(ids):
        input_ids[b, :len(i)] = i
        mask[b, :len(i)] = 1
    hidden = sess.run(["hidden"], {"input_ids": input_ids, "mask": mask})[0]
    pooled = (hidden * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
    return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--check":
        model_dir, fixture = sys.argv[2], sys.argv[3]
        sess, tok = session(model_dir, 1), tokenizer(model_dir)
        items = json.load(open(fixture))["items"]
        least = 1.0
        for s in range(0, len(items), 32):
            chunk = items[s:s + 32]
            vectors = encode(sess, tok, [i["text"] for i in chunk])
            for item, v in zip(chunk, vectors):
                ref = np.frombuffer(base64.b64decode(item["embedding"]), dtype="<f4")
                least = min(least, float(v @ ref))
        print(f"onnxruntime least cosine to the reference over {len(items)} sentences: {least:.7f}")
        return
    if len(sys.argv) == 7 and sys.argv[1] == "--bench":
        n, model_dir, argkp, batch, threads = int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
        sess, tok = session(model_dir, threads), tokenizer(model_dir)
        with open(f"{argkp}/arguments_dev.csv") as f:
            texts = [r["argument"] for r in csv.DictReader(f)][:n]
        encode(sess, tok, texts[:batch])  # warm-up
        start, cpu = time.perf_counter(), time.process_time()
        order = sorted(range(len(texts)), key=lambda i: len(tok.encode(texts[i]).ids))
        for s in range(0, len(order), batch):
            encode(sess, tok, [texts[i] for i in order[s:s + batch]])
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        print(f"per CPU-second (process, all threads): {len(texts) / cpu:.1f} sentences")
        print(f"onnxruntime sentences/s={len(texts) / elapsed:.1f}")
        return
    print(__doc__)
    sys.exit(2)


if __name__ == "__main__":
    main()
