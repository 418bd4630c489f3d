"""flake.nix / flake.lock: nixpkgs pinned by full commit, FoundationDB 7.3 used."""

import json
import os
import re

import pytest

FULL_REV = re.compile(r'inputs\.nixpkgs\.url = "github:NixOS/nixpkgs/([0-9a-f]{40})";')


def _read(root, *parts):
    with open(os.path.join(root, *parts)) as f:
        return f.read()


@pytest.fixture(scope="module")
def pinned(root):
    match = FULL_REV.search(_read(root, "flake.nix"))
    assert match, "flake.nix must pin nixpkgs to a full 40-hex commit"
    return match.group(1)


def test_lock_agrees_with_flake(root, pinned):
    lock = json.loads(_read(root, "flake.lock"))
    node = lock["nodes"][lock["nodes"]["root"]["inputs"]["nixpkgs"]]
    assert node["locked"]["rev"] == pinned
    assert node["locked"]["type"] == "github"
    assert re.fullmatch(r"sha256-[A-Za-z0-9+/]{43}=", node["locked"]["narHash"])


def test_foundationdb_is_7_3(root):
    text = _read(root, "nix", "found.nix")
    assert "pkgs.foundationdb73" in text
    assert not re.search(r"foundationdb(6\d|7[0-24-9])\b", text)


def test_real_fdb_check_uses_real_library_and_fresh_cluster_file(root):
    text = _read(root, "nix", "found.nix")
    assert "FOUND_LIBRARY=${libfdbC}" in text
    assert '"${fdb.lib}/lib/libfdb_c.so"' in text
    assert "127.0.0.1:$port" in text and "fdbserver" in text
    # stopped on every path out of the check
    assert 'trap \'kill "$server"' in text


def test_stand_in_offers_what_the_flake_uses(root):
    used = set(re.findall(r"\bpkgs\.([A-Za-z0-9_-]+)", _read(root, "nix", "found.nix")))
    stand_in = _read(root, "nix", "stand-in-nixpkgs", "flake.nix")
    missing = [name for name in sorted(used - {"lib"}) if not re.search(rf"\b{re.escape(name)}\s*=", stand_in)]
    assert not missing, f"nix/stand-in-nixpkgs lacks {missing}"
