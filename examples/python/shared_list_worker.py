#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""
The tutorial's worker_process.py: five worker processes connect to a manager serving one
shared list (typeid get_my_list, exposed append, pop and __len__), each appends a line and
prints the list's length before and after.

    node dist/examples/shared-list-manager.js       # the tutorial's manager_process.py, or:
    npx syncmanager serve --address 127.0.0.1:50000 --authkey abracadabra --register get_my_list=list
    python shared_list_worker.py [HOST:PORT [AUTHKEY [WORKERS]]]

Or set SYNCMANAGER_ADDRESS / SYNCMANAGER_AUTHKEY; default 127.0.0.1:50000 and 'abracadabra'.
SHARED_LIST_WORK_SECONDS sets the simulated work (the tutorial's time.sleep(1); default 1).
Only multiprocessing is used; the same file runs under Python 2.7 and 3.x.
"""
from __future__ import print_function

import multiprocessing
import os
import sys
import time

from multiprocessing.managers import BaseManager


def manager_address(text):
    """'host:port', '[::1]:port' or ':port' (this machine) -> (host, port)."""
    host, _, port = text.rpartition(':')
    if host.startswith('[') and host.endswith(']'):
        host = host[1:-1]
    return (host, int(port))


class ListManager(BaseManager):
    pass


# The client side of the tutorial's register(): the manager holds the list and its exposed methods.
ListManager.register('get_my_list')


def say(line):
    """Prints a line in one write, so the lines of five processes sharing stdout never interleave."""
    sys.stdout.write(line + '\n')
    sys.stdout.flush()


def worker(task_id, manager_address, authkey, work_seconds):
    """Connects to the manager and appends to the shared list."""
    manager = ListManager(address=manager_address, authkey=authkey)
    manager.connect()
    shared_list = manager.get_my_list()
    say('Worker %d: Connected. Current list length: %d' % (task_id, len(shared_list)))
    time.sleep(work_seconds)  # simulate doing some work
    shared_list.append('Result from worker %d' % task_id)
    say('Worker %d: Appended item. New list length: %d' % (task_id, len(shared_list)))


if __name__ == '__main__':
    address = manager_address(sys.argv[1] if len(sys.argv) > 1 else os.environ.get('SYNCMANAGER_ADDRESS') or '127.0.0.1:50000')
    authkey = (sys.argv[2] if len(sys.argv) > 2 else os.environ.get('SYNCMANAGER_AUTHKEY') or 'abracadabra').encode('utf-8')
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    work_seconds = float(os.environ.get('SHARED_LIST_WORK_SECONDS', '1'))

    processes = []
    for i in range(workers):
        p = multiprocessing.Process(target=worker, args=(i, address, authkey, work_seconds))
        processes.append(p)
        p.start()
    for p in processes:
        p.join()
    failed = [p.exitcode for p in processes if p.exitcode != 0]
    if failed:
        print('%d worker(s) failed: exit codes %r' % (len(failed), failed))
        sys.exit(1)
    print('All workers finished.')
