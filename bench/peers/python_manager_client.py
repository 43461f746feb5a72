"""Peer client: CPython's BaseManager proxies running the benchmark workloads.

Run by bench/run.ts as
    python bench/peers/python_manager_client.py [--json-client] host:port '<config json>'
and by itself as `python_manager_client.py [--json-client] --cold host:port` (one cold client,
prints `COLD <ms>`), with the same config object the TypeScript clients get (milliseconds, op
caps, item counts). With `--json-client` the same workloads run through the JSON client of
clients/python (syncmanager_client) instead, against our server.
Prints `RESULT {json}` on stdout, in the same shape as bench/child.ts.

Latencies come from time.perf_counter_ns() around each proxy call; p50/p99 use the same
nearest-rank rule as bench/harness.ts. Every loop is bounded by a deadline and an op count.
"""

import faulthandler
import json
import math
import os
import subprocess
import sys
import threading
import time
import traceback
from multiprocessing.managers import BaseManager

AUTHKEY = b"bench"
TYPEIDS = ("get_queue", "get_task_queue", "get_result_queue")


class BenchManager(BaseManager):
    pass


for _typeid in TYPEIDS:
    BenchManager.register(_typeid)


#: Set by --json-client: the workloads use clients/python's JSON client instead of BaseManager.
JSON_CLIENT = "--json-client" in sys.argv[1:2]
if JSON_CLIENT:
    del sys.argv[1]


def connect(address):
    if JSON_CLIENT:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))
        import syncmanager_client

        # Its creation methods are the manager's typeids (get_queue()...), as BaseManager's.
        return syncmanager_client.connect(address, AUTHKEY, reconnect=False)
    host, port = address.rsplit(":", 1)
    manager = BenchManager(address=(host, int(port)), authkey=AUTHKEY)
    manager.connect()
    return manager


def percentile(sorted_samples, q):
    if not sorted_samples:
        return 0
    rank = math.ceil(q * len(sorted_samples))
    return sorted_samples[min(len(sorted_samples) - 1, max(0, rank - 1))]


def summarize(samples, elapsed_ns, connections, in_flight, note=None):
    samples.sort()
    elapsed_ms = elapsed_ns / 1e6
    count = len(samples)
    result = {
        "kind": "latency",
        "ops": count,
        "elapsedMs": elapsed_ms,
        "opsPerSec": count / (elapsed_ms / 1000) if elapsed_ms else 0,
        "p50Us": percentile(samples, 0.5) / 1000,
        "p99Us": percentile(samples, 0.99) / 1000,
        "meanUs": (sum(samples) / count / 1000) if count else 0,
        "connections": connections,
        "inFlight": in_flight,
    }
    if note:
        result["note"] = note
    return result


def pair_loop(q, i, deadline_ns, max_ops, samples, value=None):
    """put(i) (or put(value), when given) then get() until the deadline or max_ops ops; appends
    latencies when samples is a list."""
    clock = time.perf_counter_ns
    done = 0
    while True:
        t0 = clock()
        q.put(i if value is None else value)
        t1 = clock()
        q.get()
        t2 = clock()
        if samples is not None:
            samples.append(t1 - t0)
            samples.append(t2 - t1)
        done += 2
        i += 1
        if done >= max_ops or t2 >= deadline_ns:
            return


def cold_client(address):
    """A cold client: connect, make the proxy, first call answered (its connection opens on the
    way). Returns the milliseconds taken and the proxy."""
    clock = time.perf_counter_ns
    start = clock()
    manager = connect(address)
    q = manager.get_queue()
    q.put(-1)
    q.get()
    return (clock() - start) / 1e6, q


