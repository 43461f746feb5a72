/**
 * Property tests of the pickle codec (src/server/python/pickle*.ts) on seeded random inputs:
 *
 * - every value the server may hold survives pickle → unpickle, for Python 3 and Python 2, as the
 *   value the documented conversions make of it (undefined → None → null, bytes → Python 2 str →
 *   text, a Map whose keys are all strings → a dict → a plain object...);
 * - values nested up to the depth limit always write and read back; deeper ones fail with a
 *   PickleError, never a stack overflow;
 * - any bytes (random, or valid pickles from us and from real Pythons with random mutations) read
 *   as a value or fail with a PickleError, never another error, and each case ends promptly;
 *   what is read writes back and reads again as the same value (opaque objects byte for byte).
 *
 * Every loop is bounded in count and in time. Failures print the seed; replay with
 * `FUZZ_SEED=<seed> npm test -- pickle.fuzz`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Float, FrozenSet, isTuple, OpaqueValue, Slice, tupleFrom } from '../../src/common/valueTypes';
import { DEFAULT_MAX_DEPTH, PickleError, unpickle } from '../../src/server/python/pickle/pickleReader';
import { pickle, type PickleDialect } from '../../src/server/python/pickle/pickleWriter';
import { exceptionClassFor } from '../../src/server/python/pickle/pickleGlobals';
import { standaloneHeight } from '../../src/server/python/pickle/pickleReemit';
import { Op } from '../../src/server/python/pickle/pickleOpcodes';
import { PyExceptionValue, PyProxy, PyToken } from '../../src/server/python/pickle/pickleValues';
import { mismatch } from '../server/python/valueMatch';
import { forSome, NASTY_STRINGS, Rng, seedFor, setOwn, show } from './prng';


/** Pickles from real Pythons (captured with test/server/python/pickle_harness.py's names), to mutate. */
const PYTHON_PICKLES: readonly string[] = [
  // Python 3.13, protocol 0
  'KGxwMApOYUkwMQphSTEKYUkzMDAKYUktNzAwMDAKYUwxMDk5NTExNjI3Nzc2TAphTDExODA1OTE2MjA3MTc0MTEzMDM0MjRMCmFGMS41CmFGMi4wCmFWaOlsbG8KcDEKYWNfY29kZWNzCmVuY29kZQpwMgooVmFiCnAzClZsYXRpbjEKcDQKdHA1ClJwNgphY19fYnVpbHRpbl9fCmJ5dGVhcnJheQpwNwooZzIKKFZ4CnA4Cmc0CnRwOQpScDEwCnRwMTEKUnAxMgphKGxwMTMKSTEKYUkyCmFhKEkxCnRwMTQKYShJMQpJMgpJMwpJNAp0cDE1CmEoZHAxNgpWYQpwMTcKSTEKcyhJMQpJMgp0cDE4CkkzCnNhY19fYnVpbHRpbl9fCnNldApwMTkKKChscDIwCkkxCmFJMgphdHAyMQpScDIyCmFjX19idWlsdGluX18KZnJvemVuc2V0CnAyMwooKGxwMjQKSTMKYXRwMjUKUnAyNgphY19fYnVpbHRpbl9fCnNsaWNlCnAyNwooSTEKSTIKTnRwMjgKUnAyOQphY2NvcHlfcmVnCl9yZWNvbnN0cnVjdG9yCnAzMAooY211bHRpcHJvY2Vzc2luZy5tYW5hZ2VycwpUb2tlbgpwMzEKY19fYnVpbHRpbl9fCm9iamVjdApwMzIKTnRwMzMKUnAzNAooVlF1ZXVlCnAzNQooVjEyNy4wLjAuMQpwMzYKSTUwMDAKdHAzNwpWN2YwMQpwMzgKdHAzOQpiYWNleGNlcHRpb25zCktleUVycm9yCnA0MAooVmsKcDQxCnRwNDIKUnA0MwphY19xdWV1ZQpFbXB0eQpwNDQKKHRScDQ1CmFjZnJhY3Rpb25zCkZyYWN0aW9uCnA0NgooSTEKSTMKdHA0NwpScDQ4CmFjY29sbGVjdGlvbnMKT3JkZXJlZERpY3QKcDQ5Cih0UnA1MApnMTcKSTEKc2FjX19idWlsdGluX18KY29tcGxleApwNTEKKEYxLjAKRjIuMAp0cDUyClJwNTMKYShscDU0CkkxCmFJMgphYWc1NAphLg==',
  // Python 3.13, protocol 1
  'XXEAKE5JMDEKSwFNLAFKkO7+/0wxMDk5NTExNjI3Nzc2TApMMTE4MDU5MTYyMDcxNzQxMTMwMzQyNEwKRz/4AAAAAAAAR0AAAAAAAAAAWAYAAABow6lsbG9xAWNfY29kZWNzCmVuY29kZQpxAihYAgAAAGFicQNYBgAAAGxhdGluMXEEdHEFUnEGY19fYnVpbHRpbl9fCmJ5dGVhcnJheQpxByhoAihYAQAAAHhxCGgEdHEJUnEKdHELUnEMXXENKEsBSwJlKEsBdHEOKEsBSwJLA0sEdHEPfXEQKFgBAAAAYXERSwEoSwFLAnRxEksDdWNfX2J1aWx0aW5fXwpzZXQKcRMoXXEUKEsBSwJldHEVUnEWY19fYnVpbHRpbl9fCmZyb3plbnNldApxFyhdcRhLA2F0cRlScRpjX19idWlsdGluX18Kc2xpY2UKcRsoSwFLAk50cRxScR1jY29weV9yZWcKX3JlY29uc3RydWN0b3IKcR4oY211bHRpcHJvY2Vzc2luZy5tYW5hZ2VycwpUb2tlbgpxH2NfX2J1aWx0aW5fXwpvYmplY3QKcSBOdHEhUnEiKFgFAAAAUXVldWVxIyhYCQAAADEyNy4wLjAuMXEkTYgTdHElWAQAAAA3ZjAxcSZ0cSdiY2V4Y2VwdGlvbnMKS2V5RXJyb3IKcSgoWAEAAABrcSl0cSpScStjX3F1ZXVlCkVtcHR5CnEsKVJxLWNmcmFjdGlvbnMKRnJhY3Rpb24KcS4oSwFLA3RxL1JxMGNjb2xsZWN0aW9ucwpPcmRlcmVkRGljdApxMSlScTJoEUsBc2NfX2J1aWx0aW5fXwpjb21wbGV4CnEzKEc/8AAAAAAAAEdAAAAAAAAAAHRxNFJxNV1xNihLAUsCZWg2ZS4=',
  // Python 3.13, protocol 2
  'gAJdcQAoTohLAU0sAUqQ7v7/igYAAAAAAAGKCQAAAAAAAAAAQEc/+AAAAAAAAEdAAAAAAAAAAFgGAAAAaMOpbGxvcQFjX2NvZGVjcwplbmNvZGUKcQJYAgAAAGFicQNYBgAAAGxhdGluMXEEhnEFUnEGY19fYnVpbHRpbl9fCmJ5dGVhcnJheQpxB2gCWAEAAAB4cQhoBIZxCVJxCoVxC1JxDF1xDShLAUsCZUsBhXEOKEsBSwJLA0sEdHEPfXEQKFgBAAAAYXERSwFLAUsChnESSwN1Y19fYnVpbHRpbl9fCnNldApxE11xFChLAUsCZYVxFVJxFmNfX2J1aWx0aW5fXwpmcm96ZW5zZXQKcRddcRhLA2GFcRlScRpjX19idWlsdGluX18Kc2xpY2UKcRtLAUsCTodxHFJxHWNtdWx0aXByb2Nlc3NpbmcubWFuYWdlcnMKVG9rZW4KcR4pgXEfWAUAAABRdWV1ZXEgWAkAAAAxMjcuMC4wLjFxIU2IE4ZxIlgEAAAAN2YwMXEjh3EkYmNleGNlcHRpb25zCktleUVycm9yCnElWAEAAABrcSaFcSdScShjX3F1ZXVlCkVtcHR5CnEpKVJxKmNmcmFjdGlvbnMKRnJhY3Rpb24KcStLAUsDhnEsUnEtY2NvbGxlY3Rpb25zCk9yZGVyZWREaWN0CnEuKVJxL2gRSwFzY19fYnVpbHRpbl9fCmNvbXBsZXgKcTBHP/AAAAAAAABHQAAAAAAAAACGcTFScTJdcTMoSwFLAmVoM2Uu',
  // Python 3.13, protocol 3
  'gANdcQAoTohLAU0sAUqQ7v7/igYAAAAAAAGKCQAAAAAAAAAAQEc/+AAAAAAAAEdAAAAAAAAAAFgGAAAAaMOpbGxvcQFDAmFicQJjYnVpbHRpbnMKYnl0ZWFycmF5CnEDQwF4cQSFcQVScQZdcQcoSwFLAmVLAYVxCChLAUsCSwNLBHRxCX1xCihYAQAAAGFxC0sBSwFLAoZxDEsDdWNidWlsdGlucwpzZXQKcQ1dcQ4oSwFLAmWFcQ9ScRBjYnVpbHRpbnMKZnJvemVuc2V0CnERXXESSwNhhXETUnEUY2J1aWx0aW5zCnNsaWNlCnEVSwFLAk6HcRZScRdjbXVsdGlwcm9jZXNzaW5nLm1hbmFnZXJzClRva2VuCnEYKYFxGVgFAAAAUXVldWVxGlgJAAAAMTI3LjAuMC4xcRtNiBOGcRxYBAAAADdmMDFxHYdxHmJjYnVpbHRpbnMKS2V5RXJyb3IKcR9YAQAAAGtxIIVxIVJxImNfcXVldWUKRW1wdHkKcSMpUnEkY2ZyYWN0aW9ucwpGcmFjdGlvbgpxJUsBSwOGcSZScSdjY29sbGVjdGlvbnMKT3JkZXJlZERpY3QKcSgpUnEpaAtLAXNjYnVpbHRpbnMKY29tcGxleApxKkc/8AAAAAAAAEdAAAAAAAAAAIZxK1JxLF1xLShLAUsCZWgtZS4=',
  // Python 3.13, protocol 4
  'gASVnQEAAAAAAABdlChOiEsBTSwBSpDu/v+KBgAAAAAAAYoJAAAAAAAAAABARz/4AAAAAAAAR0AAAAAAAAAAjAZow6lsbG+UQwJhYpSMCGJ1aWx0aW5zlIwJYnl0ZWFycmF5lJOUQwF4lIWUUpRdlChLAUsCZUsBhZQoSwFLAksDSwR0lH2UKIwBYZRLAUsBSwKGlEsDdY+UKEsBSwKQKEsDkZRoA4wFc2xpY2WUk5RLAUsCToeUUpSMGG11bHRpcHJvY2Vzc2luZy5tYW5hZ2Vyc5SMBVRva2VulJOUKYGUjAVRdWV1ZZSMCTEyNy4wLjAuMZRNiBOGlIwEN2YwMZSHlGJoA4wIS2V5RXJyb3KUk5SMAWuUhZRSlIwGX3F1ZXVllIwFRW1wdHmUk5QpUpSMCWZyYWN0aW9uc5SMCEZyYWN0aW9ulJOUSwFLA4aUUpSMC2NvbGxlY3Rpb25zlIwLT3JkZXJlZERpY3SUk5QpUpRoDUsBc2gDjAdjb21wbGV4lJOURz/wAAAAAAAAR0AAAAAAAAAAhpRSlF2UKEsBSwJlaDRlLg==',
  // Python 3.13, protocol 5
  'gAWVkAEAAAAAAABdlChOiEsBTSwBSpDu/v+KBgAAAAAAAYoJAAAAAAAAAABARz/4AAAAAAAAR0AAAAAAAAAAjAZow6lsbG+UQwJhYpSWAQAAAAAAAAB4lF2UKEsBSwJlSwGFlChLAUsCSwNLBHSUfZQojAFhlEsBSwFLAoaUSwN1j5QoSwFLApAoSwORlIwIYnVpbHRpbnOUjAVzbGljZZSTlEsBSwJOh5RSlIwYbXVsdGlwcm9jZXNzaW5nLm1hbmFnZXJzlIwFVG9rZW6Uk5QpgZSMBVF1ZXVllIwJMTI3LjAuMC4xlE2IE4aUjAQ3ZjAxlIeUYmgMjAhLZXlFcnJvcpSTlIwBa5SFlFKUjAZfcXVldWWUjAVFbXB0eZSTlClSlIwJZnJhY3Rpb25zlIwIRnJhY3Rpb26Uk5RLAUsDhpRSlIwLY29sbGVjdGlvbnOUjAtPcmRlcmVkRGljdJSTlClSlGgISwFzaAyMB2NvbXBsZXiUk5RHP/AAAAAAAABHQAAAAAAAAACGlFKUXZQoSwFLAmVoMGUu',
  // Python 3.13, an AutoProxy and a request, protocol 4
  'gASVqQAAAAAAAABdlCiMGG11bHRpcHJvY2Vzc2luZy5tYW5hZ2Vyc5SMDFJlYnVpbGRQcm94eZSTlChoAYwJQXV0b1Byb3h5lJOUaAGMBVRva2VulJOUKYGUjAVRdWV1ZZSMCTEyNy4wLjAuMZRNiBOGlIwEN2YwMZSHlGKMBnBpY2tsZZR9lIwHZXhwb3NlZJSMA2dldJSMA3B1dJSGlHN0lFKUKGgMaBJLBYWUfZR0lGUu',
  // Python 2.7, protocol 0
  'KGxwMApOYUkwMQphSTEKYUkzMDAKYUktNzAwMDAKYUkxMDk5NTExNjI3Nzc2CmFMMTE4MDU5MTYyMDcxNzQxMTMwMzQyNEwKYUYxLjUKYUYyLjAKYVZo6WxsbwpwMQphUydhYicKcDIKYWNfX2J1aWx0aW5fXwpieXRlYXJyYXkKcDMKKFZ4CnA0ClMnbGF0aW4tMScKcDUKdHA2ClJwNwphKGxwOApJMQphSTIKYWEoSTEKdHA5CmEoSTEKSTIKSTMKSTQKdHAxMAphKGRwMTEKUydhJwpwMTIKSTEKcyhJMQpJMgp0cDEzCkkzCnNhY19fYnVpbHRpbl9fCnNldApwMTQKKChscDE1CkkxCmFJMgphdHAxNgpScDE3CmFjX19idWlsdGluX18KZnJvemVuc2V0CnAxOAooKGxwMTkKSTMKYXRwMjAKUnAyMQphY19fYnVpbHRpbl9fCnNsaWNlCnAyMgooSTEKSTIKTnRwMjMKUnAyNAphY2NvcHlfcmVnCl9yZWNvbnN0cnVjdG9yCnAyNQooY211bHRpcHJvY2Vzc2luZy5tYW5hZ2VycwpUb2tlbgpwMjYKY19fYnVpbHRpbl9fCm9iamVjdApwMjcKTnRwMjgKUnAyOQooUydRdWV1ZScKcDMwCihTJzEyNy4wLjAuMScKcDMxCkk1MDAwCnRwMzIKUyc3ZjAxJwpwMzMKdHAzNApiYWNleGNlcHRpb25zCktleUVycm9yCnAzNQooUydrJwpwMzYKdHAzNwpScDM4CmFjUXVldWUKRW1wdHkKcDM5Cih0UnA0MAphY2ZyYWN0aW9ucwpGcmFjdGlvbgpwNDEKKFMnMS8zJwpwNDIKdHA0MwpScDQ0CmFjY29sbGVjdGlvbnMKT3JkZXJlZERpY3QKcDQ1CigobHA0NgoobHA0NwpnMTIKYUkxCmFhdHA0OApScDQ5CmFjX19idWlsdGluX18KY29tcGxleApwNTAKKEYxLjAKRjIuMAp0cDUxClJwNTIKYShscDUzCkkxCmFJMgphYWc1MwphLg==',
  // Python 2.7, protocol 1
  'XXEAKE5JMDEKSwFNLAFKkO7+/0kxMDk5NTExNjI3Nzc2CkwxMTgwNTkxNjIwNzE3NDExMzAzNDI0TApHP/gAAAAAAABHQAAAAAAAAABYBgAAAGjDqWxsb3EBVQJhYnECY19fYnVpbHRpbl9fCmJ5dGVhcnJheQpxAyhYAQAAAHhxBFUHbGF0aW4tMXEFdHEGUnEHXXEIKEsBSwJlKEsBdHEJKEsBSwJLA0sEdHEKfXELKFUBYXEMSwEoSwFLAnRxDUsDdWNfX2J1aWx0aW5fXwpzZXQKcQ4oXXEPKEsBSwJldHEQUnERY19fYnVpbHRpbl9fCmZyb3plbnNldApxEihdcRNLA2F0cRRScRVjX19idWlsdGluX18Kc2xpY2UKcRYoSwFLAk50cRdScRhjY29weV9yZWcKX3JlY29uc3RydWN0b3IKcRkoY211bHRpcHJvY2Vzc2luZy5tYW5hZ2VycwpUb2tlbgpxGmNfX2J1aWx0aW5fXwpvYmplY3QKcRtOdHEcUnEdKFUFUXVldWVxHihVCTEyNy4wLjAuMXEfTYgTdHEgVQQ3ZjAxcSF0cSJiY2V4Y2VwdGlvbnMKS2V5RXJyb3IKcSMoVQFrcSR0cSVScSZjUXVldWUKRW1wdHkKcScpUnEoY2ZyYWN0aW9ucwpGcmFjdGlvbgpxKShVAzEvM3EqdHErUnEsY2NvbGxlY3Rpb25zCk9yZGVyZWREaWN0CnEtKF1xLl1xLyhoDEsBZWF0cTBScTFjX19idWlsdGluX18KY29tcGxleApxMihHP/AAAAAAAABHQAAAAAAAAAB0cTNScTRdcTUoSwFLAmVoNWUu',
  // Python 2.7, protocol 2
  'gAJdcQAoTohLAU0sAUqQ7v7/STEwOTk1MTE2Mjc3NzYKigkAAAAAAAAAAEBHP/gAAAAAAABHQAAAAAAAAABYBgAAAGjDqWxsb3EBVQJhYnECY19fYnVpbHRpbl9fCmJ5dGVhcnJheQpxA1gBAAAAeHEEVQdsYXRpbi0xcQWGcQZScQddcQgoSwFLAmVLAYVxCShLAUsCSwNLBHRxCn1xCyhVAWFxDEsBSwFLAoZxDUsDdWNfX2J1aWx0aW5fXwpzZXQKcQ5dcQ8oSwFLAmWFcRBScRFjX19idWlsdGluX18KZnJvemVuc2V0CnESXXETSwNhhXEUUnEVY19fYnVpbHRpbl9fCnNsaWNlCnEWSwFLAk6HcRdScRhjbXVsdGlwcm9jZXNzaW5nLm1hbmFnZXJzClRva2VuCnEZKYFxGlUFUXVldWVxG1UJMTI3LjAuMC4xcRxNiBOGcR1VBDdmMDFxHodxH2JjZXhjZXB0aW9ucwpLZXlFcnJvcgpxIFUBa3EhhXEiUnEjY1F1ZXVlCkVtcHR5CnEkKVJxJWNmcmFjdGlvbnMKRnJhY3Rpb24KcSZVAzEvM3EnhXEoUnEpY2NvbGxlY3Rpb25zCk9yZGVyZWREaWN0CnEqXXErXXEsKGgMSwFlYYVxLVJxLmNfX2J1aWx0aW5fXwpjb21wbGV4CnEvRz/wAAAAAAAAR0AAAAAAAAAAhnEwUnExXXEyKEsBSwJlaDJlLg==',
];

