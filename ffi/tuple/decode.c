/* Tuple decoding: unpack. Every read is bounds-checked against the input;
 * nested tuples use an explicit stack (no C recursion), so no input can
 * crash, hang or read outside the buffer. */
#include "ctuple.h"

#include <string.h>

#define LOCAL_VALUES 64
#define LOCAL_FRAMES 16

/* Decoded values wait on one stack; an open nested tuple is a frame that
 * remembers where its values start and where its 0x05 was. */
typedef struct {
    Py_ssize_t first_value;
    Py_ssize_t offset;
} frame;

typedef struct {
    const unsigned char *data;
    Py_ssize_t len;
    PyObject **values;
    Py_ssize_t nvalues, values_cap;
    frame *frames;
    Py_ssize_t nframes, frames_cap;
    PyObject *local_values[LOCAL_VALUES];
    frame local_frames[LOCAL_FRAMES];
} unpacker;

static void unpacker_init(unpacker *u, const unsigned char *data, Py_ssize_t len) {
    u->data = data;
    u->len = len;
    u->values = u->local_values;
    u->nvalues = 0;
    u->values_cap = LOCAL_VALUES;
    u->frames = u->local_frames;
    u->nframes = 0;
    u->frames_cap = LOCAL_FRAMES;
}

static void unpacker_free(unpacker *u) {
    for (Py_ssize_t i = 0; i < u->nvalues; i++) Py_DECREF(u->values[i]);
    if (u->values != u->local_values) PyMem_Free(u->values);
    if (u->frames != u->local_frames) PyMem_Free(u->frames);
}

/* Doubles the capacity of an array that starts in local storage. */
static int grow_array(void **array, Py_ssize_t *cap, void *local, size_t item_size, Py_ssize_t count) {
    Py_ssize_t new_cap = *cap * 2;
    if ((size_t)new_cap > PY_SSIZE_T_MAX / item_size) {
        PyErr_NoMemory();
        return -1;
    }
    void *grown;
    if (*array == local) {
        grown = PyMem_Malloc((size_t)new_cap * item_size);
        if (grown != NULL) memcpy(grown, local, (size_t)count * item_size);
    } else {
        grown = PyMem_Realloc(*array, (size_t)new_cap * item_size);
    }
    if (grown == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *array = grown;
    *cap = new_cap;
    return 0;
}

/* Takes the reference to `value` (which may be NULL after an error). */
static inline int push_value(unpacker *u, PyObject *value) {
    if (value == NULL) return -1;
    if (u->nvalues == u->values_cap && grow_array((void **)&u->values, &u->values_cap, u->local_values,
                                                  sizeof(PyObject *), u->nvalues) < 0) {
        Py_DECREF(value);
        return -1;
    }
    u->values[u->nvalues++] = value;
    return 0;
}

/* Could `item` be part of a reference cycle? Not if it is no GC type at all
 * (None, bool, int, float, bytes, str) or a tuple already left untracked:
 * CPython's own rule for untracking tuples (_PyTuple_MaybeUntrack). */
static inline int may_hold_cycle(PyObject *item) {
    return PyObject_IS_GC(item) && (!PyTuple_CheckExact(item) || PyObject_GC_IsTracked(item));
}

/* Moves the values from `first` to the top of the stack into a new tuple.
 * A tuple of atomic values is untracked at once: CPython would only do it at
 * the tuple's first collection, after the cyclic GC walked it, and a caller
 * keeping many decoded keys would trigger collection after collection. */
static PyObject *pop_tuple(unpacker *u, Py_ssize_t first) {
    Py_ssize_t n = u->nvalues - first;
    PyObject *result = PyTuple_New(n);
    if (result == NULL) return NULL;
    int atomic = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = u->values[first + i];
        if (atomic && may_hold_cycle(item)) atomic = 0;
        PyTuple_SET_ITEM(result, i, item);
    }
    if (atomic && n > 0) PyObject_GC_UnTrack(result);
    u->nvalues = first;
    return result;
}

static int open_nested(unpacker *u, Py_ssize_t offset) {
    if (u->nframes == u->frames_cap &&
        grow_array((void **)&u->frames, &u->frames_cap, u->local_frames, sizeof(frame), u->nframes) < 0)
        return -1;
    u->frames[u->nframes].first_value = u->nvalues;
    u->frames[u->nframes].offset = offset;
    u->nframes++;
    return 0;
}

