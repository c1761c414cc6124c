"""The shared start of the adapter scripts (average-adapters.py, make-adapter-fixture.py): JAX on the machine's two
CPU threads (set before jax is first imported), and train-matcher-adapter.py, whose name is no module name,
loaded as the module `train` for its `Encoder` and data readers."""
import importlib.util
import os

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads=2")

HERE = os.path.dirname(os.path.abspath(__file__))


def training_module():
    spec = importlib.util.spec_from_file_location("train", os.path.join(HERE, "train-matcher-adapter.py"))
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    return train
