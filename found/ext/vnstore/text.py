"""The compact text encoding of tuple values used by vnstore's web forms.

=============  ==========  ===============================================
text           value       note
=============  ==========  ===============================================
``hello``      str         any text that does not start with ``#`` and is
                           not ``_``; surrounding whitespace is dropped
``#s"…"``      str         a JSON string literal: any str, exactly
``_``          UUID        a fresh uuid4 (reading only)
``#none``      None
``#true``      True
``#false``     False
``#u<hex>``    UUID        32 hex digits (dashes allowed)
``#i<int>``    int         decimal, optional sign
``#f<float>``  float       Python float syntax, ``inf`` and ``nan`` included
``#b<hex>``    bytes       even number of hex digits
=============  ==========  ===============================================

``fromstring(tostring(v)) == v`` for every value of those types (NaN aside,
which equals nothing).
"""

import json
import re
import uuid
from typing import Any

__all__ = ["ValueEncodingError", "fromstring", "tostring"]

_INTEGER = re.compile(r"[+-]?[0-9]+\Z")
_FLOAT = re.compile(r"[+-]?([0-9]+\.?[0-9]*([eE][+-]?[0-9]+)?|\.[0-9]+([eE][+-]?[0-9]+)?|inf|infinity|nan)\Z", re.I)
_HEX = re.compile(r"([0-9a-fA-F]{2})*\Z")
_UUID = re.compile(r"[0-9a-fA-F]{32}\Z")


class ValueEncodingError(ValueError):
    """Text that is not a valid encoded value; the message says why."""


def _fail(text, why):
    raise ValueEncodingError("{!r} is not a valid value: {}".format(text, why))


def _uuid(text, body):
    digits = body.replace("-", "")
    if not _UUID.match(digits):
        _fail(text, "#u needs a UUID as 32 hex digits")
    return uuid.UUID(hex=digits)


def _int(text, body):
    if not _INTEGER.match(body):
        _fail(text, "#i needs a decimal integer such as #i42")
    try:
        return int(body)
    except ValueError as exc:  # beyond Python's digit limit for int()
        _fail(text, "#i integer too long: {}".format(exc))


def _float(text, body):
    if not _FLOAT.match(body):
        _fail(text, "#f needs a number such as #f3.14")
    return float(body)


def _bytes(text, body):
    if not _HEX.match(body):
        _fail(text, "#b needs an even number of hex digits")
    return bytes.fromhex(body)


def _str(text, body):
    try:
        out = json.loads(body)
    except ValueError:
        out = None
    if not isinstance(out, str):
        _fail(text, '#s needs a quoted string such as #s"#tag"')
    return out


_CONSTANTS = {"#none": None, "#true": True, "#false": False}
_TAGS = {"#u": _uuid, "#i": _int, "#f": _float, "#b": _bytes, "#s": _str}


def fromstring(text: str) -> Any:
    """Decode ``text`` (see the module's table) into a Python value. Raises
    ValueEncodingError, naming the problem, for malformed text."""
    if not isinstance(text, str):
        raise TypeError("text must be str, not {}".format(type(text).__name__))
    text = text.strip()
    if text == "_":
        return uuid.uuid4()
    if not text.startswith("#"):
        return text
    if text in _CONSTANTS:
        return _CONSTANTS[text]
    decode = _TAGS.get(text[:2])
    if decode is None:
        _fail(text, 'unknown tag; write #s"…" for a text starting with #')
    return decode(text, text[2:])


def _plain(value):
    """True when str ``value`` reads back as itself without a tag."""
    return value != "" and value == value.strip() and value != "_" and not value.startswith("#") and value.isprintable()


def tostring(value: Any) -> str:
    """Encode ``value`` (str, None, bool, UUID, int, float or bytes) as text
    that fromstring reads back. Raises TypeError for other types."""
    if value is None or isinstance(value, bool):
        return {None: "#none", True: "#true", False: "#false"}[value]
    if isinstance(value, uuid.UUID):
        return "#u" + value.hex.upper()
    if isinstance(value, int):
        return "#i{}".format(value)
    if isinstance(value, float):
        return "#f" + repr(value)
    if isinstance(value, bytes):
        return "#b" + value.hex()
    if isinstance(value, str):
        return value if _plain(value) else "#s" + json.dumps(value, ensure_ascii=False)
    raise TypeError("tostring cannot encode a value of type {}".format(type(value).__name__))