static int close_nested(unpacker *u) {
    u->nframes--;
    return push_value(u, pop_tuple(u, u->frames[u->nframes].first_value));
}

static PyObject *fail(const char *what, Py_ssize_t offset) {
    PyErr_Format(PyExc_ValueError, "cannot unpack tuple: %s at offset %zd", what, offset);
    return NULL;
}

/* Payload of the element at `pos` is `size` bytes from `start`: in bounds? */
static inline int available(const unpacker *u, Py_ssize_t start, Py_ssize_t size) {
    return size <= u->len - start;
}

static PyObject *unescape(const unsigned char *src, Py_ssize_t n, Py_ssize_t escapes) {
    PyObject *out = PyBytes_FromStringAndSize(NULL, n - escapes);
    if (out == NULL) return NULL;
    unsigned char *dst = (unsigned char *)PyBytes_AS_STRING(out);
    const unsigned char *end = src + n;
    while (src < end) {
        const unsigned char *z = memchr(src, 0, (size_t)(end - src));
        size_t run = z ? (size_t)(z - src) + 1 : (size_t)(end - src);
        memcpy(dst, src, run);
        dst += run;
        src += run + (z ? 1 : 0); /* skip the 0xff after each 0x00 */
    }
    return out;
}

static int is_ascii(const unsigned char *p, Py_ssize_t n) {
    unsigned char any = 0;
    for (Py_ssize_t i = 0; i < n; i++) any |= p[i];
    return any < 0x80;
}

/* bytes or str at `pos`: escaped payload up to an unescaped 0x00. */
static PyObject *decode_escaped(unpacker *u, Py_ssize_t pos, Py_ssize_t *next) {
    const unsigned char *start = u->data + pos + 1;
    const unsigned char *end = u->data + u->len;
    const unsigned char *scan = start;
    Py_ssize_t escapes = 0;
    const unsigned char *terminator;
    for (;;) {
        terminator = memchr(scan, 0, (size_t)(end - scan));
        if (terminator == NULL) return fail("unterminated bytes/str", pos);
        if (terminator + 1 < end && terminator[1] == ESCAPE_BYTE) {
            escapes++;
            scan = terminator + 2;
        } else {
            break;
        }
    }
    Py_ssize_t n = terminator - start;
    *next = pos + 1 + n + 1;
    PyObject *raw;
    if (u->data[pos] == CODE_BYTES)
        return escapes ? unescape(start, n, escapes) : PyBytes_FromStringAndSize((const char *)start, n);
    if (escapes == 0 && is_ascii(start, n)) {
        PyObject *s = PyUnicode_New(n, 127);
        if (s != NULL) memcpy(PyUnicode_DATA(s), start, (size_t)n);
        return s;
    }
    if (escapes == 0)
        raw = NULL;
    else if ((raw = unescape(start, n, escapes)) == NULL)
        return NULL;
    const char *text = raw ? PyBytes_AS_STRING(raw) : (const char *)start;
    Py_ssize_t text_len = raw ? PyBytes_GET_SIZE(raw) : n;
    PyObject *s = PyUnicode_DecodeUTF8(text, text_len, "strict");
    Py_XDECREF(raw);
    if (s == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
        PyErr_Clear();
        return fail("invalid UTF-8 in str", pos);
    }
    return s;
}

static PyObject *decode_small_int(unpacker *u, Py_ssize_t pos, Py_ssize_t *next) {
    int code = u->data[pos];
    int negative = code < CODE_INT_ZERO;
    Py_ssize_t n = negative ? CODE_INT_ZERO - code : code - CODE_INT_ZERO;
    if (!available(u, pos + 1, n)) return fail("truncated int", pos);
    *next = pos + 1 + n;
    uint64_t raw = ct_get_be(u->data + pos + 1, (size_t)n);
    if (!negative) return PyLong_FromUnsignedLongLong(raw);
    uint64_t mask = n == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * n)) - 1;
    uint64_t magnitude = mask - raw;
    if (magnitude <= (UINT64_C(1) << 63)) return PyLong_FromLongLong((long long)(0 - magnitude));
    PyObject *positive = PyLong_FromUnsignedLongLong(magnitude);
    if (positive == NULL) return NULL;
    PyObject *result = PyNumber_Negative(positive);
    Py_DECREF(positive);
    return result;
}

