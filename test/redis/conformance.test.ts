/**
 * The conformance suite (protocol/conformance/), unchanged, against managers whose objects live in a real Redis (test/helpers/redisServer.ts).
 */
import { runSuiteInRedis } from '../helpers/redisServer';
import '../protocol/conformance.test';

runSuiteInRedis(10);
