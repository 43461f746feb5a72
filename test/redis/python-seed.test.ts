/**
 * The seed run by unmodified Python clients (every CPython here), unchanged, against a manager
 * whose queues live in a real Redis (test/helpers/redisServer.ts).
 */
import { runSuiteInRedis } from '../helpers/redisServer';
import '../python/seed.test';

runSuiteInRedis(20);
