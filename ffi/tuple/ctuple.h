/* found._ctuple: the C tuple codec shared declarations.
 *
 * The byte format is documented in found/_tuple_py.py, the pure-Python
 * reference this code must match byte for byte. */
#ifndef FOUND_CTUPLE_H
#define FOUND_CTUPLE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

enum tuple_code {
    CODE_NULL = 0x00,
    CODE_BYTES = 0x01,
    CODE_STRING = 0x02,
    CODE_NESTED = 0x05,
    CODE_NEG_BIG_INT = 0x0b,
    CODE_INT_ZERO = 0x14,
    CODE_POS_BIG_INT = 0x1d,
    CODE_FLOAT = 0x20,
    CODE_DOUBLE = 0x21,
    CODE_FALSE = 0x26,
    CODE_TRUE = 0x27,
    CODE_UUID = 0x30,
    CODE_VERSIONSTAMP = 0x33,
};

#define ESCAPE_BYTE       0xff
#define TR_VERSION_LEN    10
#define VERSIONSTAMP_LEN  12
#define UUID_LEN          16
#define MAX_BIG_INT_BYTES 255

/* A __slots__ attribute of a Python class: read and written straight at its
 * offset in the object when the class is exactly the expected one. */
typedef struct {
    PyObject *name;    /* interned attribute name */
    Py_ssize_t offset; /* 0: not a plain slot, go through getattr/setattr */
} ct_slot;

/* Classes and constants the codec needs, resolved once at import. */
typedef struct {
    PyTypeObject *uuid_type;
    PyTypeObject *versionstamp_type;
    PyTypeObject *single_float_type;
    ct_slot uuid_int, uuid_is_safe;
    ct_slot vs_tr_version, vs_user_version;
    ct_slot sf_value;
    PyObject *safe_uuid_unknown;
    PyObject *adapt_foreign; /* found._tuple_types.adapt_foreign */
    PyObject *str_bit_length;
    PyObject *str_uuid;
} ct_state;

extern ct_state ct;

/* New reference to attribute `slot` of `obj`; fast when `exact`. */
static inline PyObject *ct_slot_get(PyObject *obj, const ct_slot *slot, int exact) {
    if (exact && slot->offset > 0) {
        PyObject *value = *(PyObject **)((char *)obj + slot->offset);
        if (value != NULL) {
            Py_INCREF(value);
            return value;
        }
    }
    return PyObject_GetAttr(obj, slot->name);
}

/* Store `value` (reference stolen) into a freshly allocated object. */
static inline int ct_slot_init(PyObject *obj, const ct_slot *slot, PyObject *value) {
    if (value == NULL) return -1;
    if (slot->offset > 0) {
        *(PyObject **)((char *)obj + slot->offset) = value;
        return 0;
    }
    int rc = PyObject_GenericSetAttr(obj, slot->name, value);
    Py_DECREF(value);
    return rc;
}

/* Parses (positional..., keyword...) of a METH_FASTCALL|METH_KEYWORDS call
 * into `out` (borrowed; entries not given are left untouched). */
int ct_parse_args(const char *function, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                  const char *const *names, Py_ssize_t nnames, Py_ssize_t required, PyObject **out);

PyObject *ct_pack(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);
PyObject *ct_pack_with_versionstamp(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                                    PyObject *kwnames);
PyObject *ct_has_incomplete_versionstamp(PyObject *self, PyObject *arg);
PyObject *ct_unpack(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);

/* Big-endian helpers; compilers turn these into single byte-swapped moves. */
static inline void ct_put_be64(unsigned char *p, uint64_t v) {
    for (int i = 7; i >= 0; i--) {
        p[i] = (unsigned char)v;
        v >>= 8;
    }
}

static inline void ct_put_be32(unsigned char *p, uint32_t v) {
    for (int i = 3; i >= 0; i--) {
        p[i] = (unsigned char)v;
        v >>= 8;
    }
}

static inline uint64_t ct_get_be(const unsigned char *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v = (v << 8) | p[i];
    return v;
}

/* Float bits made to sort as numbers, and back (see _order_float_bits). */
static inline uint64_t ct_order_double(uint64_t bits) {
    return (bits >> 63) ? ~bits : bits ^ (UINT64_C(1) << 63);
}

static inline uint64_t ct_restore_double(uint64_t bits) {
    return (bits >> 63) ? bits ^ (UINT64_C(1) << 63) : ~bits;
}

static inline uint32_t ct_order_float(uint32_t bits) {
    return (bits >> 31) ? ~bits : bits ^ (UINT32_C(1) << 31);
}

static inline uint32_t ct_restore_float(uint32_t bits) {
    return (bits >> 31) ? bits ^ (UINT32_C(1) << 31) : ~bits;
}

/* Arbitrary-size int <-> unsigned big-endian bytes, across CPython versions. */
/* uuid.UUID is resolved on first need (uuid_type NULL until then).
 * ct_uuid_known: 1 when resolved, 0 when the uuid module was never imported
 * (so no UUID exists), -1 on error. ct_need_uuid imports it: 0 or -1. */
int ct_uuid_known(void);
int ct_need_uuid(void);

PyObject *ct_long_from_be(const unsigned char *p, size_t n);
int ct_long_as_bytes(PyObject *v, unsigned char *p, size_t n, int little_endian, int is_signed);
/* Bits of |v|; (size_t)-1 with an exception set on error. */
size_t ct_long_bit_length(PyObject *v);

#endif