static PyObject *decode_big_int(unpacker *u, Py_ssize_t pos, Py_ssize_t *next) {
    int negative = u->data[pos] == CODE_NEG_BIG_INT;
    if (!available(u, pos + 1, 1)) return fail("truncated int", pos);
    Py_ssize_t n = negative ? u->data[pos + 1] ^ 0xff : u->data[pos + 1];
    if (!available(u, pos + 2, n)) return fail("truncated int", pos);
    *next = pos + 2 + n;
    const unsigned char *payload = u->data + pos + 2;
    if (!negative) return ct_long_from_be(payload, (size_t)n);
    /* The payload is the one's complement of the magnitude. */
    unsigned char magnitude_bytes[MAX_BIG_INT_BYTES];
    for (Py_ssize_t i = 0; i < n; i++) magnitude_bytes[i] = (unsigned char)~payload[i];
    PyObject *magnitude = ct_long_from_be(magnitude_bytes, (size_t)n);
    if (magnitude == NULL) return NULL;
    PyObject *result = PyNumber_Negative(magnitude);
    Py_DECREF(magnitude);
    return result;
}

static PyObject *decode_double(unpacker *u, Py_ssize_t pos, Py_ssize_t *next) {
    if (!available(u, pos + 1, 8)) return fail("truncated double", pos);
    *next = pos + 9;
    uint64_t bits = ct_restore_double(ct_get_be(u->data + pos + 1, 8));
    double d;
    memcpy(&d, &bits, sizeof d);
    return PyFloat_FromDouble(d);
}

/* A new, empty instance of one of the __slots__ classes. */
static PyObject *new_instance(PyTypeObject *type) { return type->tp_alloc(type, 0); }

static PyObject *decode_single(unpacker *u, Py_ssize_t pos, Py_ssize_t *next) {
    if (!available(u, pos + 1, 4)) return fail("truncated float", pos);
    *next = pos + 5;
    uint32_t bits = ct_restore_float((uint32_t)ct_get_be(u->data + pos + 1, 4));
    float f;
    memcpy(&f, &bits, sizeof f);
    PyObject *obj = new_instance(ct.single_float_type);
    if (obj != NULL && ct_slot_init(obj, &ct.sf_value, PyFloat_FromDouble((double)f)) < 0) Py_CLEAR(obj);
    return obj;
}

static PyObject *decode_uuid(unpacker *u, Py_ssize_t pos, Py_ssize_t *next) {
    if (!available(u, pos + 1, UUID_LEN)) return fail("truncated UUID", pos);
    *next = pos + 1 + UUID_LEN;
    if (ct_need_uuid() < 0) return NULL;
    PyObject *obj = new_instance(ct.uuid_type);
    if (obj == NULL) return NULL;
    Py_INCREF(ct.safe_uuid_unknown);
    if (ct_slot_init(obj, &ct.uuid_int, ct_long_from_be(u->data + pos + 1, UUID_LEN)) < 0 ||
        ct_slot_init(obj, &ct.uuid_is_safe, ct.safe_uuid_unknown) < 0)
        Py_CLEAR(obj);
    return obj;
}

static PyObject *decode_versionstamp(unpacker *u, Py_ssize_t pos, Py_ssize_t *next) {
    if (!available(u, pos + 1, VERSIONSTAMP_LEN)) return fail("truncated Versionstamp", pos);
    *next = pos + 1 + VERSIONSTAMP_LEN;
    const unsigned char *p = u->data + pos + 1;
    int incomplete = 1;
    for (int i = 0; i < TR_VERSION_LEN; i++) incomplete &= p[i] == 0xff;
    PyObject *tr;
    if (incomplete) {
        tr = Py_None;
        Py_INCREF(tr);
    } else {
        tr = PyBytes_FromStringAndSize((const char *)p, TR_VERSION_LEN);
    }
    PyObject *obj = new_instance(ct.versionstamp_type);
    if (obj == NULL) {
        Py_XDECREF(tr);
        return NULL;
    }
    long user_version = ((long)p[TR_VERSION_LEN] << 8) | p[TR_VERSION_LEN + 1];
    if (ct_slot_init(obj, &ct.vs_tr_version, tr) < 0 ||
        ct_slot_init(obj, &ct.vs_user_version, PyLong_FromLong(user_version)) < 0)
        Py_CLEAR(obj);
    return obj;
}