// ---------------------------------------------------------------------------------------------
// Random server values, and what each must read back as.
// ---------------------------------------------------------------------------------------------

/** A hashable value: what may be a set member or a dict key (and stays distinct after the trip). */
function hashable(rng: Rng, depth: number): unknown {
  if (depth > 0 && rng.chance(0.2)) return tupleFrom(Array.from({ length: rng.int(0, 3) }, () => hashable(rng, depth - 1)));
  return rng.weighted<() => unknown>([
    [3, () => rng.string(8)],
    [3, () => rng.int(-1000, 1000)],
    [1, () => rng.pick([null, true, false])],
    [1, () => new Float(rng.pick([0, 2, -3, 0.5, 1e300]))],
    [1, () => rng.bytes(rng.int(0, 4))],
  ])();
}

/** Opaque Python objects (a Fraction, an OrderedDict, a complex...) as the reader made them. */
let opaqueObjects: OpaqueValue[] | undefined;

function opaqueObject(rng: Rng): OpaqueValue {
  opaqueObjects ??= PYTHON_PICKLES.flatMap((b) => (unpickle(Buffer.from(b, 'base64')) as unknown[]).filter((v): v is OpaqueValue => v instanceof OpaqueValue));
  return rng.pick(opaqueObjects);
}

function leaf(rng: Rng): unknown {
  return rng.weighted<() => unknown>([
    [1, () => undefined],
    [1, () => null],
    [1, () => rng.chance(0.5)],
    [5, () => rng.jsonNumber()],
    [1, () => rng.pick([NaN, Infinity, -Infinity, -0, 2 ** 60, -(2 ** 70), Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 31, -(2 ** 31) - 1, 2 ** 63])],
    [2, () => BigInt(rng.int(-1000, 1000)) * 10n ** BigInt(rng.int(0, 60))],
    [5, () => rng.string(16)],
    [1, () => rng.ascii(300)],
    [2, () => new Float(rng.pick([0, 1, 2, -3, 1e300, 2 ** 53, 2 ** 60, -0, 2.5, NaN, Infinity, -Infinity, 1e-9]))],
    [2, () => (rng.chance(0.5) ? rng.bytes(rng.int(0, 20)) : new Uint8Array(rng.bytes(rng.int(0, 300))))],
    [1, () => opaqueObject(rng)],
  ])();
}

