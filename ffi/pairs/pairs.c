/* found._cpairs: the driver's hot paths as plain CPython functions (CFFI's
 * argument conversion, result struct and attribute reads cost more than the
 * read itself there).
 *
 * pairs(): a range batch into a list of (key, value) tuples in one call.
 *
 * The batch is the block ffi/driver/reads.c (found_take_range) builds:
 * 2 * count + 1 native ints (offsets of key i, value i, ..., the end) then
 * the keys and values back to back. The block comes as a buffer (CFFI's
 * ffi.buffer over it); every offset is checked against it before use.
 *
 * The tuples hold two bytes objects and nothing else, so they can never be
 * part of a reference cycle: they are untracked by the cyclic GC at once
 * (CPython would only untrack them at their first collection), which keeps
 * a stream of millions of pairs from triggering collections. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <stdint.h>
#include <string.h>

#include "../driver/driver.h"

static PyObject *batch_error(const char *what) {
    PyErr_Format(PyExc_ValueError, "pairs(): damaged batch block (%s)", what);
    return NULL;
}

static PyObject *pairs_of(const char *block, Py_ssize_t size, Py_ssize_t count) {
    if (count < 0) return batch_error("negative count");
    if ((size_t)count > ((size_t)PY_SSIZE_T_MAX / sizeof(int) - 1) / 2 ||
        (Py_ssize_t)(sizeof(int) * (size_t)(2 * count + 1)) > size)
        return batch_error("offsets past the block");
    Py_ssize_t offsets_size = (Py_ssize_t)(sizeof(int) * (size_t)(2 * count + 1));
    const char *blob = block + offsets_size;
    Py_ssize_t blob_size = size - offsets_size;
    PyObject *list = PyList_New(count);
    if (!list) return NULL;
    int previous;
    memcpy(&previous, block, sizeof previous);
    if (previous != 0) goto damaged;
    for (Py_ssize_t i = 0; i < count; i++) {
        int at[3];
        memcpy(at, block + sizeof(int) * (size_t)(2 * i), sizeof at);
        if (at[1] < at[0] || at[2] < at[1] || at[2] > blob_size) goto damaged;
        PyObject *key = PyBytes_FromStringAndSize(blob + at[0], at[1] - at[0]);
        PyObject *value = key ? PyBytes_FromStringAndSize(blob + at[1], at[2] - at[1]) : NULL;
        PyObject *pair = value ? PyTuple_New(2) : NULL;
        if (!pair) {
            Py_XDECREF(key);
            Py_XDECREF(value);
            Py_DECREF(list);
            return NULL;
        }
        PyTuple_SET_ITEM(pair, 0, key);
        PyTuple_SET_ITEM(pair, 1, value);
        PyObject_GC_UnTrack(pair);
        PyList_SET_ITEM(list, i, pair);
    }
    return list;
damaged:
    Py_DECREF(list);
    return batch_error("offsets out of order");
}

static PyObject *cpairs_pairs(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "pairs() takes 2 arguments (%zd given)", nargs);
        return NULL;
    }
    Py_ssize_t count = PyLong_AsSsize_t(args[1]);
    if (count == -1 && PyErr_Occurred()) return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) return NULL;
    PyObject *result = pairs_of(view.buf, view.len, count);
    PyBuffer_Release(&view);
    return result;
}

/* found_get of found._fdb (ffi/driver/reads.c) and the layout of
 * found.Transaction (the offsets of its address and snapshot slots), bound
 * once by bind_get(). */
typedef found_bytes (*get_function)(FDBTransaction *tr, const char *key, int key_length, fdb_bool_t snapshot);
static get_function found_get_bound;
static PyTypeObject *transaction_type;
static Py_ssize_t address_offset, snapshot_offset;

