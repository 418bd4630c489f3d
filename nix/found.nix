# Everything the flake offers for one system, as a function of a nixpkgs
# package set. Kept out of flake.nix so that the same code is evaluated
# against the pinned nixpkgs (for real) and against nix/stand-in-nixpkgs
# (offline CI, where only the names and the shell code can be checked).
{ pkgs, src }:
let
  inherit (pkgs) lib;
  pyproject = builtins.fromTOML (builtins.readFile (src + "/pyproject.toml"));
  version = pyproject.project.version;

  # FoundationDB 7.3: fdbserver + fdbcli in `out`, libfdb_c.so in `lib`,
  # fdb_c.h in `dev`, the official Python binding's sources in `pythonsrc`.
  fdb = pkgs.foundationdb73;
  libfdbC = "${fdb.lib}/lib/libfdb_c.so";

  python = pkgs.python3;
  py = python.pkgs;

  # The official binding, an independent client in the tests, from the
  # same FoundationDB release as the server. Left unpatched on purpose: it
  # dlopens "libfdb_c.so" by name, so LD_LIBRARY_PATH picks the engine or
  # the real library, as on any other machine.
  fdbBinding = py.buildPythonPackage {
    pname = "foundationdb";
    version = fdb.version;
    src = fdb.pythonsrc;
    unpackCmd = "tar xf $curSrc"; # pythonsrc is a bare tarball, no suffix to go by
    format = "setuptools";
    doCheck = false;
  };

  # Python dependencies come from pyproject.toml, the one list: nixpkgs
  # names them as PyPI does. The official binding is the exception: it is
  # built from the FoundationDB release itself (fdbBinding above).
  requirementName = req: builtins.head (builtins.match "([A-Za-z0-9_.-]+).*" req);
  # Requirements marked for another implementation (PyPy) are left out.
  forCPython = req: builtins.match ".*platform_python_implementation == .PyPy.*" req == null
    && builtins.match ".*platform_python_implementation != .CPython.*" req == null;
  fromPyproject = ps: reqs: map (req: ps.${requirementName req})
    (builtins.filter (req: requirementName req != "foundationdb" && forCPython req) reqs);
  extras = pyproject.project.optional-dependencies;
  runtimeDeps = ps: fromPyproject ps pyproject.project.dependencies;
  serverDeps = ps: fromPyproject ps extras.server;
  testDeps = ps: fromPyproject ps extras.test;
  buildDeps = ps: fromPyproject ps pyproject.build-system.requires ++ [ ps.build ];

  pythonEnv = python.withPackages (ps:
    runtimeDeps ps ++ serverDeps ps ++ testDeps ps ++ buildDeps ps ++ [ fdbBinding ]);

  # Env the build and tests read (docs/build.md, "Nix").
  buildEnv = {
    FOUND_FDB_LIBRARY = libfdbC;              # the real client library, for FOUND_LIBRARY
    FOUND_FDB_INCLUDE = "${fdb.dev}/include"; # the real fdb_c.h, to compare against ours
    LMDB_INCLUDE = "${pkgs.lmdb.dev}/include";
    LMDB_LIB = "${pkgs.lmdb.out}/lib";
  };

  # found itself: wheel in the `dist` output, installed package in `out`.
  found = py.buildPythonPackage {
    pname = "found";
    inherit version src;
    pyproject = true;
    build-system = fromPyproject py pyproject.build-system.requires;
    buildInputs = [ pkgs.lmdb ];
    dependencies = runtimeDeps py;
    optional-dependencies.server = serverDeps py;
    doCheck = false; # the suite runs in checks.embedded and checks.foundationdb
    pythonImportsCheck = [ "found" ];
    meta = {
      description = pyproject.project.description;
      license = lib.licenses.asl20;
    };
  };

  # A check that builds the extensions in place and runs pytest on it.
  testRun = { name, script, extraInputs ? [ ] }:
    pkgs.stdenv.mkDerivation (buildEnv // {
      name = "found-${name}-${version}";
      inherit src;
      nativeBuildInputs = [ pythonEnv ] ++ extraInputs;
      buildInputs = [ pkgs.lmdb ];
      dontConfigure = true;
      buildPhase = ''
        runHook preBuild
        export HOME=$TMPDIR
        python setup.py build_ext --inplace
        runHook postBuild
      '';
      doCheck = true;
      checkPhase = ''
        runHook preCheck
        ${script}
        runHook postCheck
      '';
      installPhase = ''
        mkdir -p $out
        echo ok > $out/${name}
      '';
    });

  # Runs the suite on the embedded engine (found/_lib/libfdb_c.so).
  embeddedTests = testRun {
    name = "embedded";
    script = ''
      python -m pytest -q -p no:cacheprovider tests
    '';
  };

  # Starts a throwaway single-process fdbserver on 127.0.0.1 with a fresh
  # cluster file, runs the driver tests through the real libfdb_c, stops it.
  realFdbTests = testRun {
    name = "foundationdb";
    extraInputs = [ fdb ];
    script = ''
      port=4689
      workdir=$TMPDIR/fdb
      mkdir -p "$workdir/data" "$workdir/logs"
      cluster="$workdir/fdb.cluster"
      echo "foundcheck:nixcheck@127.0.0.1:$port" > "$cluster"
      fdbserver --listen-address "127.0.0.1:$port" --public-address "127.0.0.1:$port" \
        --cluster-file "$cluster" --datadir "$workdir/data" --logdir "$workdir/logs" &
      server=$!
      trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
      fdbcli -C "$cluster" --timeout 60 --exec "configure new single memory"
      tries=0
      until fdbcli -C "$cluster" --timeout 10 --exec "status minimal" | grep -q "available"; do
        tries=$((tries + 1))
        if [ "$tries" -ge 60 ]; then
          echo "fdbserver did not become available" >&2
          exit 1
        fi
        sleep 1
      done
      export FOUND_LIBRARY=${libfdbC}
      export FDB_CLUSTER_FILE="$cluster"
      export FOUND_TEST_CLUSTER_FILE="$cluster"
      # found through the real libfdb_c: open, set, get, query, pack.
      PYTHONPATH=$PWD python .ci/smoke.py --cluster-file "$cluster"
      # The driver's suite; its fixtures take the cluster from
      # FOUND_TEST_CLUSTER_FILE (docs/build.md, "What could not be run here").
      python -m pytest -q -p no:cacheprovider tests/driver
      kill "$server"
      wait "$server" 2>/dev/null || true
      trap - EXIT
    '';
  };

  devShell = pkgs.mkShell (buildEnv // {
    name = "found-dev";
    packages = [ pythonEnv fdb pkgs.lmdb pkgs.gnumake pkgs.patchelf pkgs.gdb ];
    inputsFrom = [ found ];
    shellHook = ''
      export PYTHONPATH="$PWD''${PYTHONPATH:+:$PYTHONPATH}"
      echo "found dev shell: python $(python --version 2>&1 | cut -d' ' -f2), FoundationDB ${fdb.version} (fdbserver, fdbcli, $FOUND_FDB_LIBRARY)"
      echo "build: python setup.py build_ext --inplace; test: python -m pytest -q"
    '';
  });
in
{
  inherit found fdb pythonEnv devShell embeddedTests realFdbTests;
  wheel = found.dist;
}
