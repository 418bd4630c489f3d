"""Type stub of found._fdb, the CFFI module (API mode) built by ffi/build_ffi.py.

``lib`` holds the C API of ffi/include/fdb_c_api.h and found's C helpers;
CFFI checks argument types at run time, so its functions are left untyped.
"""

from typing import Any

import cffi

ffi: cffi.FFI
lib: Any
