"""CPython's own BaseManager client for bench/serverCost.ts: put and get pairs on the bench queue.

    python python_cost_client.py [--json-client] host:port THREADS OPS [PAYLOAD_BYTES]

With one thread, one proxy makes the pairs one at a time; with more, each thread makes them on
a connection of its own (a Python proxy has one call out at a time per connection). Warms up
with OPS ops, prints MARK, waits for a line on stdin, makes OPS ops and prints
`DONE <ops/s> <client CPU µs per op> <ops>`. With PAYLOAD_BYTES, each put carries a `bytes` of
that length instead of the loop counter. With `--json-client` the JSON client of clients/python
(syncmanager_client) makes the calls instead, one connection for all threads.
"""

import os
import sys
import threading
import time
from multiprocessing.managers import BaseManager


class BenchManager(BaseManager):
    pass


BenchManager.register("get_queue")

JSON_CLIENT = "--json-client" in sys.argv[1:2]
if JSON_CLIENT:
    del sys.argv[1]


PAYLOAD = b"a" * int(sys.argv[4]) if len(sys.argv) > 4 and int(sys.argv[4]) > 0 else None


def pairs(q, count):
    for i in range(count // 2):
        q.put(i if PAYLOAD is None else PAYLOAD)
        q.get()


def run_threads(q, threads, ops):
    per_thread = max(2, ops // threads)
    workers = [threading.Thread(target=pairs, args=(q, per_thread)) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(600)
    return per_thread // 2 * 2 * threads


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    threads, ops = int(sys.argv[2]), int(sys.argv[3])
    if JSON_CLIENT:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))
        import syncmanager_client

        q = syncmanager_client.connect(sys.argv[1], b"bench", reconnect=False).get_queue()
    else:
        manager = BenchManager(address=(host, int(port)), authkey=b"bench")
        manager.connect()
        q = manager.get_queue()
    run = (lambda: pairs(q, ops) or ops // 2 * 2) if threads == 1 else (lambda: run_threads(q, threads, ops))
    run()
    sys.stdout.write("MARK\n")
    sys.stdout.flush()
    sys.stdin.readline()
    cpu = time.process_time()
    start = time.perf_counter()
    made = run()
    elapsed = time.perf_counter() - start
    used = time.process_time() - cpu
    sys.stdout.write("DONE %f %f %d\n" % (made / elapsed, used * 1e6 / made, made))
    sys.stdout.flush()


main()
