/**
 * The CPython-parity queue suite, unchanged, against managers whose objects live in a real Redis (test/helpers/redisServer.ts).
 */
import { runSuiteInRedis } from '../helpers/redisServer';
import '../e2e/cpython-parity/queues.test';

runSuiteInRedis(100);
