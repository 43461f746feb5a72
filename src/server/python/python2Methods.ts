/**
 * Python 2's proxies call methods Python 3 renamed: each is served as the Python 3 method it
 * means (an old-style slice is a slice; `has_key` is `in`; an iterator's `next` is `__next__`),
 * so the shared objects need know only Python 3's names.
 */

import { Slice } from '../../common/valueTypes';

/** Python 2's method names, each turning its arguments into the Python 3 method and arguments it means. */
export const python2Methods: Readonly<Record<string, (args: unknown[]) => [string, unknown[]]>> = {
  __getslice__: ([i, j]) => ['__getitem__', [new Slice(i, j, null)]],
  __setslice__: ([i, j, sequence]) => ['__setitem__', [new Slice(i, j, null), sequence]],
  __delslice__: ([i, j]) => ['__delitem__', [new Slice(i, j, null)]],
  has_key: (args) => ['__contains__', args],
  next: (args) => ['__next__', args],
};
