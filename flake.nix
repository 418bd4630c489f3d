{
  description = "found: the asyncio SDK for FoundationDB 7.3, with an embedded LMDB engine";

  # nixos-25.05, pinned by full commit (flake.lock also holds its narHash).
  # Its foundationdb73 is FoundationDB 7.3 (server, fdbcli, libfdb_c, headers).
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/b2a3852bd078e68dd2b3dfa8c00c67af1f0a7d20";

  outputs = { self, nixpkgs }:
    let
      # FoundationDB 7.3 in nixpkgs builds for these two (see docs/build.md).
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forEachSystem = f: nixpkgs.lib.genAttrs systems (system:
        f (import ./nix/found.nix {
          pkgs = nixpkgs.legacyPackages.${system};
          src = self;
        }));
    in
    {
      # `nix build`: found installed (out) and its wheel (.#wheel).
      packages = forEachSystem (p: {
        default = p.found;
        found = p.found;
        wheel = p.wheel;
        foundationdb = p.fdb;
      });

      # `nix develop`: Python with every dependency, LMDB, the C toolchain,
      # FoundationDB 7.3 and the env vars the build needs.
      devShells = forEachSystem (p: { default = p.devShell; });

      # `nix flake check`: the suite on the embedded engine, and the driver
      # tests against a throwaway fdbserver on 127.0.0.1.
      checks = forEachSystem (p: {
        embedded = p.embeddedTests;
        foundationdb = p.realFdbTests;
        wheel = p.wheel;
      });
    };
}
