"""Peer server: CPython's multiprocessing BaseManager serving shared queue.Queue() singletons.

Run by bench/run.ts as `python bench/peers/python_manager_server.py [authkey]`; prints
`READY host:port` once listening and serves until killed.
"""

import os
import queue
import sys
import threading
from multiprocessing.managers import BaseManager

TYPEIDS = ("get_queue", "get_task_queue", "get_result_queue")


class BenchManager(BaseManager):
    pass


def exit_with_parent() -> None:
    """run.ts keeps our stdin open: when it goes away (even killed), so do we."""
    try:
        sys.stdin.buffer.read()
    finally:
        os._exit(0)


def main() -> None:
    authkey = (sys.argv[1] if len(sys.argv) > 1 else "bench").encode()
    for typeid in TYPEIDS:
        shared = queue.Queue()
        BenchManager.register(typeid, callable=lambda shared=shared: shared)
    manager = BenchManager(address=("127.0.0.1", 0), authkey=authkey)
    server = manager.get_server()
    host, port = server.address
    if not sys.stdin.isatty():
        threading.Thread(target=exit_with_parent, daemon=True).start()
    print(f"READY {host}:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
