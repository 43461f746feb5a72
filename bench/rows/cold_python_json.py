"""A cold client of the Python JSON client (clients/python), in a fresh interpreter:
    python bench/rows/cold_python_json.py host:port [folder holding another syncmanager_client]
Prints `COLD {json}` as cold-ours.cjs does; the interpreter's own start is not timed (the clocks,
the CPU time's too for `ownCpuMs`, start at the first line of this script)."""
import time

started = time.perf_counter()
started_cpu = time.process_time()
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

sys.path.insert(0, sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))
import syncmanager_client  # noqa: E402

imported = time.perf_counter()
manager = syncmanager_client.connect(sys.argv[1], b"bench", reconnect=False)
connected = time.perf_counter()
queue = manager.create("get_cold_queue")
queue.get()
done = time.perf_counter()
done_cpu = time.process_time()
ms = lambda a, b: (b - a) * 1000  # noqa: E731
print("COLD " + json.dumps({"importMs": ms(started, imported), "connectMs": ms(imported, connected), "firstResultMs": ms(connected, done), "totalMs": ms(started, done), "cpuMs": done_cpu * 1000, "ownCpuMs": ms(started_cpu, done_cpu)}), flush=True)
manager.close() if hasattr(manager, "close") else None