function serverValue(rng: Rng, depth: number): unknown {
  if (depth <= 0 || rng.chance(0.35)) return leaf(rng);
  const items = (n: number) => Array.from({ length: rng.int(0, n) }, () => serverValue(rng, depth - 1));
  const token = () => new PyToken(rng.pick(['Queue', 'dict', rng.string(6)]), rng.chance(0.5) ? tupleFrom(['127.0.0.1', rng.int(0, 65535)]) : rng.string(10), rng.ascii(8));
  return rng.weighted<() => unknown>([
    [4, () => items(5)],
    [2, () => tupleFrom(items(5))],
    [2, () => new Set(Array.from({ length: rng.int(0, 4) }, () => hashable(rng, 2)))],
    [1, () => new FrozenSet(Array.from({ length: rng.int(0, 3) }, () => hashable(rng, 2)))],
    [2, () => new Map(Array.from({ length: rng.int(0, 4) }, () => [hashable(rng, 2), serverValue(rng, depth - 1)] as [unknown, unknown]))],
    [4, () => record(rng, depth)],
    [1, () => new Slice(leaf(rng), leaf(rng), leaf(rng))],
    [1, token],
    [1, () => new PyProxy(token(), rng.pick(['AutoProxy', 'DictProxy', 'ListProxy']), rng.chance(0.5) ? Array.from({ length: rng.int(0, 3) }, () => rng.ascii(6)) : undefined)],
    [1, () => new PyExceptionValue(...rng.pick<[string, string]>([['builtins', 'KeyError'], ['_queue', 'Empty'], ['queue', 'Full'], ['exceptions', 'ValueError'], ['threading', 'BrokenBarrierError'], ['multiprocessing.managers', 'RemoteError'], ['builtins', 'FileNotFoundError']]), items(2), rng.chance(0.2) ? { note: serverValue(rng, depth - 1) } : undefined)],
  ])();
}

