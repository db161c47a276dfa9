"""The plain-data codec: the only form in which values cross from the candidate's process to the trusted
side -- the test driver (``driver.py``) and the supervisor reading a call-kind outcome frame
(``outcomes.py``) -- plus the length-prefixed frames they speak.

Standalone on purpose (stdlib ``json`` and ``struct`` only, never imports cskit): the sandbox ships
this file's code into its processes next to the harness, and the host imports it for its own tests.

What crosses: ``None, bool, int, float, complex, str, bytes, list, tuple, dict, set, frozenset``,
nested, as a JSON text in which every container is a tagged list (``["l", ...]``, ``["t", ...]``,
``["d", k1, v1, ...]``, ``["s", ...]``, ``["f", ...]``, ``["c", re, im]``, ``["b", hex]``, and
``["I", hex]`` for integers beyond 2**53), and the built-in classes ``int, str, float, ...``
themselves (``["T", "int"]``). Subclasses of these types (``namedtuple``, ``Counter``,
``OrderedDict``, ``IntEnum``...) are sent as their base type.

Guaranteed on the decoding (trusted) side: :func:`decode` builds only the types above (and
returns built-in classes by name from a fixed table), calls no
function or method named by the data and constructs no class of the sender's choosing; its input
is capped in bytes (``max_bytes``), nesting depth (``MAX_DEPTH``) and number of nodes
(``MAX_NODES``). Anything else -- malformed JSON, unknown tags, JSON objects, unhashable set
members or dict keys, oversized input -- raises :class:`CodecError` (a ``ValueError``), never
anything the caller has to anticipate.

Not guaranteed: identity and aliasing (two references to one list arrive as two lists), mutation
(a callee mutating its arguments is not seen by the caller), and exotic floats' payload bits (NaN
is NaN). :func:`encode` on the candidate's side runs in the candidate's interpreter, so what it
sends is whatever the candidate chooses -- which is why only plain data can come out of decoding.
"""
import json
import os
import struct

MAX_DEPTH = 200
MAX_NODES = 2_000_000
MAX_BYTES = 64 << 20
SMALL_INT = 1 << 53
# the built-in classes themselves may cross as values (MBPP 533 passes ``int``/``str``/``float``)
BUILTIN_TYPES = {t.__name__: t for t in (bool, int, float, complex, str, bytes, list, tuple, dict, set, frozenset)}
FRAME_HEADER = struct.Struct(">I")

# bound now: a later monkeypatch of json.dumps/loads in the same interpreter does not reach the codec
JSON_DUMPS = json.JSONEncoder(ensure_ascii=True, allow_nan=True, separators=(",", ":")).encode
JSON_LOADS = json.JSONDecoder().decode


class CodecError(ValueError):
    """A value cannot be encoded, or a text is not a valid encoding of plain data."""


def to_tree(v, depth=0, counter=None):
    """``v`` as the JSON-able tagged tree (raises :class:`CodecError` on anything not plain data)."""
    if counter is None:
        counter = [0]
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise CodecError("value has too many parts")
    if depth > MAX_DEPTH:
        raise CodecError("value is nested too deeply")
    t = type(v)
    if v is None or t is bool or t is str or t is float:
        return v
    if t is int:
        return v if -SMALL_INT < v < SMALL_INT else ["I", format(v, "x")]
    d = depth + 1
    if t is list or t is tuple:
        return ["l" if t is list else "t", *[to_tree(x, d, counter) for x in v]]
    if t is dict:
        out = ["d"]
        for k, x in v.items():
            out.append(to_tree(k, d, counter))
            out.append(to_tree(x, d, counter))
        return out
    if t is set or t is frozenset:
        return ["s" if t is set else "f", *[to_tree(x, d, counter) for x in v]]
    if t is complex:
        return ["c", v.real, v.imag]
    if t is bytes:
        return ["b", v.hex()]
    if t is type and BUILTIN_TYPES.get(getattr(v, "__name__", None)) is v:
        return ["T", v.__name__]
    # subclasses travel as their base type (bool cannot be subclassed)
    if isinstance(v, bool):
        return bool(v)
    if isinstance(v, int):
        return to_tree(int(v), depth, counter)
    if isinstance(v, float):
        return float(v)
    if isinstance(v, str):
        return str(v)
    if isinstance(v, bytes):
        return ["b", bytes(v).hex()]
    if isinstance(v, tuple):
        return to_tree(tuple(v), depth, counter)
    if isinstance(v, list):
        return to_tree(list(v), depth, counter)
    if isinstance(v, dict):
        return to_tree(dict(v), depth, counter)
    if isinstance(v, frozenset):
        return to_tree(frozenset(v), depth, counter)
    if isinstance(v, set):
        return to_tree(set(v), depth, counter)
    raise CodecError("not plain data: %s" % type_name(v))


