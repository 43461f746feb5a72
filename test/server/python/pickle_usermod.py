"""Classes the pickle tests pickle from a module file, as a user's would be (Python 2 and 3)."""


class _Eq(object):
    def __eq__(self, other):
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __ne__(self, other):
        return not self == other

    __hash__ = None

    def __repr__(self):
        return '%s(%r)' % (type(self).__name__, self.__dict__)


class Point(_Eq):
    def __init__(self, x, y):
        self.x = x
        self.y = y


class Slotted(object):
    """Pickled with a (None, slots) state."""
    __slots__ = ('a', 'b')

    def __init__(self, a, b):
        self.a = a
        self.b = b

    def __eq__(self, other):
        return type(self) is type(other) and (self.a, self.b) == (other.a, other.b)

    def __ne__(self, other):
        return not self == other

    __hash__ = None


class OldStyle:
    """An old-style class in Python 2: pickled with OBJ (INST in protocol 0)."""

    def __init__(self, v):
        self.v = v

    def __eq__(self, other):
        return type(self) is type(other) and self.__class__ is other.__class__ and self.v == other.v

    def __ne__(self, other):
        return not self == other


class MyList(list):
    """Its items come as APPENDS on the object."""


class MyDict(dict):
    """Its items come as SETITEMS on the object."""


class KwOnly(_Eq):
    """Made with keyword arguments: NEWOBJ_EX in protocol 4 and later."""

    def __new__(cls, *args, **kwargs):
        self = object.__new__(cls)
        self.kw = kwargs.get('kw')
        return self

    def __getnewargs_ex__(self):
        return ((), {'kw': self.kw})
