"""The seed's worker.py, with syncmanager_client instead of multiprocessing.managers.

The manager (any syncmanager manager serving ``get_task_queue`` and ``get_result_queue``, such
as ``syncmanager serve --register get_task_queue=Queue --register get_result_queue=Queue``, or
the VS Code extension's) has put the numbers 0 to 9 into the task queue; this worker takes each
one and puts its square into the result queue.

    python seed_worker.py [ADDRESS [AUTHKEY]]

Without arguments the address and key come from SYNCMANAGER_ADDRESS and SYNCMANAGER_AUTHKEY,
which syncmanager sets in the terminals it opens, so the script needs no configuration there.
"""

import queue
import sys

from syncmanager_client import connect


def main(argv):
    address = argv[1] if len(argv) > 1 else None
    authkey = argv[2] if len(argv) > 2 else None
    with connect(address, authkey, name="seed_worker") as m:
        print("Connect to server %s" % m.address)
        task = m.get_task_queue()
        result = m.get_result_queue()
        for _ in range(10):
            try:
                n = task.get(timeout=1)
                print("Get: %d <= manager" % n)
                r = n * n
                print("Put: %d => manager" % r)
                result.put(r)
                print("#" * 30)
            except queue.Empty:
                print("task queue is empty")
    print("worker exit")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
