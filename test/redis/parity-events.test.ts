/**
 * The CPython-parity Event and Barrier suite, unchanged, against managers whose objects live in a
 * real Redis (Events and Barriers in Redis; the barrier with an action, made in the server's code,
 * stays in that manager's memory, README "Scaling out").
 */
import { runSuiteInRedis } from '../helpers/redisServer';
import '../e2e/cpython-parity/events-barriers.test';

runSuiteInRedis(10);
