/* found._ctuple module: method table, import-time resolution of the Python
 * classes the codec builds (uuid.UUID, Versionstamp, SingleFloat), argument
 * parsing and the arbitrary-size int conversions. */
#include "ctuple.h"

#include <structmember.h>
#include <string.h>

ct_state ct;

int ct_parse_args(const char *function, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                  const char *const *names, Py_ssize_t nnames, Py_ssize_t required, PyObject **out) {
    if (nargs > nnames) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %zd arguments (%zd given)", function, nnames,
                     nargs);
        return -1;
    }
    for (Py_ssize_t i = 0; i < nargs; i++) out[i] = args[i];
    Py_ssize_t given = nargs;
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t k = 0; k < nkw; k++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, k);
        Py_ssize_t i = 0;
        while (i < nnames && PyUnicode_CompareWithASCIIString(key, names[i]) != 0) i++;
        if (i == nnames) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", function, key);
            return -1;
        }
        if (i < nargs) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", function, names[i]);
            return -1;
        }
        out[i] = args[nargs + k];
        if (i < required) given++;
    }
    if (given < required) {
        PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", function, names[given]);
        return -1;
    }
    return 0;
}

PyObject *ct_long_from_be(const unsigned char *p, size_t n) { return _PyLong_FromByteArray(p, n, 0, 0); }

int ct_long_as_bytes(PyObject *v, unsigned char *p, size_t n, int little_endian, int is_signed) {
#if PY_VERSION_HEX >= 0x030D0000
    return _PyLong_AsByteArray((PyLongObject *)v, p, n, little_endian, is_signed, 1);
#else
    return _PyLong_AsByteArray((PyLongObject *)v, p, n, little_endian, is_signed);
#endif
}

size_t ct_long_bit_length(PyObject *v) {
#if PY_VERSION_HEX < 0x030D0000
    return _PyLong_NumBits(v);
#else
    PyObject *bits = PyObject_CallMethodNoArgs(v, ct.str_bit_length);
    size_t n = bits ? PyLong_AsSize_t(bits) : (size_t)-1;
    Py_XDECREF(bits);
    return n;
#endif
}

/* The offset of `cls.<name>` when it is a plain object slot (__slots__). */
static int resolve_slot(PyTypeObject *cls, const char *name, ct_slot *slot) {
    slot->name = PyUnicode_InternFromString(name);
    if (slot->name == NULL) return -1;
    slot->offset = 0;
    PyObject *descr = PyObject_GetAttr((PyObject *)cls, slot->name);
    if (descr == NULL) {
        PyErr_Clear();
        return 0;
    }
    if (Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
        PyMemberDef *member = ((PyMemberDescrObject *)descr)->d_member;
        if (member->type == T_OBJECT_EX && !(member->flags & READONLY)) slot->offset = member->offset;
    }
    Py_DECREF(descr);
    return 0;
}

static PyTypeObject *import_type(PyObject *module, const char *name) {
    PyObject *cls = PyObject_GetAttrString(module, name);
    if (cls != NULL && !PyType_Check(cls)) {
        PyErr_Format(PyExc_TypeError, "%s is not a class", name);
        Py_CLEAR(cls);
    }
    return (PyTypeObject *)cls;
}

/* uuid.UUID and what decoding one needs, from the uuid module. */
static int resolve_uuid(PyObject *uuid) {
    PyTypeObject *type = import_type(uuid, "UUID");
    PyObject *safe = type ? PyObject_GetAttrString(uuid, "SafeUUID") : NULL;
    PyObject *unknown = safe ? PyObject_GetAttrString(safe, "unknown") : NULL;
    Py_XDECREF(safe);
    if (unknown == NULL || resolve_slot(type, "int", &ct.uuid_int) < 0 ||
        resolve_slot(type, "is_safe", &ct.uuid_is_safe) < 0) {
        Py_XDECREF(type);
        Py_XDECREF(unknown);
        return -1;
    }
    ct.safe_uuid_unknown = unknown;
    ct.uuid_type = type;
    return 0;
}

/* uuid is imported only when a program uses it (it costs an import of
 * platform and ~0.2 MB): before that no UUID can exist to be packed. */
int ct_uuid_known(void) {
    if (ct.uuid_type != NULL) return 1;
    PyObject *uuid = PyImport_GetModule(ct.str_uuid);
    if (uuid == NULL) return PyErr_Occurred() ? -1 : 0;
    int rc = resolve_uuid(uuid);
    Py_DECREF(uuid);
    return rc < 0 ? -1 : 1;
}

int ct_need_uuid(void) {
    if (ct.uuid_type != NULL) return 0;
    PyObject *uuid = PyImport_Import(ct.str_uuid);
    if (uuid == NULL) return -1;
    int rc = resolve_uuid(uuid);
    Py_DECREF(uuid);
    return rc;
}

static int resolve_state(void) {
    PyObject *types = PyImport_ImportModule("found._tuple_types");
    int rc = -1;
    if (types == NULL) goto done;
    if (!(ct.str_uuid = PyUnicode_InternFromString("uuid"))) goto done;
    if (ct_uuid_known() < 0) goto done;
    if (!(ct.versionstamp_type = import_type(types, "Versionstamp"))) goto done;
    if (!(ct.single_float_type = import_type(types, "SingleFloat"))) goto done;
    if (!(ct.adapt_foreign = PyObject_GetAttrString(types, "adapt_foreign"))) goto done;
    if (!(ct.str_bit_length = PyUnicode_InternFromString("bit_length"))) goto done;
    if (resolve_slot(ct.versionstamp_type, "tr_version", &ct.vs_tr_version) < 0 ||
        resolve_slot(ct.versionstamp_type, "user_version", &ct.vs_user_version) < 0 ||
        resolve_slot(ct.single_float_type, "value", &ct.sf_value) < 0)
        goto done;
    rc = 0;
done:
    Py_XDECREF(types);
    return rc;
}

static PyMethodDef methods[] = {
    {"pack", (PyCFunction)(void (*)(void))ct_pack, METH_FASTCALL | METH_KEYWORDS,
     "pack(t, prefix=None) -> bytes: encode tuple t after prefix."},
    {"pack_with_versionstamp", (PyCFunction)(void (*)(void))ct_pack_with_versionstamp,
     METH_FASTCALL | METH_KEYWORDS,
     "pack_with_versionstamp(t, prefix=None) -> bytes: encode t, which holds one incomplete "
     "Versionstamp, followed by its 4-byte little-endian offset."},
    {"unpack", (PyCFunction)(void (*)(void))ct_unpack, METH_FASTCALL | METH_KEYWORDS,
     "unpack(key, prefix_len=0) -> tuple: decode a packed tuple."},
    {"has_incomplete_versionstamp", ct_has_incomplete_versionstamp, METH_O,
     "has_incomplete_versionstamp(t) -> bool: t holds an incomplete Versionstamp at any depth."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "found._ctuple",
    "C implementation of the FoundationDB tuple codec (see found.tuple).",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC PyInit__ctuple(void) {
    if (resolve_state() < 0) return NULL;
    return PyModule_Create(&module_def);
}
