/* found._ctuple module: method table, import-time resolution of the Python
 * classes the codec builds (uuid.UUID, Versionstamp, SingleFloat), argument
 * parsing and the arbitrary-size int conversions. */
#include "ctuple.h"

#include <structmember.h>
#include <string.h>

ct_state ct;

int ct_parse_args(const char *function, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                  const char *const *names, Py_ssize_t nnames, Py_ssize_t required, PyObject **out)
{
    if (nargs > nnames) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %zd arguments (%zd given)", function, nnames, nargs);
        return -1;
    }
    for (Py_ssize_t i = 0; i < nargs; i++)
        out[i] = args[i];
    Py_ssize_t given = nargs;
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t k = 0; k < nkw; k++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, k);
        Py_ssize_t i = 0;
        while (i < nnames && PyUnicode_CompareWithASCIIString(key, names[i]) != 0)
            i++;
        if (i == nnames) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", function, key);
            return -1;
        }
        if (i < nargs) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", function, names[i]);
            return -1;
        }
        out[i] = args[nargs + k];
        if (i < required)
            given++;
    }
    if (given < required) {
        PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", function, names[given]);
        return -1;
    }
    return 0;
}

PyObject *ct_long_from_be(const unsigned char *p, size_t n)
{
    return _PyLong_FromByteArray(p, n, 0, 0);
}

int ct_long_as_bytes(PyObject *v, unsigned char *p, size_t n, int little_endian, int is_signed)
{
#if PY_VERSION_HEX >= 0x030D0000
    return _PyLong_AsByteArray((PyLongObject *)v, p, n, little_endian, is_signed, 1);
#else
    return _PyLong_AsByteArray((PyLongObject *)v, p, n, little_endian, is_signed);
#endif
}

size_t ct_long_bit_length(PyObject *v)
{
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
static int resolve_slot(PyTypeObject *cls, const char *name, ct_slot *slot)
{
    slot->name = PyUnicode_InternFromString(name);
    if (slot->name == NULL)
        return -1;
    slot->offset = 0;
    PyObject *descr = PyObject_GetAttr((PyObject *)cls, slot->name);
    if (descr == NULL) {
        PyErr_Clear();
        return 0;
    }
    if (Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
        PyMemberDef *member = ((PyMemberDescrObject *)descr)->d_member;
        if (member->type == T_OBJECT_EX && !(member->flags & READONLY))
            slot->offset = member->offset;
    }
    Py_DECREF(descr);
    return 0;
}

static PyTypeObject *import_type(PyObject *module, const char *name)
{
    PyObject *cls = PyObject_GetAttrString(module, name);
    if (cls != NULL && !PyType_Check(cls)) {
        PyErr_Format(PyExc_TypeError, "%s is not a class", name);
        Py_CLEAR(cls);
    }
    return (PyTypeObject *)cls;
}

static int resolve_state(void)
{
    PyObject *uuid = PyImport_ImportModule("uuid");
    PyObject *types = PyImport_ImportModule("found._tuple_types");
    PyObject *safe = NULL;
    int rc = -1;
    if (uuid == NULL || types == NULL)
        goto done;
    if (!(ct.uuid_type = import_type(uuid, "UUID")))
        goto done;
    if (!(ct.versionstamp_type = import_type(types, "Versionstamp")))
        goto done;
    if (!(ct.single_float_type = import_type(types, "SingleFloat")))
        goto done;
    if (!(ct.adapt_foreign = PyObject_GetAttrString(types, "adapt_foreign")))
        goto done;
    if (!(safe = PyObject_GetAttrString(uuid, "SafeUUID")))
        goto done;
    if (!(ct.safe_uuid_unknown = PyObject_GetAttrString(safe, "unknown")))
        goto done;
    if (!(ct.str_bit_length = PyUnicode_InternFromString("bit_length")))
        goto done;
    if (resolve_slot(ct.uuid_type, "int", &ct.uuid_int) < 0 ||
        resolve_slot(ct.uuid_type, "is_safe", &ct.uuid_is_safe) < 0 ||
        resolve_slot(ct.versionstamp_type, "tr_version", &ct.vs_tr_version) < 0 ||
        resolve_slot(ct.versionstamp_type, "user_version", &ct.vs_user_version) < 0 ||
        resolve_slot(ct.single_float_type, "value", &ct.sf_value) < 0)
        goto done;
    rc = 0;
done:
    Py_XDECREF(safe);
    Py_XDECREF(types);
    Py_XDECREF(uuid);
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
    PyModuleDef_HEAD_INIT, "found._ctuple",
    "C implementation of the FoundationDB tuple codec (see found.tuple).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__ctuple(void)
{
    if (resolve_state() < 0)
        return NULL;
    return PyModule_Create(&module_def);
}
