"""Build of found's three compiled pieces.

1. ``found/_lib/libfdb_c.so`` — the embedded engine (ffi/engine/*/*.c), a plain
   shared library exporting the FoundationDB C API; other bindings can load it.
2. ``found._fdb`` — the CFFI module (API mode) built by ffi/build_ffi.py; it
   loads either the engine or a real libfdb_c at run time.
3. ``found._ctuple`` — the C tuple encoder/decoder (ffi/tuple/*.c).
4. ``found._cpairs`` — range batches into (key, value) tuples (ffi/pairs/pairs.c).

A piece whose sources are absent is skipped, so each can be built alone.
FOUND_BUILD=engine,cffi,tuple,pairs builds only the named pieces.
Set FOUND_SANITIZE=1 to build everything with ASan + UBSan.
The tuple and pairs extensions are built on CPython only: found uses pure
Python on other implementations (PyPy), so they would go unused there.

The target is detected (``toolchain()``: OS, architecture, compiler family) and
the engine's link flags follow it: GNU ld's soname and version script on Linux,
an install name on macOS. docs/build.md says how each wheel is produced.
"""

import glob
import os
import platform
import subprocess
import sys
import sysconfig

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
STRICT = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-O2", "-fvisibility=hidden"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=undefined"]


def wanted(piece):
    """FOUND_BUILD=engine,cffi,tuple,pairs limits the build to some pieces (default: all)."""
    chosen = os.environ.get("FOUND_BUILD")
    return not chosen or piece in chosen.split(",")


def sanitize():
    return os.environ.get("FOUND_SANITIZE") == "1"


def rel(*parts):
    return os.path.join(*parts)


def compiler_family(cc):
    """'clang', 'gcc' or 'unknown', from what ``cc --version`` says of itself."""
    try:
        banner = subprocess.run(cc.split() + ["--version"], capture_output=True, text=True, timeout=30).stdout.lower()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if "clang" in banner:
        return "clang"
    if "gcc" in banner or "free software foundation" in banner:
        return "gcc"
    return "unknown"


def toolchain():
    """The build target: ``(os, machine, compiler family)``, e.g. ('linux', 'aarch64', 'gcc').

    ``CC`` wins over the interpreter's configured compiler, as in setuptools.
    Machine names are normalised ('arm64' on macOS is 'aarch64' here).
    """
    system = "darwin" if sys.platform == "darwin" else sys.platform.rstrip("0123456789")
    machine = platform.machine().lower()
    machine = {"arm64": "aarch64", "amd64": "x86_64"}.get(machine, machine)
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    return system, machine, compiler_family(cc)


def engine_link_flags(system, version_script=None):
    """Link flags for the engine: named libfdb_c.so wherever it is loaded from."""
    if system == "darwin":
        # Apple's ld has no version scripts; -fvisibility=hidden already keeps
        # the export list to the C API's FDB_API functions.
        return ["-Wl,-install_name,@rpath/libfdb_c.so"]
    flags = ["-pthread", "-Wl,-soname,libfdb_c.so"]
    if version_script:
        flags.append("-Wl,--version-script=" + version_script)
    return flags


def build_tuple_extension():
    """The C tuple codec is for CPython; found.tuple picks the pure-Python one elsewhere."""
    return platform.python_implementation() == "CPython"


def engine_extension():
    sources = sorted(glob.glob(rel("ffi", "engine", "*", "*.c")))
    if not sources or not wanted("engine"):
        return []
    system, _machine, _family = toolchain()
    flags = STRICT + ["-D_GNU_SOURCE", "-pthread"] + (SANITIZE if sanitize() else [])
    version_script = rel("ffi", "engine", "exports.map")
    link = engine_link_flags(system, version_script if os.path.exists(version_script) else None)
    if sanitize():
        link += ["-fsanitize=address,undefined"]
    return [
        Extension(
            ENGINE,
            sources=sources,
            include_dirs=[rel("ffi", "include"), rel("ffi", "engine")],
            libraries=["lmdb"],
            extra_compile_args=flags,
            extra_link_args=link,
        )
    ]


def tuple_extension():
    sources = sorted(glob.glob(rel("ffi", "tuple", "*.c")))
    if not sources or not wanted("tuple") or not build_tuple_extension():
        return []
    flags = [f for f in STRICT if f != "-fvisibility=hidden"] + (SANITIZE if sanitize() else [])
    return [
        Extension(
            "found._ctuple",
            sources=sources,
            include_dirs=[rel("ffi", "tuple")],
            extra_compile_args=flags,
            extra_link_args=SANITIZE if sanitize() else [],
        )
    ]


def pairs_extension():
    """Range batches into pairs in C: for CPython, like the tuple codec (found/_transaction.py falls back)."""
    source = rel("ffi", "pairs", "pairs.c")
    if not os.path.exists(source) or not wanted("pairs") or not build_tuple_extension():
        return []
    flags = [f for f in STRICT if f != "-fvisibility=hidden"] + (SANITIZE if sanitize() else [])
    return [
        Extension(
            "found._cpairs",
            sources=[source],
            include_dirs=[rel("ffi", "include")],
            extra_compile_args=flags,
            extra_link_args=SANITIZE if sanitize() else [],
        )
    ]


def cffi_modules():
    if os.path.exists(rel("ffi", "build_ffi.py")) and wanted("cffi"):
        return ["ffi/build_ffi.py:ffibuilder"]
    return []


ENGINE = "found._lib.libfdb_c"


class BuildExt(build_ext):
    """build_ext that names the engine plainly ``libfdb_c.so`` (no ABI tag):
    it is a C library for any FoundationDB binding, not a Python module.

    setuptools asks for the file name both by full dotted name (outputs,
    RECORD) and, through ``get_ext_fullpath``, by the last component alone;
    both must give the plain name or the wheel gets an ABI-tagged engine.
    """

    def get_ext_filename(self, fullname):
        if fullname == ENGINE:
            return os.path.join("found", "_lib", "libfdb_c.so")
        return super().get_ext_filename(fullname)

    def get_ext_fullpath(self, ext_name):
        path = super().get_ext_fullpath(ext_name)
        if self.get_ext_fullname(ext_name) == ENGINE:
            return os.path.join(os.path.dirname(path), "libfdb_c.so")
        return path

    def run(self):
        # found/_lib holds only the built engine; it may not exist in a fresh tree.
        if self.inplace and any(ext.name == ENGINE for ext in self.extensions):
            os.makedirs(os.path.join("found", "_lib"), exist_ok=True)
        super().run()

    def get_export_symbols(self, ext):
        if ext.name == ENGINE:
            return []
        return super().get_export_symbols(ext)


def announce_target():
    system, machine, family = toolchain()
    impl = platform.python_implementation()
    print(f"found build: {system} {machine}, compiler {family}, {impl} {platform.python_version()}", file=sys.stderr)


if __name__ == "__main__":  # setuptools' build backend runs this file as __main__ too
    announce_target()
    setup(
        license="Apache-2.0",  # here, not in pyproject.toml: see the note there
        ext_modules=engine_extension() + tuple_extension() + pairs_extension(),
        cffi_modules=cffi_modules(),
        cmdclass={"build_ext": BuildExt},
    )
