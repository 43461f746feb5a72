#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""
The seed's worker.py: takes each task n from get_task_queue, puts n * n into
get_result_queue, and stops when no task comes within a second (queue.Empty).

    python task_worker.py [HOST:PORT [AUTHKEY]]

Or set SYNCMANAGER_ADDRESS and SYNCMANAGER_AUTHKEY (a VS Code terminal of the syncmanager
extension has them); default 127.0.0.1:50000 and 'lihui'. Only multiprocessing.managers is
used, and the same file runs under Python 2.7 and 3.x.
"""
from __future__ import print_function

import os
import sys

try:
    import queue  # Python 3
except ImportError:  # Python 2
    import Queue as queue

from multiprocessing.managers import BaseManager


def manager_address(text):
    """'host:port', '[::1]:port' or ':port' (the seed's '' host: this machine) -> (host, port)."""
    host, _, port = text.rpartition(':')
    if host.startswith('[') and host.endswith(']'):
        host = host[1:-1]
    return (host, int(port))


ADDRESS = manager_address(sys.argv[1] if len(sys.argv) > 1 else os.environ.get('SYNCMANAGER_ADDRESS') or '127.0.0.1:50000')
AUTHKEY = (sys.argv[2] if len(sys.argv) > 2 else os.environ.get('SYNCMANAGER_AUTHKEY') or 'lihui').encode('utf-8')


class QueueManager(BaseManager):
    pass


QueueManager.register('get_task_queue')
QueueManager.register('get_result_queue')

server_addr = ADDRESS[0]
print('Connect to server', server_addr)
m = QueueManager(address=ADDRESS, authkey=AUTHKEY)
m.connect()

task = m.get_task_queue()
result = m.get_result_queue()

try:
    for i in range(10):
        n = task.get(timeout=1)
        print('Get: %d <= manager' % n)
        r = n * n
        print('Put: %d => manager' % r)
        result.put(r)
        print('#' * 30)
except queue.Empty:
    print('task queue is empty')
print('worker exit')
