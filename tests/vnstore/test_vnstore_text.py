"""The text encoding of values in vnstore's forms: fromstring / tostring."""

import math
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from found.ext.vnstore import server
from found.ext.vnstore.text import ValueEncodingError, fromstring, tostring

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**200), max_value=2**200),
    st.floats(allow_nan=False),
    st.text(),
    st.binary(max_size=64),
    st.uuids(),
)


@given(values)
def test_tostring_then_fromstring_gives_the_value_back(value):
    back = fromstring(tostring(value))
    assert type(back) is type(value)
    assert back == value
    if isinstance(value, float):
        assert math.copysign(1, back) == math.copysign(1, value)


@given(values)
def test_surrounding_whitespace_is_ignored(value):
    assert fromstring("  " + tostring(value) + "\n") == value


def test_server_exposes_the_encoding():
    assert server.fromstring is fromstring and server.tostring is tostring


@pytest.mark.parametrize(
    "text, value",
    [
        ("hello", "hello"),
        ("  hello world ", "hello world"),
        ("#none", None),
        ("#true", True),
        ("#false", False),
        ("#i42", 42),
        ("#i-7", -7),
        ("#f3.14", 3.14),
        ("#f-1e3", -1000.0),
        ("#finf", math.inf),
        ("#uDEADBEEFDEADBEEFDEADBEEFDEADBEEF", uuid.UUID("deadbeef-deadbeef-deadbeef-deadbeef".replace("-", ""))),
        ("#u12345678-1234-5678-1234-567812345678", uuid.UUID("12345678-1234-5678-1234-567812345678")),
        ("#bcafe", b"\xca\xfe"),
        ("#b", b""),
        ('#s"#tag"', "#tag"),
        ('#s""', ""),
        ('#s"  x "', "  x "),
    ],
)
def test_documented_examples(text, value):
    got = fromstring(text)
    assert type(got) is type(value) and got == value


def test_underscore_is_a_fresh_uuid():
    one, two = fromstring("_"), fromstring("_")
    assert isinstance(one, uuid.UUID) and one.version == 4 and one != two


def test_plain_text_is_written_bare_and_odd_text_is_quoted():
    assert tostring("hello") == "hello"
    assert tostring(None) == "#none"
    assert tostring(True) == "#true"
    assert tostring(12) == "#i12"
    assert tostring(uuid.UUID(int=255)) == "#u000000000000000000000000000000FF"
    assert tostring("#hash") == '#s"#hash"'
    assert tostring("_") == '#s"_"'
    assert tostring(" padded") == '#s" padded"'
    assert tostring("two\nlines") == '#s"two\\nlines"'
    assert tostring("") == '#s""'


@pytest.mark.parametrize(
    "text, reason",
    [
        ("#i12x", "#i needs a decimal integer"),
        ("#i", "#i needs a decimal integer"),
        ("#i1_000", "#i needs a decimal integer"),
        ("#fabc", "#f needs a number"),
        ("#f", "#f needs a number"),
        ("#uXYZ", "#u needs a UUID"),
        ("#u1234", "#u needs a UUID"),
        ("#babc", "#b needs an even number of hex digits"),
        ("#bzz", "#b needs an even number of hex digits"),
        ("#s123", "#s needs a quoted string"),
        ('#s"unterminated', "#s needs a quoted string"),
        ("#hashtag", "unknown tag"),
        ("#", "unknown tag"),
    ],
)
def test_malformed_text_raises_a_clear_error(text, reason):
    with pytest.raises(ValueEncodingError, match=reason) as caught:
        fromstring(text)
    assert repr(text) in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_integers_beyond_the_digit_limit_are_refused_clearly():
    with pytest.raises(ValueEncodingError, match="integer too long"):
        fromstring("#i" + "9" * 5000)


def test_wrong_types_are_named():
    with pytest.raises(TypeError, match="text must be str, not bytes"):
        fromstring(b"#i1")
    with pytest.raises(TypeError, match="cannot encode a value of type tuple"):
        tostring((1, 2))
