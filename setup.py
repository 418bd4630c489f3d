"""Build of found's three compiled pieces.

1. ``found/_lib/libfdb_c.so`` — the embedded engine (ffi/engine/*.c), a plain
   shared library exporting the FoundationDB C API; other bindings can load it.
2. ``found._fdb`` — the CFFI module (API mode) built by ffi/build_ffi.py; it
   loads either the engine or a real libfdb_c at run time.
3. ``found._ctuple`` — the C tuple encoder/decoder (ffi/tuple/*.c).

A piece whose sources are absent is skipped, so each can be built alone.
FOUND_BUILD=engine,cffi,tuple builds only the named pieces.
Set FOUND_SANITIZE=1 to build everything with ASan + UBSan.
"""
import glob
import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
STRICT = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-O2", "-fvisibility=hidden"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=undefined"]


def wanted(piece):
    """FOUND_BUILD=engine,cffi,tuple limits the build to some pieces (default: all)."""
    chosen = os.environ.get("FOUND_BUILD")
    return not chosen or piece in chosen.split(",")


def sanitize():
    return os.environ.get("FOUND_SANITIZE") == "1"


def rel(*parts):
    return os.path.join(*parts)


def engine_extension():
    sources = sorted(glob.glob(rel("ffi", "engine", "*.c")))
    if not sources or not wanted("engine"):
        return []
    flags = STRICT + ["-D_GNU_SOURCE", "-pthread"] + (SANITIZE if sanitize() else [])
    link = ["-pthread", "-Wl,-soname,libfdb_c.so"]
    version_script = rel("ffi", "engine", "exports.map")
    if os.path.exists(version_script):
        link.append("-Wl,--version-script=" + version_script)
    if sanitize():
        link += ["-fsanitize=address,undefined"]
    return [Extension(
        "found._lib.libfdb_c",
        sources=sources,
        include_dirs=[rel("ffi", "include"), rel("ffi", "engine")],
        libraries=["lmdb"],
        extra_compile_args=flags,
        extra_link_args=link,
    )]


def tuple_extension():
    sources = sorted(glob.glob(rel("ffi", "tuple", "*.c")))
    if not sources or not wanted("tuple"):
        return []
    flags = [f for f in STRICT if f != "-fvisibility=hidden"] + (SANITIZE if sanitize() else [])
    return [Extension(
        "found._ctuple",
        sources=sources,
        include_dirs=[rel("ffi", "tuple")],
        extra_compile_args=flags,
        extra_link_args=SANITIZE if sanitize() else [],
    )]


def cffi_modules():
    if os.path.exists(rel("ffi", "build_ffi.py")) and wanted("cffi"):
        return ["ffi/build_ffi.py:ffibuilder"]
    return []


class BuildExt(build_ext):
    """build_ext that names the engine plainly ``libfdb_c.so`` (no ABI tag):
    it is a C library for any FoundationDB binding, not a Python module."""

    def get_ext_filename(self, fullname):
        if fullname == "found._lib.libfdb_c":
            return os.path.join("found", "_lib", "libfdb_c.so")
        return super().get_ext_filename(fullname)

    def get_export_symbols(self, ext):
        if ext.name == "found._lib.libfdb_c":
            return []
        return super().get_export_symbols(ext)


setup(
    ext_modules=engine_extension() + tuple_extension(),
    cffi_modules=cffi_modules(),
    cmdclass={"build_ext": BuildExt},
)