function record(rng: Rng, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = rng.chance(0.15) ? (Object.create(null) as Record<string, unknown>) : {};
  for (let i = rng.int(0, 4); i > 0; i--) setOwn(out, rng.chance(0.4) ? rng.pick(NASTY_STRINGS) : rng.string(6), serverValue(rng, depth - 1));
  return out;
}

/**
 * What the reader must give back for a value the writer pickled for `dialect`: ints as numbers
 * when safe and bigints otherwise (an integral number beyond 2^53 is an int), floats boxed when
 * integral, undefined as null, Python 2's bytes as text, a dict of str keys as a plain object,
 * exceptions under the class the dialect names.
 */
function expectedBack(value: unknown, dialect: PickleDialect): unknown {
  const back = (v: unknown) => expectedBack(v, dialect);
  switch (typeof value) {
    case 'undefined':
      return null;
    case 'number':
      if (!Number.isInteger(value)) return value;
      return Number.isSafeInteger(value) ? value + 0 : BigInt(value);
    case 'bigint':
      return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
    case 'string':
    case 'boolean':
      return value;
  }
  if (value === null) return null;
  if (value instanceof Float) return Number.isInteger(value.value) ? value : value.value;
  if (value instanceof Uint8Array) return dialect === 'py2' ? Buffer.from(value).toString('latin1') : Buffer.from(value);
  if (value instanceof OpaqueValue) return value;
  if (Array.isArray(value)) return isTuple(value) ? tupleFrom(value.map(back)) : value.map(back);
  if (value instanceof FrozenSet) return new FrozenSet([...value].map(back));
  if (value instanceof Set) return new Set([...value].map(back));
  if (value instanceof Slice) return new Slice(back(value.start), back(value.stop), back(value.step));
  if (value instanceof PyToken) return new PyToken(value.typeid, back(value.address), value.id);
  if (value instanceof PyProxy) return new PyProxy(new PyToken(value.token.typeid, back(value.token.address), value.token.id), value.proxyType, value.exposed, value.serializer, value.proxyModule);
  if (value instanceof PyExceptionValue) {
    const [module, name] = exceptionClassFor(value.module, value.name, dialect);
    return new PyExceptionValue(module, name, value.args.map(back), value.state === undefined ? undefined : back(value.state));
  }
  const record = value as Record<string, unknown>;
  const entries: [unknown, unknown][] = value instanceof Map ? [...value].map(([k, v]) => [back(k), back(v)]) : Object.keys(record).map((k) => [k, back(record[k])]);
  if (entries.every(([k]) => typeof k === 'string')) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) setOwn(out, k as string, v);
    return out;
  }
  return new Map(entries);
}