def type_name(v):
    """A printable, length-capped name of ``v``'s type."""
    try:
        n = type(v).__name__
        return "".join(c for c in str(n) if c.isalnum() or c in "._")[:60] or "object"
    except BaseException:
        return "object"


def encode(v):
    """The JSON text of ``v`` (plain data only)."""
    try:
        return JSON_DUMPS(to_tree(v))
    except CodecError:
        raise
    except (RecursionError, MemoryError, ValueError, TypeError, OverflowError) as e:
        raise CodecError("cannot encode: %s" % type(e).__name__)


def from_tree(x, depth, counter):
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise CodecError("too many parts")
    if depth > MAX_DEPTH:
        raise CodecError("nested too deeply")
    t = type(x)
    if x is None or t is bool or t is str or t is float:
        return x
    if t is int:
        if -SMALL_INT < x < SMALL_INT:
            return x
        raise CodecError("bare integer out of range")
    if t is not list or not x or type(x[0]) is not str:
        raise CodecError("not a tagged value")
    tag, items, d = x[0], x[1:], depth + 1
    if tag == "l":
        return [from_tree(i, d, counter) for i in items]
    if tag == "t":
        return tuple(from_tree(i, d, counter) for i in items)
    if tag == "d":
        if len(items) % 2:
            raise CodecError("odd dict")
        out = {}
        for j in range(0, len(items), 2):
            out[from_tree(items[j], d, counter)] = from_tree(items[j + 1], d, counter)
        return out
    if tag == "s":
        return {from_tree(i, d, counter) for i in items}
    if tag == "f":
        return frozenset(from_tree(i, d, counter) for i in items)
    if tag == "c" and len(items) == 2 and all(type(i) in (int, float) for i in items):
        return complex(float(items[0]), float(items[1]))
    if tag == "b" and len(items) == 1 and type(items[0]) is str:
        return bytes.fromhex(items[0])
    if tag == "T" and len(items) == 1 and type(items[0]) is str and items[0] in BUILTIN_TYPES:
        return BUILTIN_TYPES[items[0]]
    if tag == "I" and len(items) == 1 and type(items[0]) is str and 0 < len(items[0]) <= 1 << 20:
        s = items[0]
        body = s[1:] if s[:1] == "-" else s
        if not body or any(c not in "0123456789abcdef" for c in body):
            raise CodecError("bad integer")
        return int(s, 16)
    raise CodecError("unknown tag")


def decode(text, max_bytes=MAX_BYTES):
    """The plain value encoded in ``text`` (``str`` or ``bytes``); :class:`CodecError` otherwise."""
    try:
        if isinstance(text, (bytes, bytearray)):
            if len(text) > max_bytes:
                raise CodecError("encoded value too large")
            text = bytes(text).decode("utf-8")
        if type(text) is not str:
            raise CodecError("not a text")
        if len(text) > max_bytes:
            raise CodecError("encoded value too large")
        return from_tree(JSON_LOADS(text), 0, [0])
    except CodecError:
        raise
    except (ValueError, TypeError, RecursionError, MemoryError, OverflowError, UnicodeError) as e:
        raise CodecError("malformed value: %s" % type(e).__name__)


# ---------------------------------------------------------------- frames over a stream socket/pipe
def send_frame(fd_write, payload):
    """Write one frame (4-byte big-endian length + ``payload`` bytes) with ``fd_write`` (``os.write``-like
    callable bound to a descriptor, or a socket's ``sendall``)."""
    data = FRAME_HEADER.pack(len(payload)) + payload
    fd_write(data)


def fd_writer(fd):
    """A ``write(data)`` that writes all of ``data`` to descriptor ``fd``."""
    def write(data):
        view = memoryview(data)
        while len(view):
            view = view[os.write(fd, view):]
    return write


def recv_exact(read, n):
    """``n`` bytes from ``read(k)`` (``b''`` at EOF before ``n`` bytes arrived)."""
    chunks, got = [], 0
    while got < n:
        b = read(min(n - got, 1 << 20))
        if not b:
            return b""
        chunks.append(b)
        got += len(b)
    return b"".join(chunks)


def recv_frame(read, max_bytes=MAX_BYTES):
    """One frame's payload; ``None`` at EOF; :class:`CodecError` for an oversized or cut frame."""
    head = recv_exact(read, FRAME_HEADER.size)
    if not head:
        return None
    (n,) = FRAME_HEADER.unpack(head)
    if n > max_bytes:
        raise CodecError("frame too large (%d bytes)" % n)
    body = recv_exact(read, n) if n else b""
    if n and not body:
        raise CodecError("frame cut short")
    return body
