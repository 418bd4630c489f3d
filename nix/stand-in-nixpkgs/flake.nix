# A stand-in for nixpkgs, for offline CI only: it offers exactly the
# attributes that flake.nix and nix/found.nix use, as trivial derivations.
# `nix flake check --override-input nixpkgs path:nix/stand-in-nixpkgs`
# then evaluates the real flake code (every name, output and interpolation)
# and "builds" each check by syntax-checking its shell phases with bash -n.
# It builds no software; what it cannot check is listed in docs/build.md.
{
  description = "offline stand-in for the nixpkgs attributes found's flake uses";

  outputs = { self }:
    let
      genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);

      packagesFor = system:
        let
          # A derivation that only records its inputs; `scripts` (shell code
          # from the flake) must parse, `deps` (other derivations) must exist.
          trivial = { name, outputs ? [ "out" ], scripts ? "", deps ? [ ] }:
            derivation {
              inherit name system outputs scripts deps;
              builder = "/bin/sh";
              args = [
                "-c"
                ''
                  printf '%s\n' "$scripts" | /bin/bash -n || exit 1
                  for o in $outputs; do eval "echo stand-in > \"\''$$o\""; done
                ''
              ];
            };

          shellCode = attrs: builtins.concatStringsSep "\n" (map (n: attrs.${n})
            (builtins.filter (n: builtins.isString attrs.${n}
              && (builtins.match ".*Phase|shellHook|unpackCmd" n != null))
              (builtins.attrNames attrs)));

          inputsOf = attrs: builtins.concatLists (map (n: attrs.${n} or [ ]) [
            "nativeBuildInputs" "buildInputs" "packages" "inputsFrom"
            "build-system" "dependencies"
          ]);

          mkDerivation = attrs: trivial {
            name = attrs.name or "${attrs.pname}-${attrs.version}";
            scripts = shellCode attrs;
            deps = inputsOf attrs ++ (if attrs ? src then [ "${attrs.src}" ] else [ ]);
          };

          pythonPackage = name: trivial { name = "python3.12-${name}"; };

          pythonPkgs = genAttrs [
            "cffi" "uvicorn" "jinja2" "zstandard" "pytest" "pytest-asyncio" "pytest-timeout"
            "hypothesis" "httpx" "selenium" "uvloop" "httptools" "setuptools" "wheel" "build"
          ] pythonPackage // {
            buildPythonPackage = attrs: trivial {
              name = "python3.12-${attrs.pname}-${attrs.version}";
              outputs = [ "out" "dist" ];
              scripts = shellCode attrs;
              deps = inputsOf attrs;
            };
          };
        in
        {
          foundationdb73 = trivial {
            name = "foundationdb-7.3.42";
            outputs = [ "out" "dev" "lib" "pythonsrc" ];
          } // { version = "7.3.42"; };

          python3 = trivial { name = "python3-3.12"; } // {
            pkgs = pythonPkgs;
            withPackages = f: trivial { name = "python3-3.12-env"; deps = f pythonPkgs; };
          };

          lmdb = trivial { name = "lmdb-0.9.33"; outputs = [ "out" "dev" ]; };
          gnumake = trivial { name = "gnumake-4.4"; };
          patchelf = trivial { name = "patchelf-0.15"; };
          gdb = trivial { name = "gdb-16"; };

          stdenv = { inherit mkDerivation; };
          mkShell = attrs: mkDerivation ({ name = "nix-shell"; } // attrs);
        };
    in
    {
      lib = {
        inherit genAttrs;
        licenses.asl20 = { shortName = "asl20"; };
      };
      legacyPackages = genAttrs [ "x86_64-linux" "aarch64-linux" ] packagesFor;
    };
}
