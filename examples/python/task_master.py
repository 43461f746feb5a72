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

With no worker running it waits as long as it takes, saying once what it waits for.  Ctrl-C
stops it without a traceback (exit status 130) and first takes back what this run put on the
server and nobody used: the tasks no worker took and the results not read.  The queues outlive
this script, so anything left there would be read by the next run as if it were its own (a
second master would hand out twenty tasks and count a stale square as a result).  A task a
worker took just before Ctrl-C can still put its result after the clean-up; that one cannot be
taken back from here.
"""
from __future__ import print_function

import os
import signal
import sys
import threading

from multiprocessing.managers import BaseManager

try:
    import queue
except ImportError:  # Python 2
    import Queue as queue

# How long to wait for the first result before saying that a worker is needed.
NOTICE_AFTER_SECONDS = 3


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

def drain(q):
    """Removes every item from a queue proxy without blocking; returns how many."""
    count = 0
    while True:
        try:
            q.get_nowait()
        except queue.Empty:
            return count
        count += 1


def take_back():
    """After Ctrl-C: empties both queues; returns how many tasks and results it removed.

    It works in a new thread: Python's proxies share one connection per thread and manager address,
    and this thread's was cut in the middle of the interrupted get(), which the manager still holds
    on it, so a call made here would wait behind that get for ever.
    """
    counts = []

    def work():
        manager = QueueManager(address=ADDRESS, authkey=AUTHKEY)
        manager.connect()
        counts.extend([drain(manager.get_task_queue()), drain(manager.get_result_queue())])

    worker = threading.Thread(target=work)
    worker.daemon = True
    worker.start()
    worker.join(30)
    if len(counts) != 2:
        raise EnvironmentError('the manager did not answer within 30 s')
    return counts


def main():
    manager = QueueManager(address=ADDRESS, authkey=AUTHKEY)
    manager.connect()
    task = manager.get_task_queue()
    result = manager.get_result_queue()

    for i in range(10):
        print('Put: %d => worker' % i)
        task.put(i)

    print('Waiting for results ...')

    for i in range(10):
        try:
            r = result.get(timeout=NOTICE_AFTER_SECONDS) if i == 0 else result.get()
        except queue.Empty:
            print('No result yet: start a worker (python task_worker.py). Waiting as long as it takes; Ctrl-C stops.')
            r = result.get()
        print('Get: %s <= worker' % r)

    print('manager exit')


# Ctrl-C must end the wait even when this script was started with SIGINT ignored (a background job of a
# non-interactive shell, some CI runners): Python keeps an inherited "ignore", so ask for KeyboardInterrupt.
signal.signal(signal.SIGINT, signal.default_int_handler)

try:
    main()
except KeyboardInterrupt:
    try:
        tasks, results = take_back()
        print('\nStopped: took back the %d tasks no worker took and %d results not read.' % (tasks, results))
    except (KeyboardInterrupt, EnvironmentError, EOFError) as error:
        print('\nStopped; could not take the tasks back (%s): they stay on the manager.' % (error or type(error).__name__))
    sys.exit(130)
