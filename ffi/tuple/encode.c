/* Tuple encoding: pack, pack_with_versionstamp, has_incomplete_versionstamp. */
#include "ctuple.h"

#include <math.h>
#include <string.h>

/* The output grows in a stack buffer first: most keys are short, so the only
 * heap allocation is the final bytes object. */
#define LOCAL_CAPACITY 512

typedef struct {
    unsigned char *data;
    size_t len;
    size_t cap;
    Py_ssize_t version_pos; /* offset of the incomplete versionstamp, or -1 */
    unsigned char local[LOCAL_CAPACITY];
} packer;

static void packer_init(packer *p) {
    p->data = p->local;
    p->len = 0;
    p->cap = LOCAL_CAPACITY;
    p->version_pos = -1;
}

static void packer_free(packer *p) {
    if (p->data != p->local) PyMem_Free(p->data);
}

static int grow(packer *p, size_t extra) {
    if (extra > (size_t)PY_SSIZE_T_MAX - p->len) {
        PyErr_NoMemory();
        return -1;
    }
    size_t need = p->len + extra;
    size_t cap = p->cap * 2;
    if (cap < need) cap = need;
    unsigned char *data;
    if (p->data == p->local) {
        data = PyMem_Malloc(cap);
        if (data != NULL) memcpy(data, p->local, p->len);
    } else {
        data = PyMem_Realloc(p->data, cap);
    }
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    p->data = data;
    p->cap = cap;
    return 0;
}

/* Room for `extra` more bytes; returns where they go, or NULL on error. */
static inline unsigned char *reserve(packer *p, size_t extra) {
    if (p->cap - p->len < extra && grow(p, extra) < 0) return NULL;
    return p->data + p->len;
}

static inline int put_byte(packer *p, unsigned char byte) {
    unsigned char *dst = reserve(p, 1);
    if (dst == NULL) return -1;
    *dst = byte;
    p->len++;
    return 0;
}

/* code, payload with each 0x00 written 0x00 0xff, terminator 0x00 */
static int put_escaped(packer *p, unsigned char code, const char *src, size_t n) {
    const char *zero = memchr(src, 0, n);
    size_t zeros = 0;
    for (const char *z = zero; z != NULL; z = memchr(z + 1, 0, (size_t)(src + n - z - 1))) zeros++;
    unsigned char *dst = reserve(p, n + zeros + 2);
    if (dst == NULL) return -1;
    *dst++ = code;
    if (zeros == 0) {
        memcpy(dst, src, n);
        dst += n;
    } else {
        const char *end = src + n;
        while (src < end) {
            const char *z = memchr(src, 0, (size_t)(end - src));
            size_t run = z ? (size_t)(z - src) : (size_t)(end - src);
            memcpy(dst, src, run);
            dst += run;
            src += run;
            if (z) {
                *dst++ = 0x00;
                *dst++ = ESCAPE_BYTE;
                src++;
            }
        }
    }
    *dst++ = 0x00;
    p->len = (size_t)(dst - p->data);
    return 0;
}

static inline int byte_length(uint64_t magnitude) { return (64 - __builtin_clzll(magnitude) + 7) / 8; }

/* A nonzero int whose magnitude is below 2**64 - 1: 1 to 8 bytes. */
static int put_small_int(packer *p, uint64_t magnitude, int negative) {
    unsigned char *dst = reserve(p, 9);
    if (dst == NULL) return -1;
    int n = byte_length(magnitude);
    uint64_t payload = negative ? ~magnitude : magnitude;
    dst[0] = (unsigned char)(negative ? CODE_INT_ZERO - n : CODE_INT_ZERO + n);
    ct_put_be64(dst + 1, payload << (64 - 8 * n));
    p->len += 1 + (size_t)n;
    return 0;
}

/* Magnitude of `bits` bits, at least 2**64 - 1: a length byte then the
 * magnitude (negative: its one's complement, and the length inverted). */
