/**
 * The CPython-parity Lock, RLock, Semaphore and BoundedSemaphore suite, unchanged, against
 * managers whose objects live in a real Redis.
 */
import { runSuiteInRedis } from '../helpers/redisServer';
import '../e2e/cpython-parity/locks.test';

runSuiteInRedis(10);