/* The offset of slot `name` of type, or -1 (error set). */
static Py_ssize_t slot_offset(PyObject *type, const char *name) {
    PyObject *d = PyObject_GetAttrString(type, name);
    if (!d) return -1;
    Py_ssize_t offset = -1;
    if (Py_IS_TYPE(d, &PyMemberDescr_Type) && ((PyMemberDescrObject *)d)->d_member->type == T_OBJECT_EX)
        offset = ((PyMemberDescrObject *)d)->d_member->offset;
    else
        PyErr_Format(PyExc_TypeError, "bind_get(): %s is not a slot", name);
    Py_DECREF(d);
    return offset;
}

static PyObject *cpairs_bind_get(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 2 || !PyType_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "bind_get() takes (found_get's address, found.Transaction)");
        return NULL;
    }
    void *p = PyLong_AsVoidPtr(args[0]);
    if (!p && PyErr_Occurred()) return NULL;
    Py_ssize_t address = slot_offset(args[1], "address");
    Py_ssize_t snapshot = address < 0 ? -1 : slot_offset(args[1], "snapshot");
    if (snapshot < 0) return NULL;
    Py_INCREF(args[1]);
    Py_XSETREF(transaction_type, (PyTypeObject *)args[1]);
    address_offset = address;
    snapshot_offset = snapshot;
    found_get_bound = (get_function)(uintptr_t)p;
    Py_RETURN_NONE;
}

/* get(tx, key): for a found.Transaction (exactly) and a bytes key (exactly),
 * the value (bytes) or None when the engine answered at once (found_get's
 * READY, copied out of its scratch), or (status, error, future, data,
 * length) for found/_transaction.py to finish (HELD, PENDING, FAILED);
 * anything else, () for found/_transaction.py to check and read the long
 * way. The GIL stays held: the call does not block (the engine reads in the
 * caller's thread, libfdb_c only starts the read). */
static PyObject *cpairs_get(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "get() takes (tx, key)");
        return NULL;
    }
    PyObject *tx = args[0], *key = args[1];
    if (!found_get_bound || Py_TYPE(tx) != transaction_type || !PyBytes_CheckExact(key) ||
        PyBytes_GET_SIZE(key) > INT32_MAX)
        return PyTuple_New(0);
    PyObject *address = *(PyObject **)((char *)tx + address_offset);
    PyObject *snapshot_flag = *(PyObject **)((char *)tx + snapshot_offset);
    if (!address || !snapshot_flag || !PyLong_CheckExact(address)) return PyTuple_New(0);
    void *tr = PyLong_AsVoidPtr(address);
    if (!tr && PyErr_Occurred()) return NULL;
    int snapshot = snapshot_flag == Py_True    ? 1
                   : snapshot_flag == Py_False ? 0
                                               : PyObject_IsTrue(snapshot_flag);
    if (snapshot < 0) return NULL;
    found_bytes r = found_get_bound(tr, PyBytes_AS_STRING(key), (int)PyBytes_GET_SIZE(key), snapshot);
    if (r.status == FOUND_READY) {
        if (r.length < 0) Py_RETURN_NONE;
        return PyBytes_FromStringAndSize(r.data, r.length);
    }
    return Py_BuildValue("(iiNNi)", r.status, r.error, PyLong_FromVoidPtr(r.future),
                         PyLong_FromVoidPtr((void *)(uintptr_t)r.data), r.length);
}

static PyMethodDef methods[] = {
    {"bind_get", (PyCFunction)(void (*)(void))cpairs_bind_get, METH_FASTCALL,
     "bind_get(address, Transaction): the address of found._fdb's found_get, found's Transaction class."},
    {"get", (PyCFunction)(void (*)(void))cpairs_get, METH_FASTCALL,
     "get(tx, key) -> bytes or None, found_bytes as a tuple when the read is not done (see "
     "ffi/driver/driver.h), () when tx or key is not plain."},
    {"pairs", (PyCFunction)(void (*)(void))cpairs_pairs, METH_FASTCALL,
     "pairs(block, count) -> list of (key, value): a range batch block (see ffi/driver/driver.h) "
     "as bytes pairs."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "found._cpairs",
    "The driver's hot paths in plain CPython: range batches into pairs, point gets (see "
    "found/_transaction.py).",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC PyInit__cpairs(void) { return PyModule_Create(&module_def); }
