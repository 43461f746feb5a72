"""
The pickle tests' Python side (Python 2.7 and 3.x). Reads one JSON request per line on stdin,
answers one JSON line on stdout. A request is {"cases": [...]}; each case is one of

  {"op": "dumps", "expr": E}                  -> {"pickles": [base64 (or null) per protocol 0..HIGHEST]}
  {"op": "loads", "data": B64, "expect": E, "stub": bool}
                                              -> {"ok": same(loaded, eval(E)), "repr": ...}
  {"op": "ops", "data": B64}                  -> {"ops": [opcode names], "protos": [...]}

Expressions are evaluated with the names below. "stub" loads with an Unpickler whose find_class
gives RebuildProxy and the proxy classes as stubs, so a proxy is checked without connecting.
"""
import base64
import collections
import datetime
import decimal
import fractions
import io
import json
import math
import os
import pickle
import pickletools
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pickle_usermod  # noqa: E402
from multiprocessing.managers import RemoteError, Token  # noqa: E402

PY2 = sys.version_info[0] == 2
if PY2:
    import Queue as queue
else:
    import queue

ENV = dict(
    Token=Token, RemoteError=RemoteError, queue=queue, threading=threading,
    Fraction=fractions.Fraction, Decimal=decimal.Decimal, date=datetime.date,
    OrderedDict=collections.OrderedDict, Point=pickle_usermod.Point,
    Slotted=pickle_usermod.Slotted, OldStyle=pickle_usermod.OldStyle,
    MyList=pickle_usermod.MyList, MyDict=pickle_usermod.MyDict, KwOnly=pickle_usermod.KwOnly,
    nan=float('nan'), inf=float('inf'), PY2=PY2,
)


def evaluate(expr):
    return eval(expr, dict(ENV))


def same(a, b):
    """Equality that also compares types, all the way down (tuple is not list, int is not float)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a):
            return math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        if len(a) != len(b):
            return False
        if isinstance(a, collections.OrderedDict) and list(a) != list(b):
            return False
        for k, v in a.items():
            match = [k2 for k2 in b if k2 == k]
            if len(match) != 1 or not same(k, match[0]) or not same(v, b[match[0]]):
                return False
        return True
    if isinstance(a, (set, frozenset)):
        return a == b and all(any(same(x, y) for y in b) for x in a)
    if isinstance(a, Token):
        return same((a.typeid, a.address, a.id), (b.typeid, b.address, b.id))
    if isinstance(a, BaseException):
        return same(a.args, b.args)
    return a == b


class Stubbed(pickle.Unpickler):
    def find_class(self, module, name):
        if module == 'multiprocessing.managers' and name == 'RebuildProxy':
            return lambda *args: ('RebuildProxy',) + args
        if module == 'multiprocessing.managers' and name != 'Token':
            return 'stub:' + name
        return pickle.Unpickler.find_class(self, module, name)


def dumps(value, protocol):
    """base64 of the pickle, or None when this protocol cannot pickle the value."""
    try:
        return base64.b64encode(pickle.dumps(value, protocol)).decode('ascii')
    except Exception:
        return None


def run(case):
    op = case['op']
    if op == 'dumps':
        value = evaluate(case['expr'])
        return {'pickles': [dumps(value, p) for p in range(pickle.HIGHEST_PROTOCOL + 1)]}
    data = base64.b64decode(case['data'])
    if op == 'ops':
        ops = [(o.name, arg) for o, arg, pos in pickletools.genops(data)]
        return {'ops': [name for name, arg in ops], 'protos': [arg for name, arg in ops if name == 'PROTO']}
    if op == 'loads':
        try:
            loaded = Stubbed(io.BytesIO(data)).load() if case.get('stub') else pickle.loads(data)
        except Exception as e:
            return {'ok': False, 'error': '%s: %s' % (type(e).__name__, e)}
        expected = evaluate(case['expect'])
        return {'ok': same(loaded, expected), 'repr': repr(loaded)[:500], 'expected': repr(expected)[:500]}
    raise ValueError('unknown op %r' % op)


def main():
    out = sys.stdout
    for line in iter(sys.stdin.readline, ''):
        request = json.loads(line)
        results = []
        for case in request['cases']:
            try:
                results.append(run(case))
            except Exception as e:
                results.append({'error': '%s: %s' % (type(e).__name__, e)})
        out.write(json.dumps({'results': results, 'version': list(sys.version_info[:3]),
                              'highest': pickle.HIGHEST_PROTOCOL}) + '\n')
        out.flush()


if __name__ == '__main__':
    main()
