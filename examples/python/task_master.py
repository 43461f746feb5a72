#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""
The seed's manager.py, as a client of a running manager: puts the tasks 0..9 into
get_task_queue and prints the ten results a worker puts into get_result_queue.

The manager process is syncmanager's server (the seed's manager.py served the two queues
itself with BaseManager.start(); here `syncmanager serve` plays that process):

    npx syncmanager serve --address 127.0.0.1:50000 --authkey lihui \
        --register get_task_queue=Queue --register get_result_queue=Queue
    python task_master.py            # then, in another terminal: python task_worker.py

Only the standard library's multiprocessing.managers is used; the same file runs under
Python 2.7 and 3.x.  Usage: task_master.py [HOST:PORT [AUTHKEY]], or the environment
variables SYNCMANAGER_ADDRESS and SYNCMANAGER_AUTHKEY; default 127.0.0.1:50000 and 'lihui'.
"""
from __future__ import print_function

import os
import sys

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

manager = QueueManager(address=ADDRESS, authkey=AUTHKEY)
manager.connect()
task = manager.get_task_queue()
result = manager.get_result_queue()

for i in range(10):
    print('Put: %d => worker' % i)
    task.put(i)

print('Waiting for results ...')

for i in range(10):
    r = result.get(timeout=10)
    print('Get: %s <= worker' % r)

print('manager exit')
