/* found._cpairs: the driver's hot paths as plain CPython functions (CFFI's
 * argument conversion, result struct and attribute reads cost more than the
 * read itself there).
 *
 * pairs(): a range batch into a list of (key, value) tuples in one call.
 * get(), set(): a point read and a write for a plain found.Transaction, the
 * driver's C function called directly (bind() gives their addresses).
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

/* found_get and fdb_transaction_set of found._fdb (ffi/driver/reads.c, the
 * API table's wrapper), the key and value size limits, and the layout of
 * found.Transaction (the offsets of its address and snapshot slots), bound
 * once by bind(). */
typedef found_bytes (*get_function)(FDBTransaction *tr, const char *key, int key_length, fdb_bool_t snapshot);
typedef void (*set_function)(FDBTransaction *tr, const uint8_t *key, int key_length, const uint8_t *value,
                             int value_length);
static get_function found_get_bound;
static set_function set_bound;
static Py_ssize_t max_key_size, max_value_size;
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
        PyErr_Format(PyExc_TypeError, "bind(): %s is not a slot", name);
    Py_DECREF(d);
    return offset;
}

static PyObject *cpairs_bind(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 5 || !PyType_Check(args[0])) {
        PyErr_SetString(
            PyExc_TypeError,
            "bind() takes (found.Transaction, found_get's address, fdb_transaction_set's address, "
            "the key size limit, the value size limit)");
        return NULL;
    }
    void *get = PyLong_AsVoidPtr(args[1]);
    if (!get && PyErr_Occurred()) return NULL;
    void *set = PyLong_AsVoidPtr(args[2]);
    if (!set && PyErr_Occurred()) return NULL;
    Py_ssize_t max_key = PyLong_AsSsize_t(args[3]);
    if (max_key == -1 && PyErr_Occurred()) return NULL;
    Py_ssize_t max_value = PyLong_AsSsize_t(args[4]);
    if (max_value == -1 && PyErr_Occurred()) return NULL;
    Py_ssize_t address = slot_offset(args[0], "address");
    Py_ssize_t snapshot = address < 0 ? -1 : slot_offset(args[0], "snapshot");
    if (snapshot < 0) return NULL;
    Py_INCREF(args[0]);
    Py_XSETREF(transaction_type, (PyTypeObject *)args[0]);
    address_offset = address;
    snapshot_offset = snapshot;
    found_get_bound = (get_function)(uintptr_t)get;
    set_bound = (set_function)(uintptr_t)set;
    max_key_size = max_key;
    max_value_size = max_value;
    Py_RETURN_NONE;
}

/* tx's C transaction and snapshot flag (0/1), when tx is exactly a bound
 * found.Transaction with both slots set; else NULL with no error set (or
 * with one, from the conversions). */
static void *plain_transaction(PyObject *tx, int *snapshot) {
    if (Py_TYPE(tx) != transaction_type) return NULL;
    PyObject *address = *(PyObject **)((char *)tx + address_offset);
    PyObject *snapshot_flag = *(PyObject **)((char *)tx + snapshot_offset);
    if (!address || !snapshot_flag || !PyLong_CheckExact(address)) return NULL;
    *snapshot = snapshot_flag == Py_True ? 1 : snapshot_flag == Py_False ? 0 : PyObject_IsTrue(snapshot_flag);
    if (*snapshot < 0) return NULL;
    return PyLong_AsVoidPtr(address);
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
    PyObject *key = args[1];
    if (!found_get_bound || !PyBytes_CheckExact(key) || PyBytes_GET_SIZE(key) > INT32_MAX)
        return PyTuple_New(0);
    int snapshot = 0;
    void *tr = plain_transaction(args[0], &snapshot);
    if (!tr) return PyErr_Occurred() ? NULL : PyTuple_New(0);
    found_bytes r = found_get_bound(tr, PyBytes_AS_STRING(key), (int)PyBytes_GET_SIZE(key), snapshot);
    if (r.status == FOUND_READY) {
        if (r.length < 0) Py_RETURN_NONE;
        return PyBytes_FromStringAndSize(r.data, r.length);
    }
    return Py_BuildValue("(iiNNi)", r.status, r.error, PyLong_FromVoidPtr(r.future),
                         PyLong_FromVoidPtr((void *)(uintptr_t)r.data), r.length);
}

/* set(tx, key, value): for a found.Transaction (exactly, not snapshot) and
 * bytes key and value (exactly) within the size limits, the write, and
 * True; anything else False, for found/_transaction.py to check (and raise)
 * the long way. The GIL stays held: a write only records the mutation. */
static PyObject *cpairs_set(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "set() takes (tx, key, value)");
        return NULL;
    }
    PyObject *key = args[1], *value = args[2];
    if (!set_bound || !PyBytes_CheckExact(key) || !PyBytes_CheckExact(value) ||
        PyBytes_GET_SIZE(key) > max_key_size || PyBytes_GET_SIZE(value) > max_value_size)
        Py_RETURN_FALSE;
    int snapshot = 1;
    void *tr = plain_transaction(args[0], &snapshot);
    if (!tr || snapshot) {
        if (PyErr_Occurred()) return NULL;
        Py_RETURN_FALSE;
    }
    set_bound(tr, (const uint8_t *)PyBytes_AS_STRING(key), (int)PyBytes_GET_SIZE(key),
              (const uint8_t *)PyBytes_AS_STRING(value), (int)PyBytes_GET_SIZE(value));
    Py_RETURN_TRUE;
}

static PyMethodDef methods[] = {
    {"bind", (PyCFunction)(void (*)(void))cpairs_bind, METH_FASTCALL,
     "bind(Transaction, get, set, max_key, max_value): found's Transaction class, the addresses of "
     "found._fdb's found_get and fdb_transaction_set, the key and value size limits."},
    {"get", (PyCFunction)(void (*)(void))cpairs_get, METH_FASTCALL,
     "get(tx, key) -> bytes or None, found_bytes as a tuple when the read is not done (see "
     "ffi/driver/driver.h), () when tx or key is not plain."},
    {"set", (PyCFunction)(void (*)(void))cpairs_set, METH_FASTCALL,
     "set(tx, key, value) -> True once written; False when tx, key or value is not plain, too large, or "
     "tx is a snapshot transaction (nothing done)."},
    {"pairs", (PyCFunction)(void (*)(void))cpairs_pairs, METH_FASTCALL,
     "pairs(block, count) -> list of (key, value): a range batch block (see ffi/driver/driver.h) "
     "as bytes pairs."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "found._cpairs",
    "The driver's hot paths in plain CPython: range batches into pairs, point gets, writes (see "
    "found/_transaction.py).",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC PyInit__cpairs(void) { return PyModule_Create(&module_def); }