/** Opaque values must come back byte for byte (valueMatch compares only their types). */
function opaqueDiffers(expected: unknown, actual: unknown, seen = new Set<unknown>(), path = '$'): string | undefined {
  if (expected instanceof OpaqueValue) {
    return actual instanceof OpaqueValue && Buffer.from(actual.data).equals(Buffer.from(expected.data)) ? undefined : `${path}: opaque ${expected.type} changed, got ${show(actual, 200)}`;
  }
  if (typeof expected !== 'object' || expected === null || seen.has(expected) || typeof actual !== 'object' || actual === null) return undefined;
  seen.add(expected);
  // Children in order, but a plain object's by key (JavaScript puts integer-like keys first).
  const children = (v: object): [unknown, unknown][] =>
    v instanceof Map ? [...v]
    : Array.isArray(v) ? v.map((x, i) => [i, x])
    : v instanceof Set || v instanceof PyExceptionValue || v instanceof Slice || v instanceof PyToken ? []
    : Object.keys(v).map((k) => [k, (v as Record<string, unknown>)[k]]);
  const b = children(actual);
  const byKey = !(actual instanceof Map) && !Array.isArray(actual);
  for (const [i, [k, x]] of children(expected).entries()) {
    const other = byKey ? b.find(([k2]) => k2 === k)?.[1] : b[i]?.[1];
    const m = opaqueDiffers(x, other, seen, `${path}[${show(k)}]`);
    if (m) return m;
  }
  return undefined;
}