static int put_big_int(packer *p, PyObject *value, int negative, size_t bits) {
    size_t n = (bits + 7) / 8;
    if (n > MAX_BIG_INT_BYTES) {
        PyErr_Format(PyExc_ValueError, "integer too large to pack: %zu bytes (at most 255)", n);
        return -1;
    }
    unsigned char *dst = reserve(p, n + 2);
    if (dst == NULL) return -1;
    if (!negative) {
        if (ct_long_as_bytes(value, dst + 2, n, 0, 0) < 0) return -1;
        dst[1] = (unsigned char)n;
    } else {
        /* n+1 bytes of two's complement: a sign byte, then 2**(8n) + value,
         * which is one more than the one's complement wanted. */
        if (ct_long_as_bytes(value, dst + 1, n + 1, 0, 1) < 0) return -1;
        for (size_t i = n + 2; i-- > 2;)
            if (dst[i]-- != 0) break;
        dst[1] = (unsigned char)(n ^ 0xff);
    }
    dst[0] = negative ? CODE_NEG_BIG_INT : CODE_POS_BIG_INT;
    p->len += n + 2;
    return 0;
}

static int put_int(packer *p, PyObject *value) {
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (v == -1 && PyErr_Occurred()) return -1;
    if (!overflow) {
        if (v == 0) return put_byte(p, CODE_INT_ZERO);
        if (v > 0) return put_small_int(p, (uint64_t)v, 0);
        return put_small_int(p, (uint64_t)0 - (uint64_t)v, 1);
    }
    /* Beyond 64-bit signed: magnitudes up to 2**64 - 2 still take 8 bytes. */
    int negative = overflow < 0;
    size_t bits = ct_long_bit_length(value);
    if (bits == (size_t)-1 && PyErr_Occurred()) return -1;
    if (bits <= 64) {
        unsigned char raw[16];
        if (ct_long_as_bytes(value, raw, sizeof raw, 1, 1) < 0) return -1;
        uint64_t low = 0;
        for (int i = 7; i >= 0; i--) low = (low << 8) | raw[i];
        uint64_t magnitude = negative ? (uint64_t)0 - low : low;
        if (magnitude != UINT64_MAX) return put_small_int(p, magnitude, negative);
    }
    return put_big_int(p, value, negative, bits);
}

static int put_double(packer *p, double d) {
    unsigned char *dst = reserve(p, 9);
    if (dst == NULL) return -1;
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    dst[0] = CODE_DOUBLE;
    ct_put_be64(dst + 1, ct_order_double(bits));
    p->len += 9;
    return 0;
}

static int put_single(packer *p, PyObject *obj, int exact) {
    PyObject *value = ct_slot_get(obj, &ct.sf_value, exact);
    if (value == NULL) return -1;
    double d = PyFloat_AsDouble(value);
    Py_DECREF(value);
    if (d == -1.0 && PyErr_Occurred()) return -1;
    float f = (float)d;
    if (isinf(f) && !isinf(d)) {
        PyErr_SetString(PyExc_OverflowError, "SingleFloat value too large for a 32-bit float");
        return -1;
    }
    unsigned char *dst = reserve(p, 5);
    if (dst == NULL) return -1;
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    dst[0] = CODE_FLOAT;
    ct_put_be32(dst + 1, ct_order_float(bits));
    p->len += 5;
    return 0;
}

static int put_uuid(packer *p, PyObject *obj) {
    PyObject *value = ct_slot_get(obj, &ct.uuid_int, Py_IS_TYPE(obj, ct.uuid_type));
    if (value == NULL) return -1;
    int rc = -1;
    unsigned char *dst = reserve(p, 1 + UUID_LEN);
    if (dst != NULL && PyLong_Check(value) && ct_long_as_bytes(value, dst + 1, UUID_LEN, 0, 0) == 0) {
        dst[0] = CODE_UUID;
        p->len += 1 + UUID_LEN;
        rc = 0;
    } else if (dst != NULL && !PyErr_Occurred()) {
        PyErr_Format(PyExc_TypeError, "UUID.int must be int, not %.100s", Py_TYPE(value)->tp_name);
    }
    Py_DECREF(value);
    return rc;
}

