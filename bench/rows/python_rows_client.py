"""CPython's BaseManager proxies for the rows of bench/rows (run by bench/rows/run.ts):

    python python_rows_client.py clients host:port '<config json>'
        one at a time (put/get), warm-up starting at config startAtMs (epoch ms), so several
        processes measure the same window; config payload sends bytes instead of the counter.
        Prints `RESULT {json}` like bench/child.ts.
    python python_rows_client.py json-clients host:port '<config json>'
        the same with the JSON client of clients/python, against our server.
    python python_rows_client.py fill host:port N THREADS
        connects, prints `WARM`, waits for a line on stdin, puts 0..N-1 into get_queue from
        THREADS threads (a proxy has one call outstanding per connection), prints `FILLED`, and
        stays connected until stdin closes.
"""

import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers"))
from python_manager_client import connect, pair_loop, summarize  # noqa: E402


def json_client_queue(address):
    """The same queue through the JSON client of clients/python (against our server only)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))
    import syncmanager_client

    return syncmanager_client.connect(address, b"bench", reconnect=False).create("get_queue")


def clients(address, config, json_client=False):
    q = json_client_queue(address) if json_client else connect(address).get_queue()
    payload = config.get("payload")
    value = b"a" * payload["bytes"] if payload else None
    wait = config.get("startAtMs", 0) / 1000 - time.time()
    if wait > 0:
        time.sleep(wait)
    clock = time.perf_counter_ns

    def run(deadline, samples):
        pair_loop(q, 0, deadline, config["maxOps"], samples, value)

    run(clock() + int(config["warmupMs"] * 1e6), None)
    samples = []
    start = clock()
    run(start + int(config["durationMs"] * 1e6), samples)
    return summarize(samples, clock() - start, 1, 1)


def fill(address, count, threads_count):
    manager = connect(address)
    q = manager.get_queue()
    q.put(-1)
    q.get()
    print("WARM", flush=True)
    sys.stdin.readline()
    errors = []

    def run(index):
        try:
            for i in range(index, count, threads_count):
                q.put(i)
        except Exception as error:  # noqa: BLE001 - reported
            errors.append(repr(error))

    threads = [threading.Thread(target=run, args=(k,), daemon=True) for k in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    if errors:
        raise RuntimeError(errors[0])
    print("FILLED %d" % q.qsize(), flush=True)
    sys.stdin.read()


def main():
    mode, address = sys.argv[1], sys.argv[2]
    if mode in ("clients", "json-clients"):
        result = clients(address, json.loads(sys.argv[3]), json_client=mode == "json-clients")
        print("RESULT " + json.dumps({"results": {"one-at-a-time": result}}), flush=True)
    elif mode == "fill":
        fill(address, int(sys.argv[3]), int(sys.argv[4]))
    else:
        raise SystemExit("usage: python_rows_client.py clients ADDRESS CONFIG | fill ADDRESS N THREADS")


if __name__ == "__main__":
    main()