/** Asserts that `run` throws a PickleError (not an internal one) or returns. */
function valueOrPickleError<T>(run: () => T, what: string): T | undefined {
  try {
    return run();
  } catch (error) {
    assert.ok(error instanceof PickleError, `${what}: expected a value or a PickleError, got ${(error as Error)?.name}: ${(error as Error)?.message}`);
    assert.doesNotMatch(error.message, /internal error/, what);
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

for (const dialect of ['py3', 'py2'] as const) {
  test(`every server value survives pickle (${dialect}) → unpickle as its documented conversion`, (t) => {
    forSome(t, `pickle round trip ${dialect}`, 20000, 1500, (rng) => {
      const value = serverValue(rng, rng.int(0, 5));
      const data = pickle(value, { dialect });
      const back = unpickle(data);
      const expected = expectedBack(value, dialect);
      const m = mismatch(expected, back) ?? opaqueDiffers(expected, back);
      assert.equal(m, undefined, `${m}\n  value: ${show(value, 300)}\n  pickle: ${data.toString('base64').slice(0, 400)}`);
    });
  });
}

/** A chain of `levels` random containers around a leaf (its own nesting: `leafHeight`). */
function nested(rng: Rng, levels: number): { value: unknown; leafHeight: number } {
  const leaf = rng.pick<unknown>([1, 'x', null, new Float(2), 2n ** 70n, opaqueObject(rng)]);
  // An opaque leaf is a container, with its own levels inside; a scalar is none.
  const leafHeight = leaf instanceof OpaqueValue ? standaloneHeight(leaf)! : -1;
  let v = leaf;
  for (let i = 0; i < levels; i++) {
    const inner = v;
    v = rng.weighted<() => unknown>([
      [3, () => [inner]],
      [2, () => tupleFrom([inner, 1, 2, 3])],
      [1, () => tupleFrom([inner])],
      [1, () => new Map([[rng.int(0, 9), inner]])],
      [2, () => ({ a: inner, b: 0 })],
      [1, () => new PyExceptionValue('builtins', 'KeyError', [inner])],
      [1, () => new Slice(inner, null, null)],
    ])();
  }
  return { value: v, leafHeight };
}

test('nesting: up to the depth limit writes and reads back; deeper fails with a PickleError on both sides', (t) => {
  forSome(t, 'pickle nesting', 300, 1500, (rng) => {
    const levels = rng.chance(0.6) ? rng.int(DEFAULT_MAX_DEPTH - 5, DEFAULT_MAX_DEPTH + 5) : rng.int(0, 60);
    const { value, leafHeight } = nested(rng, levels);
    const deepest = levels + leafHeight;
    const dialect = rng.pick(['py2', 'py3'] as const);
    let data: Buffer;
    try {
      data = pickle(value, { dialect });
    } catch (error) {
      assert.ok(error instanceof PickleError, `writing ${levels} levels threw ${(error as Error).name}: ${(error as Error).message}`);
      assert.ok(deepest > DEFAULT_MAX_DEPTH, `a container ${deepest} levels down must be written: ${error.message.slice(0, 200)}`);
      return;
    }
    assert.ok(deepest <= DEFAULT_MAX_DEPTH, `a container ${deepest} levels down was written`);
    let back: unknown;
    try {
      back = unpickle(data);
    } catch (error) {
      assert.fail(`the writer accepted ${levels} levels but the reader refused them: ${(error as Error).name}: ${(error as Error).message}`);
    }
    assert.equal(mismatch(expectedBack(value, dialect), back), undefined);
  });
});

// ---------------------------------------------------------------------------------------------
// Bytes
// ---------------------------------------------------------------------------------------------

const OPCODES = Object.values(Op);

/** A random mutation of a valid pickle: flips, opcodes, inserts, deletions, huge lengths, splices. */
function mutate(rng: Rng, data: Buffer, corpus: readonly Buffer[]): Buffer {
  let out: Buffer = Buffer.from(data);
  for (let n = rng.int(1, 4); n > 0; n--) {
    const at = rng.below(out.length + 1);
    out = rng.weighted<() => Buffer>([
      [3, () => {
        const b = Buffer.from(out);
        if (b.length) b[Math.min(at, b.length - 1)] = rng.below(256);
        return b;
      }],
      [3, () => {
        const b = Buffer.from(out);
        if (b.length) b[Math.min(at, b.length - 1)] = rng.pick(OPCODES);
        return b;
      }],
      [2, () => Buffer.concat([out.subarray(0, at), Buffer.from(Array.from({ length: rng.int(1, 6) }, () => (rng.chance(0.5) ? rng.pick(OPCODES) : rng.below(256)))), out.subarray(at)])],
      [2, () => Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + rng.int(1, 8)))])],
      [1, () => out.subarray(0, at)],
      [1, () => {
        const len = rng.int(1, 30);
        return Buffer.concat([out.subarray(0, at + len), out.subarray(at, at + len), out.subarray(at + len)]);
      }],
      [1, () => {
        const b = Buffer.from(out);
        const big = rng.pick([0xffffffff, 0x7fffffff, 0x80000000, 0x10000, 4301]);
        if (at + 4 <= b.length) b.writeUInt32LE(big, at);
        return b;
      }],
      [1, () => {
        const other = rng.pick(corpus);
        const from = rng.below(other.length);
        return Buffer.concat([out.subarray(0, at), other.subarray(from, from + rng.int(1, 40)), out.subarray(at)]);
      }],
    ])();
  }
  return out;
}