/* Reads and checks the two fields of a Versionstamp; tr_version may be None. */
static int read_versionstamp(PyObject *obj, PyObject **tr_version, long *user_version) {
    int exact = Py_IS_TYPE(obj, ct.versionstamp_type);
    PyObject *tr = ct_slot_get(obj, &ct.vs_tr_version, exact);
    if (tr == NULL) return -1;
    if (tr != Py_None && !(PyBytes_Check(tr) && PyBytes_GET_SIZE(tr) == TR_VERSION_LEN)) {
        PyErr_Format(PyExc_ValueError, "Versionstamp.tr_version must be 10 bytes or None, not %.100s",
                     Py_TYPE(tr)->tp_name);
        Py_DECREF(tr);
        return -1;
    }
    PyObject *user = ct_slot_get(obj, &ct.vs_user_version, exact);
    long uv = -1;
    if (user != NULL && PyLong_Check(user)) uv = PyLong_AsLong(user);
    Py_XDECREF(user);
    if (uv < 0 || uv > 0xffff) {
        if (!PyErr_Occurred() || PyErr_ExceptionMatches(PyExc_OverflowError)) {
            PyErr_Clear();
            PyErr_SetString(PyExc_ValueError, "Versionstamp.user_version must be an int in [0, 65535]");
        }
        Py_DECREF(tr);
        return -1;
    }
    *tr_version = tr;
    *user_version = uv;
    return 0;
}

static int put_versionstamp(packer *p, PyObject *obj) {
    PyObject *tr;
    long uv;
    if (read_versionstamp(obj, &tr, &uv) < 0) return -1;
    int rc = -1;
    unsigned char *dst = reserve(p, 1 + VERSIONSTAMP_LEN);
    if (dst == NULL) goto done;
    if (tr == Py_None) {
        if (p->version_pos >= 0) {
            PyErr_SetString(PyExc_ValueError, "tuple contains more than one incomplete Versionstamp");
            goto done;
        }
        p->version_pos = (Py_ssize_t)p->len + 1;
        memset(dst + 1, 0xff, TR_VERSION_LEN);
    } else {
        memcpy(dst + 1, PyBytes_AS_STRING(tr), TR_VERSION_LEN);
    }
    dst[0] = CODE_VERSIONSTAMP;
    dst[1 + TR_VERSION_LEN] = (unsigned char)(uv >> 8);
    dst[2 + TR_VERSION_LEN] = (unsigned char)uv;
    p->len += 1 + VERSIONSTAMP_LEN;
    rc = 0;
done:
    Py_DECREF(tr);
    return rc;
}

static int put_element(packer *p, PyObject *obj, int nested);

static int put_nested(packer *p, PyObject *seq) {
    if (put_byte(p, CODE_NESTED) < 0) return -1;
    if (Py_EnterRecursiveCall(" while packing a nested tuple")) return -1;
    int rc = 0;
    if (PyTuple_Check(seq)) {
        Py_ssize_t n = PyTuple_GET_SIZE(seq);
        for (Py_ssize_t i = 0; i < n && rc == 0; i++) rc = put_element(p, PyTuple_GET_ITEM(seq, i), 1);
    } else {
        /* A list can change while foreign values are adapted: re-check its size. */
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(seq) && rc == 0; i++) {
            PyObject *item = PyList_GET_ITEM(seq, i);
            Py_INCREF(item);
            rc = put_element(p, item, 1);
            Py_DECREF(item);
        }
    }
    Py_LeaveRecursiveCall();
    return rc < 0 ? -1 : put_byte(p, 0x00);
}

/* Types that are not exactly a builtin, in the order fdb.tuple tests them. */
static int put_other(packer *p, PyObject *obj, int nested) {
    if (PyBytes_Check(obj))
        return put_escaped(p, CODE_BYTES, PyBytes_AS_STRING(obj), (size_t)PyBytes_GET_SIZE(obj));
    if (PyUnicode_Check(obj)) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(obj, &n);
        return s == NULL ? -1 : put_escaped(p, CODE_STRING, s, (size_t)n);
    }
    if (PyLong_Check(obj) && !PyBool_Check(obj)) return put_int(p, obj);
    if (PyObject_TypeCheck(obj, ct.single_float_type))
        return put_single(p, obj, Py_IS_TYPE(obj, ct.single_float_type));
    if (PyFloat_Check(obj)) return put_double(p, PyFloat_AS_DOUBLE(obj));
    int uuid_known = ct_uuid_known();
    if (uuid_known < 0) return -1;
    if (uuid_known && PyObject_TypeCheck(obj, ct.uuid_type)) return put_uuid(p, obj);
    if (PyBool_Check(obj)) return put_byte(p, obj == Py_True ? CODE_TRUE : CODE_FALSE);
    if (PyObject_TypeCheck(obj, ct.versionstamp_type)) return put_versionstamp(p, obj);
    if (PyTuple_Check(obj) || PyList_Check(obj)) return put_nested(p, obj);
    PyObject *adapted = PyObject_CallOneArg(ct.adapt_foreign, obj);
    if (adapted == NULL) return -1;
    int rc;
    if (adapted == Py_None) {
        PyErr_Format(PyExc_TypeError, "tuple element of type %.200s cannot be packed", Py_TYPE(obj)->tp_name);
        rc = -1;
    } else if (Py_TYPE(adapted) == Py_TYPE(obj)) {
        PyErr_Format(PyExc_TypeError, "adapt_foreign returned a %.200s unchanged", Py_TYPE(obj)->tp_name);
        rc = -1;
    } else {
        rc = put_element(p, adapted, nested);
    }
    Py_DECREF(adapted);
    return rc;
}

