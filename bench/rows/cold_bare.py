"""The runtime alone, for the cold row of bench/rows/run.ts: an interpreter that does nothing but
print, as cold_python_json.py does, the process's CPU time so far (`COLD {json}`), its start
included. A client's CPU time is measured beyond this one's."""
import time

print('COLD {"cpuMs": %.3f}' % (time.process_time() * 1000), flush=True)