/** Reads `data`; whatever is read must write back and read again as the same value. */
function readAndRewrite(data: Buffer, what: string): void {
  const started = Date.now();
  const value = valueOrPickleError(() => unpickle(data), what);
  const elapsed = Date.now() - started;
  assert.ok(elapsed < 2000, `${what}: reading ${data.length} bytes took ${elapsed} ms`);
  if (value === undefined) return;
  const again = valueOrPickleError(() => pickle(value, { dialect: 'py3', maxBytes: 1 << 22 }), `${what}, written back`);
  if (again === undefined) return;
  const back = unpickle(again);
  const expected = expectedBack(value, 'py3');
  const m = mismatch(expected, back) ?? opaqueDiffers(expected, back);
  assert.equal(m, undefined, `${what}: read ${show(value, 200)}, which came back different: ${m}`);
}

test('mutated pickles (ours and real Pythons\') read as a value or fail with a PickleError, promptly', (t) => {
  const corpusRng = new Rng(seedFor('pickle corpus'));
  const corpus = [
    ...PYTHON_PICKLES.map((b) => Buffer.from(b, 'base64')),
    ...Array.from({ length: 30 }, (_, i) => pickle(serverValue(corpusRng, 4), { dialect: i % 2 ? 'py2' : 'py3' })),
  ];
  for (const data of corpus) readAndRewrite(data, 'an unmutated pickle');
  forSome(t, 'pickle mutations', 20000, 2500, (rng) => {
    const data = mutate(rng, rng.pick(corpus), corpus);
    readAndRewrite(data, `mutated pickle ${data.toString('base64').slice(0, 600)}`);
  });
});

test('random bytes, and random opcode soups, read as a value or fail with a PickleError', (t) => {
  forSome(t, 'pickle random bytes', 20000, 1500, (rng) => {
    const length = rng.int(0, 64);
    const data = rng.chance(0.5)
      ? rng.bytes(length)
      : Buffer.from([0x80, rng.int(0, 6), ...Array.from({ length }, () => (rng.chance(0.6) ? rng.pick(OPCODES) : rng.below(256))), Op.STOP]);
    readAndRewrite(data, `bytes ${data.toString('base64')}`);
  });
});
