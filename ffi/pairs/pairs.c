/* found._cpairs: a range batch into a list of (key, value) tuples in one call.
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

#include <string.h>

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

static PyMethodDef methods[] = {
    {"pairs", (PyCFunction)(void (*)(void))cpairs_pairs, METH_FASTCALL,
     "pairs(block, count) -> list of (key, value): a range batch block (see ffi/driver/driver.h) "
     "as bytes pairs."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "found._cpairs",
    "Range batches into (key, value) pairs in C (see found/_transaction.py).",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC PyInit__cpairs(void) { return PyModule_Create(&module_def); }
