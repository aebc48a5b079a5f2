"""The worker process of one replica: load the model, then answer batches until told to stop.

Protocol over a duplex pipe (parent -> worker / worker -> parent)::

    worker -> ("ready", weights, load_s)  or  ("error", message)
    parent -> (batch_id, inputs)          worker -> ("done", batch_id, outputs, cpu_s, compute_s)
    parent -> None                        worker exits

``cpu_s`` is the process CPU time (all threads) spent on the batch, the basis of energy attribution.
The worker ignores SIGINT: a Ctrl-C in the terminal reaches the whole process group, and only the parent
decides how to stop (finish in-flight batches, flush logs).
"""

from __future__ import annotations

import signal
import time
import traceback
from multiprocessing.connection import Connection

from ipa_energy.models.spec import ModelSpec


def worker_main(conn: Connection, spec: ModelSpec, threads: int) -> None:
    from ipa_energy.config.process import die_with_parent

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()  # a replica never outlives the server that started it (even after SIGKILL)
    t0 = time.perf_counter()
    try:
        import torch

        torch.set_num_threads(max(1, threads))
        from ipa_energy.models.spec import load_runner

        runner = load_runner(spec)
    except Exception as e:  # reported to the parent, which raises BackendError
        conn.send(("error", f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=3)}"))
        return
    conn.send(("ready", runner.weights, time.perf_counter() - t0))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        batch_id, inputs = msg
        c0, w0 = time.process_time(), time.perf_counter()
        try:
            outputs = runner.run(inputs)
        except Exception as e:
            conn.send(("fail", batch_id, f"{type(e).__name__}: {e}"))
            continue
        conn.send(("done", batch_id, outputs, time.process_time() - c0, time.perf_counter() - w0))