static int put_element(packer *p, PyObject *obj, int nested) {
    PyTypeObject *type = Py_TYPE(obj);
    if (type == &PyUnicode_Type) {
        if (PyUnicode_IS_COMPACT_ASCII(obj))
            return put_escaped(p, CODE_STRING, PyUnicode_DATA(obj), (size_t)PyUnicode_GET_LENGTH(obj));
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(obj, &n);
        return s == NULL ? -1 : put_escaped(p, CODE_STRING, s, (size_t)n);
    }
    if (type == &PyLong_Type) return put_int(p, obj);
    if (type == &PyBytes_Type)
        return put_escaped(p, CODE_BYTES, PyBytes_AS_STRING(obj), (size_t)PyBytes_GET_SIZE(obj));
    if (obj == Py_None) {
        unsigned char *dst = reserve(p, 2);
        if (dst == NULL) return -1;
        dst[0] = CODE_NULL;
        dst[1] = ESCAPE_BYTE;
        p->len += nested ? 2 : 1;
        return 0;
    }
    if (type == ct.uuid_type) return put_uuid(p, obj);
    if (type == &PyTuple_Type || type == &PyList_Type) return put_nested(p, obj);
    if (type == &PyFloat_Type) return put_double(p, PyFloat_AS_DOUBLE(obj));
    if (type == &PyBool_Type) return put_byte(p, obj == Py_True ? CODE_TRUE : CODE_FALSE);
    if (type == ct.versionstamp_type) return put_versionstamp(p, obj);
    return put_other(p, obj, nested);
}

static int put_prefix(packer *p, PyObject *prefix) {
    if (prefix == NULL || prefix == Py_None) return 0;
    if (PyBytes_Check(prefix)) {
        size_t n = (size_t)PyBytes_GET_SIZE(prefix);
        unsigned char *dst = reserve(p, n);
        if (dst == NULL) return -1;
        memcpy(dst, PyBytes_AS_STRING(prefix), n);
        p->len += n;
        return 0;
    }
    Py_buffer view;
    if (!PyObject_CheckBuffer(prefix) || PyObject_GetBuffer(prefix, &view, PyBUF_SIMPLE) < 0) {
        PyErr_Format(PyExc_TypeError, "prefix must be bytes or None, not %.200s", Py_TYPE(prefix)->tp_name);
        return -1;
    }
    unsigned char *dst = reserve(p, (size_t)view.len);
    if (dst != NULL) {
        memcpy(dst, view.buf, (size_t)view.len);
        p->len += (size_t)view.len;
    }
    PyBuffer_Release(&view);
    return dst == NULL ? -1 : 0;
}

/* Encodes the arguments (t, prefix=None) of `function` into `p`. */
static int pack_into(packer *p, const char *function, PyObject *const *args, Py_ssize_t nargs,
                     PyObject *kwnames) {
    static const char *const names[] = {"t", "prefix"};
    PyObject *parsed[2] = {NULL, NULL};
    if (ct_parse_args(function, args, nargs, kwnames, names, 2, 1, parsed) < 0) return -1;
    PyObject *t = parsed[0];
    if (!PyTuple_Check(t)) {
        PyErr_Format(PyExc_TypeError, "%s() needs a tuple, not %.200s", function, Py_TYPE(t)->tp_name);
        return -1;
    }
    if (put_prefix(p, parsed[1]) < 0) return -1;
    Py_ssize_t n = PyTuple_GET_SIZE(t);
    for (Py_ssize_t i = 0; i < n; i++)
        if (put_element(p, PyTuple_GET_ITEM(t, i), 0) < 0) return -1;
    return 0;
}

