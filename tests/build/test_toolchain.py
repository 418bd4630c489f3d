"""setup.py's target detection and the per-platform engine flags."""

import os
import platform
import stat

import pytest
from setuptools import Distribution


def _fake_compiler(tmp_path, banner):
    path = tmp_path / "fakecc"
    path.write_text(f"#!/bin/sh\necho '{banner}'\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


@pytest.mark.parametrize(
    "banner, family",
    [
        ("Apple clang version 15.0.0 (clang-1500.3.9.4)", "clang"),
        ("Debian clang version 14.0.6", "clang"),
        ("gcc (Debian 12.2.0-14) 12.2.0", "gcc"),
        ("cc (GCC) 8.5.0 20210514\nCopyright (C) 2018 Free Software Foundation, Inc.", "gcc"),
        ("tcc version 0.9.27", "unknown"),
    ],
)
def test_compiler_family_reads_the_version_banner(setup_module, tmp_path, banner, family):
    assert setup_module.compiler_family(_fake_compiler(tmp_path, banner)) == family


def test_missing_compiler_is_unknown(setup_module, tmp_path):
    assert setup_module.compiler_family(str(tmp_path / "no-such-cc")) == "unknown"


def test_toolchain_follows_cc_and_normalises_machine(setup_module, tmp_path, monkeypatch):
    monkeypatch.setenv("CC", _fake_compiler(tmp_path, "clang version 17"))
    monkeypatch.setattr(platform, "machine", lambda: "arm64")
    system, machine, family = setup_module.toolchain()
    assert (machine, family) == ("aarch64", "clang")
    assert system == ("darwin" if os.uname().sysname == "Darwin" else "linux")


def test_linux_engine_is_named_and_versioned(setup_module):
    flags = setup_module.engine_link_flags("linux", "ffi/engine/exports.map")
    assert "-Wl,-soname,libfdb_c.so" in flags
    assert "-Wl,--version-script=ffi/engine/exports.map" in flags


def test_linux_engine_without_version_script(setup_module):
    flags = setup_module.engine_link_flags("linux", None)
    assert not any("version-script" in f for f in flags)


def test_macos_engine_uses_install_name_not_gnu_flags(setup_module):
    flags = setup_module.engine_link_flags("darwin", "ffi/engine/exports.map")
    assert flags == ["-Wl,-install_name,@rpath/libfdb_c.so"]


def test_tuple_extension_only_on_cpython(setup_module, monkeypatch):
    monkeypatch.setattr(platform, "python_implementation", lambda: "CPython")
    assert setup_module.build_tuple_extension()
    monkeypatch.setattr(platform, "python_implementation", lambda: "PyPy")
    assert not setup_module.build_tuple_extension()


@pytest.mark.parametrize("inplace", [0, 1])
def test_engine_file_has_no_abi_tag(setup_module, tmp_path, monkeypatch, inplace):
    monkeypatch.chdir(tmp_path)
    dist = Distribution({"name": "found", "packages": ["found"], "package_dir": {"": "."}})
    cmd = setup_module.BuildExt(dist)
    cmd.inplace = inplace
    cmd.build_lib = str(tmp_path / "lib")
    cmd.ensure_finalized()
    path = cmd.get_ext_fullpath(setup_module.ENGINE)
    assert path.endswith(os.path.join("found", "_lib", "libfdb_c.so")), path
    assert cmd.get_ext_filename(setup_module.ENGINE) == os.path.join("found", "_lib", "libfdb_c.so")
    other = cmd.get_ext_fullpath("found._ctuple")
    assert os.path.basename(other) != "_ctuple.so" and os.path.basename(other).startswith("_ctuple.")
