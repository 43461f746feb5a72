/**
 * The CPython-parity Condition suite, unchanged, against managers whose objects live in a real
 * Redis (the Condition, its RLock, and the Semaphores and Values the suite reports through).
 */
import { runSuiteInRedis } from '../helpers/redisServer';
import '../e2e/cpython-parity/conditions.test';

runSuiteInRedis(10);
