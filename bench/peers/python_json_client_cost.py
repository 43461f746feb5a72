"""The Python JSON client's own CPU per call, one at a time, builds compared in one process:

    python bench/peers/python_json_client_cost.py OURS CPYTHON [--blocks N] [--pairs N] [LABEL=FOLDER ...]

OURS is one of our managers serving the shared queue `get_queue` with authkey `bench`
(`SYNCMANAGER_AUTHKEY=bench node dist/cli.js serve --address 127.0.0.1:0 --register get_queue=Queue`),
CPYTHON CPython's own (`python bench/peers/python_manager_server.py bench`, which prints its
address), or `-` to leave it out. Each LABEL=FOLDER is a folder holding a `syncmanager_client`
(default: `this=clients/python`; another build's copy, `git archive`d, for an A/B). The clients
are, besides those: CPython's BaseManager client on OURS and on CPYTHON, and a floor: the same two
requests prebuilt, one `send` and one `recv` each, nothing encoded or parsed. Blocks of PAIRS
put/get pairs (default 40 of 1,000) go to each client in turn, rotating the order; each block's
`time.process_time()` per op is kept, and the medians (and quartiles) are printed. Process CPU
time swings much less with the machine's load than wall time, and alternating blocks in one
process shares the load out evenly.
"""

import importlib.util
import os
import statistics
import sys
import time
from multiprocessing.managers import BaseManager

AUTHKEY = b"bench"
HERE = os.path.dirname(os.path.abspath(__file__))


def load_client(label, folder):
    """The `syncmanager_client` in `folder`, imported under a name of its own, so that several
    builds live in one process."""
    name = "syncmanager_client_" + "".join(c if c.isalnum() else "_" for c in label)
    spec = importlib.util.spec_from_file_location(name, os.path.join(folder, "syncmanager_client", "__init__.py"), submodule_search_locations=[os.path.join(folder, "syncmanager_client")])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class CostManager(BaseManager):
    pass


CostManager.register("get_queue")


def cpython_queue(address):
    host, port = address.rsplit(":", 1)
    manager = CostManager(address=(host, int(port)), authkey=AUTHKEY)
    manager.connect()
    return manager.get_queue()


class Floor:
    """put and get as prebuilt requests on a connection of its own that nothing else reads."""

    def __init__(self, module, address):
        manager = module.connect(address, AUTHKEY, reconnect=False, liveness_timeout=None)
        queue = manager.create("get_queue")
        self._keep = (manager, queue)
        connection = manager.connection
        connection._read_role.acquire()  # never given back: this loop alone reads the socket
        self._sock = connection._sock

        def framed(text):
            body = text.encode("utf-8")
            return b"Content-Length: %d\r\n\r\n" % len(body) + body

        self._put = framed('{"jsonrpc":"2.0","id":1,"method":"object/call","params":{"id":"%s","method":"put","args":[1]}}' % queue._id)
        self._get = framed('{"jsonrpc":"2.0","id":2,"method":"object/call","params":{"id":"%s","method":"get"}}' % queue._id)

    def put(self, _item):
        self._sock.send(self._put)
        self._sock.recv(65536)

    def get(self):
        self._sock.send(self._get)
        self._sock.recv(65536)


def pairs(queue, count):
    put, get = queue.put, queue.get
    for i in range(count):
        put(i)
        get()


def main():
    args = sys.argv[1:]
    options = {"--blocks": 40, "--pairs": 1000}
    for name in options:
        if name in args:
            at = args.index(name)
            options[name] = int(args[at + 1])
            del args[at:at + 2]
    if len(args) < 2:
        raise SystemExit(__doc__)
    ours, cpython = args[0], args[1]
    builds = [a.split("=", 1) for a in args[2:]] or [["this", os.path.join(HERE, "..", "..", "clients", "python")]]
    clients = []
    modules = []
    for label, folder in builds:
        module = load_client(label, folder)
        modules.append(module)
        clients.append((label, module.connect(ours, AUTHKEY, reconnect=False).create("get_queue")))
    clients.append(("CPython client -> ours", cpython_queue(ours)))
    if cpython != "-":
        clients.append(("CPython client -> CPython", cpython_queue(cpython)))
    clients.append(("floor", Floor(modules[0], ours)))
    for _, queue in clients:
        pairs(queue, 2000)  # warm-up
    per_op = {label: [] for label, _ in clients}
    clock = time.process_time
    for block in range(options["--blocks"]):
        for k in range(len(clients)):
            label, queue = clients[(block + k) % len(clients)]
            start = clock()
            pairs(queue, options["--pairs"])
            per_op[label].append((clock() - start) * 1e6 / (2 * options["--pairs"]))
    print("client CPU per op (µs), medians of %d blocks of %d put/get pairs (quartiles); load %s" % (options["--blocks"], options["--pairs"], " ".join("%.2f" % x for x in os.getloadavg())))
    for label, values in per_op.items():
        values.sort()
        print("  %-26s %6.2f   (%.2f–%.2f)" % (label, statistics.median(values), values[len(values) // 4], values[3 * len(values) // 4]))


if __name__ == "__main__":
    main()