/* The element at `pos` other than None and nested tuples. */
static PyObject *decode_scalar(unpacker *u, Py_ssize_t pos, Py_ssize_t *next) {
    int code = u->data[pos];
    if (code == CODE_BYTES || code == CODE_STRING) return decode_escaped(u, pos, next);
    if (code > CODE_NEG_BIG_INT && code < CODE_POS_BIG_INT) return decode_small_int(u, pos, next);
    switch (code) {
    case CODE_NEG_BIG_INT:
    case CODE_POS_BIG_INT: return decode_big_int(u, pos, next);
    case CODE_DOUBLE: return decode_double(u, pos, next);
    case CODE_FLOAT: return decode_single(u, pos, next);
    case CODE_FALSE:
    case CODE_TRUE: *next = pos + 1; return PyBool_FromLong(code == CODE_TRUE);
    case CODE_UUID: return decode_uuid(u, pos, next);
    case CODE_VERSIONSTAMP: return decode_versionstamp(u, pos, next);
    default:
        PyErr_Format(PyExc_ValueError, "cannot unpack tuple: unknown type code 0x%02x at offset %zd", code,
                     pos);
        return NULL;
    }
}

static PyObject *decode_all(unpacker *u, Py_ssize_t pos) {
    while (pos < u->len) {
        int code = u->data[pos];
        int rc;
        if (code == CODE_NULL) {
            if (u->nframes == 0) {
                Py_INCREF(Py_None);
                rc = push_value(u, Py_None);
                pos += 1;
            } else if (pos + 1 < u->len && u->data[pos + 1] == ESCAPE_BYTE) {
                Py_INCREF(Py_None);
                rc = push_value(u, Py_None);
                pos += 2;
            } else {
                rc = close_nested(u);
                pos += 1;
            }
        } else if (code == CODE_NESTED) {
            rc = open_nested(u, pos);
            pos += 1;
        } else {
            Py_ssize_t next = pos;
            rc = push_value(u, decode_scalar(u, pos, &next));
            pos = next;
        }
        if (rc < 0) return NULL;
    }
    if (u->nframes > 0) return fail("unterminated nested tuple", u->frames[u->nframes - 1].offset);
    return pop_tuple(u, 0);
}

static PyObject *unpack_buffer(const unsigned char *data, Py_ssize_t len, PyObject *prefix_len) {
    Py_ssize_t start = 0;
    if (prefix_len != NULL) {
        if (!PyLong_Check(prefix_len) || PyBool_Check(prefix_len)) {
            PyErr_Format(PyExc_TypeError, "prefix_len must be int, not %.200s", Py_TYPE(prefix_len)->tp_name);
            return NULL;
        }
        start = PyLong_AsSsize_t(prefix_len);
        if (start == -1 && PyErr_Occurred()) {
            if (!PyErr_ExceptionMatches(PyExc_OverflowError)) return NULL;
            PyErr_Clear();
            start = PY_SSIZE_T_MAX;
        }
        if (start < 0 || start > len) {
            PyErr_Format(PyExc_ValueError, "prefix_len %R is outside the key's %zd bytes", prefix_len, len);
            return NULL;
        }
    }
    unpacker u;
    unpacker_init(&u, data, len);
    PyObject *result = decode_all(&u, start);
    unpacker_free(&u);
    return result;
}

PyObject *ct_unpack(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
    (void)self;
    static const char *const names[] = {"key", "prefix_len"};
    PyObject *parsed[2] = {NULL, NULL};
    if (ct_parse_args("unpack", args, nargs, kwnames, names, 2, 1, parsed) < 0) return NULL;
    PyObject *key = parsed[0];
    if (PyBytes_Check(key))
        return unpack_buffer((const unsigned char *)PyBytes_AS_STRING(key), PyBytes_GET_SIZE(key), parsed[1]);
    Py_buffer view;
    if (PyUnicode_Check(key) || !PyObject_CheckBuffer(key) ||
        PyObject_GetBuffer(key, &view, PyBUF_SIMPLE) < 0) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "unpack() needs bytes, not %.200s", Py_TYPE(key)->tp_name);
        return NULL;
    }
    PyObject *result = unpack_buffer(view.buf, view.len, parsed[1]);
    PyBuffer_Release(&view);
    return result;
}