PyObject *ct_pack(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
    (void)self;
    packer p;
    packer_init(&p);
    PyObject *result = NULL;
    if (pack_into(&p, "pack", args, nargs, kwnames) < 0) goto done;
    if (p.version_pos >= 0) {
        PyErr_SetString(PyExc_ValueError, "incomplete Versionstamp in pack(); use pack_with_versionstamp()");
        goto done;
    }
    result = PyBytes_FromStringAndSize((const char *)p.data, (Py_ssize_t)p.len);
done:
    packer_free(&p);
    return result;
}

PyObject *ct_pack_with_versionstamp(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                                    PyObject *kwnames) {
    (void)self;
    packer p;
    packer_init(&p);
    PyObject *result = NULL;
    if (pack_into(&p, "pack_with_versionstamp", args, nargs, kwnames) < 0) goto done;
    if (p.version_pos < 0) {
        PyErr_SetString(PyExc_ValueError,
                        "pack_with_versionstamp() needs an incomplete Versionstamp in the tuple");
        goto done;
    }
    if (p.version_pos > (Py_ssize_t)UINT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "Versionstamp offset does not fit in 4 bytes");
        goto done;
    }
    unsigned char *dst = reserve(&p, 4);
    if (dst == NULL) goto done;
    uint32_t pos = (uint32_t)p.version_pos;
    for (int i = 0; i < 4; i++) dst[i] = (unsigned char)(pos >> (8 * i));
    p.len += 4;
    result = PyBytes_FromStringAndSize((const char *)p.data, (Py_ssize_t)p.len);
done:
    packer_free(&p);
    return result;
}

/* 1 if `seq` (tuple or list) holds an incomplete versionstamp, 0 if not, -1 on error. */
static int find_incomplete(PyObject *seq);

static int is_incomplete(PyObject *obj) {
    PyTypeObject *type = Py_TYPE(obj);
    if (obj == Py_None || type == &PyUnicode_Type || type == &PyLong_Type || type == &PyBytes_Type ||
        type == &PyFloat_Type || type == &PyBool_Type || type == ct.uuid_type)
        return 0;
    if (PyTuple_Check(obj) || PyList_Check(obj)) return find_incomplete(obj);
    PyObject *stamp = obj;
    int rc = 0;
    if (!PyObject_TypeCheck(obj, ct.versionstamp_type)) {
        if (PyBytes_Check(obj) || PyUnicode_Check(obj) || PyLong_Check(obj) || PyFloat_Check(obj)) return 0;
        stamp = PyObject_CallOneArg(ct.adapt_foreign, obj);
        if (stamp == NULL) return -1;
        if (!PyObject_TypeCheck(stamp, ct.versionstamp_type)) {
            Py_DECREF(stamp);
            return 0;
        }
    } else {
        Py_INCREF(stamp);
    }
    PyObject *tr = ct_slot_get(stamp, &ct.vs_tr_version, Py_IS_TYPE(stamp, ct.versionstamp_type));
    if (tr == NULL)
        rc = -1;
    else
        rc = tr == Py_None;
    Py_XDECREF(tr);
    Py_DECREF(stamp);
    return rc;
}

static int find_incomplete(PyObject *seq) {
    if (Py_EnterRecursiveCall(" while looking for a Versionstamp")) return -1;
    int found = 0;
    for (Py_ssize_t i = 0; found == 0 && i < PySequence_Fast_GET_SIZE(seq); i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        Py_INCREF(item);
        found = is_incomplete(item);
        Py_DECREF(item);
    }
    Py_LeaveRecursiveCall();
    return found;
}

PyObject *ct_has_incomplete_versionstamp(PyObject *self, PyObject *t) {
    (void)self;
    if (!PyTuple_Check(t) && !PyList_Check(t)) {
        PyErr_Format(PyExc_TypeError, "has_incomplete_versionstamp() needs a tuple, not %.200s",
                     Py_TYPE(t)->tp_name);
        return NULL;
    }
    int found = find_incomplete(t);
    if (found < 0) return NULL;
    return PyBool_FromLong(found);
}
