/**
 * The CPython-parity Event and Barrier suite, unchanged, against managers whose objects live in a
 * real Redis (Events in Redis; Barriers still in each manager's memory, README "Scaling out").
 */
import { runSuiteInRedis } from '../helpers/redisServer';
import '../e2e/cpython-parity/events-barriers.test';

runSuiteInRedis(10);