def next_cold_client_ms(address):
    """The same in a new process: proxies of one process share their connections, so only another
    process is a cold client again. Its interpreter start is not timed."""
    done = subprocess.run([sys.executable, os.path.abspath(__file__), *(["--json-client"] if JSON_CLIENT else []), "--cold", address], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    for line in done.stdout.splitlines():
        if line.startswith("COLD "):
            return float(line.split()[1])
    raise RuntimeError("the second cold client failed: " + done.stderr.strip()[-300:])


def one_at_a_time(address, config):
    clock = time.perf_counter_ns
    cold_ms, q = cold_client(address)
    # Once the server has served a client: its own start-up work (a JIT's first compiles) is done.
    next_ms = next_cold_client_ms(address)
    pair_loop(q, 0, clock() + int(config["warmupMs"] * 1e6), config["maxOps"], None)
    samples = []
    start = clock()
    pair_loop(q, 0, start + int(config["durationMs"] * 1e6), config["maxOps"], samples)
    note = "cold client to first result: %.1f ms as the server's first client, %.1f ms as its second" % (cold_ms, next_ms)
    return summarize(samples, clock() - start, 1, 1, note=note)


def in_flight(address, config):
    """Python proxies allow one outstanding call per connection, so N in flight needs N threads,
    each with its own connection (a proxy opens one per thread)."""
    threads_count = config["concurrency"]
    manager = connect(address)
    q = manager.get_queue()
    clock = time.perf_counter_ns
    per_thread_cap = max(2, config["maxOps"] // threads_count)
    state = {}
    samples_by_thread = [[] for _ in range(threads_count)]
    errors = []

    def mark_start():
        state["start"] = clock()
        state["deadline"] = state["start"] + int(config["durationMs"] * 1e6)

    barrier = threading.Barrier(threads_count, action=mark_start, timeout=60)

    go = threading.Event()
    # The server authenticates new connections one at a time in its accepter thread, behind a
    # listen backlog of 16: 100 simultaneous connects overflow it, and dropped SYNs are retried
    # only after 1, 3, 7 s... So at most 8 threads open their connection at once. (A thread's
    # first call also stalls about 40 ms on this machine, hence not one at a time either.)
    connect_slots = threading.BoundedSemaphore(8)
    connected = [threading.Event() for _ in range(threads_count)]

    def run(index):
        try:
            with connect_slots:
                q.put(index)  # the first call opens this thread's connection
                q.get()
            connected[index].set()
            if not go.wait(60):
                raise RuntimeError("not started")
            pair_loop(q, index * 1_000_000, state["warm_deadline"], per_thread_cap, None)
            barrier.wait()
            pair_loop(q, index * 1_000_000, state["deadline"], per_thread_cap, samples_by_thread[index])
        except Exception as error:  # noqa: BLE001 - reported in the result
            errors.append(repr(error))
            connected[index].set()
            barrier.abort()

    threads = [threading.Thread(target=run, args=(k,), daemon=True) for k in range(threads_count)]
    for thread in threads:
        thread.start()
    connect_limit = time.monotonic() + 60
    for k, event in enumerate(connected):
        if not event.wait(max(0.0, connect_limit - time.monotonic())) or errors:
            barrier.abort()
            raise RuntimeError(errors[0] if errors else f"thread {k} could not connect within 60 s")
    state["warm_deadline"] = clock() + int(config["warmupMs"] * 1e6)
    go.set()
    limit = time.monotonic() + (config["warmupMs"] + config["durationMs"]) / 1000 + 60
    for thread in threads:
        thread.join(max(0.0, limit - time.monotonic()))
    end = clock()
    if errors:
        raise RuntimeError(errors[0])
    if any(thread.is_alive() for thread in threads):
        raise RuntimeError("in-flight threads did not finish in time")
    samples = [s for per in samples_by_thread for s in per]
    if JSON_CLIENT:
        note = f"{threads_count} threads on one connection: the JSON client has their calls out at once"
        return summarize(samples, end - state["start"], 1, threads_count, note)
    note = f"{threads_count} threads, each with its own connection: a Python proxy has one call outstanding per connection"
    return summarize(samples, end - state["start"], threads_count, threads_count, note)


def seed_round(address, manager, items, timeout_s):
    tasks = manager.get_task_queue()
    results = manager.get_result_queue()
    ready = threading.Event()
    failure = []

    def worker():
        try:
            worker_manager = connect(address)
            worker_tasks = worker_manager.get_task_queue()
            worker_results = worker_manager.get_result_queue()
            ready.set()
            for _ in range(items):
                x = worker_tasks.get()
                worker_results.put(x * x)
        except Exception as error:  # noqa: BLE001
            failure.append(repr(error))
            ready.set()

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    if not ready.wait(timeout_s) or failure:
        raise RuntimeError(failure[0] if failure else "seed worker did not connect")
    clock = time.perf_counter_ns
    t0 = clock()
    for i in range(items):
        tasks.put(i)
    total = 0
    for _ in range(items):
        total += results.get()
    t1 = clock()
    thread.join(timeout_s)
    wall_ms = (t1 - t0) / 1e6
    expected = (items - 1) * items * (2 * items - 1) // 6
    return {
        "kind": "seed",
        "items": items,
        "wallMs": wall_ms,
        "itemsPerSec": items / (wall_ms / 1000),
        "verified": total == expected,
    }


def seed(address, config):
    manager = connect(address)
    timeout_s = config["seedTimeoutMs"] / 1000
    if config["seedWarmupItems"] > 0:
        seed_round(address, manager, config["seedWarmupItems"], timeout_s)
    result = seed_round(address, manager, config["seedItems"], timeout_s)
    result["note"] = "worker thread with its own connection in the same client process (shares the GIL)"
    return result


WORKLOADS = {"one-at-a-time": one_at_a_time, "in-flight": in_flight, "seed": seed}


def exit_with_parent():
    """run.ts keeps our stdin open: when it goes away (even killed), so do we."""
    try:
        sys.stdin.buffer.read()
    finally:
        os._exit(1)


def main():
    if sys.argv[1:2] == ["--cold"]:
        print("COLD %.3f" % cold_client(sys.argv[2])[0], flush=True)
        return
    if not sys.stdin.isatty():
        threading.Thread(target=exit_with_parent, daemon=True).start()
    address, config_json = sys.argv[1], sys.argv[2]
    config = json.loads(config_json)
    # If a workload hangs, show where before the parent's timeout kills us.
    budget_s = sum((config["warmupMs"] + config["durationMs"]) / 1000 + 20 if w != "seed" else 2 * config["seedTimeoutMs"] / 1000 for w in config["workloads"])
    faulthandler.dump_traceback_later(budget_s, exit=True)
    results = {}
    for workload in config["workloads"]:
        t0 = time.monotonic()
        try:
            results[workload] = WORKLOADS[workload](address, config)
        except Exception as error:  # noqa: BLE001 - one failing workload must not hide the others
            traceback.print_exc(file=sys.stderr)
            results[workload] = {"kind": "error", "reason": f"{type(error).__name__}: {error}"}
        print(f"  python: {workload} {round((time.monotonic() - t0) * 1000)} ms", file=sys.stderr, flush=True)
    print("RESULT " + json.dumps({"results": results}), flush=True)


if __name__ == "__main__":
    main()
