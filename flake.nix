# Reproducible per-environment builds of the gateway.
#
# For every environment in nix/environments.nix (which CI keeps equal to
# `ls config/`):
#   nix build .#gateway-prod    the static binary, config/prod compiled in
#   nix build .#image-prod      an OCI image (docker load < result), tag prod-<rev>
#   nix build .#sbom-prod       CycloneDX SBOM of that binary
#   nix flake check             fmt, clippy, tests, dev smoke, deploy assets,
#                               and one config compile per environment
#   nix develop                 the pinned toolchain plus the CI tools
#
# Dependencies are compiled once (crane buildDepsOnly) and reused by every
# environment and check; the toolchain is rust-toolchain.toml's.
{
  description = "LLM gateway: one binary, OCI image and SBOM per environment in config/";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
    crane.url = "github:ipetkov/crane";
    rust-overlay = {
      url = "github:oxalica/rust-overlay";
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };

  outputs = { self, nixpkgs, crane, rust-overlay }:
    let
      gwLib = import ./nix/lib.nix;
      # A missing or extra environment stops evaluation with one line.
      environments = gwLib.checkEnvironments ./config (import ./nix/environments.nix);

      revision = self.rev or self.dirtyRev or "unknown";
      shortRevision = self.shortRev or self.dirtyShortRev or "unknown";
      # Commit time as RFC 3339 (lastModifiedDate is YYYYMMDDHHMMSS): the
      # image's `created`, so a rebuild of the same commit is byte-identical.
      created =
        let d = self.lastModifiedDate or "19700101000001";
            p = start: len: builtins.substring start len d;
        in "${p 0 4}-${p 4 2}-${p 6 2}T${p 8 2}:${p 10 2}:${p 12 2}Z";
      # Where the source lives (image label org.opencontainers.image.source).
      sourceUrl = "https://git.example.com/gateway";

      systems = [ "x86_64-linux" "aarch64-linux" ];
      forSystems = f: nixpkgs.lib.genAttrs systems f;

      perSystem = system:
        let
          pkgs = import nixpkgs {
            inherit system;
            overlays = [ (import rust-overlay) ];
          };
          gw = import ./nix/gateway.nix { inherit pkgs crane revision; root = ./.; };
          version = (builtins.fromTOML (builtins.readFile ./Cargo.toml)).workspace.package.version;
          image = env: import ./nix/image.nix {
            inherit pkgs env revision shortRevision created sourceUrl version;
            gateway = gw.gateway env;
          };
          sbom = env: import ./nix/sbom.nix {
            inherit pkgs env revision;
            inherit (gw) craneLib commonArgs target;
            gateway = gw.gateway env;
          };
          checks = import ./nix/checks.nix { inherit pkgs gw gwLib; root = ./.; };
          outputs = gwLib.perEnvironment {
            inherit environments image sbom;
            gateway = gw.gateway;
            configCheck = checks.configCheck;
          };
        in
        {
          packages = outputs.packages // {
            gateway-check = gw.gatewayCheck;
            default = gw.gateway "dev";
          };
          checks = outputs.checks // checks.checks;
          devShell = gw.craneLib.devShell {
            checks = { inherit (checks.checks) clippy tests deploy; };
            packages = [ pkgs.cargo-cyclonedx pkgs.cargo-deny pkgs.nix pkgs.kubectl pkgs.check-jsonschema ];
          };
        };
      all = forSystems perSystem;
    in
    {
      packages = forSystems (system: all.${system}.packages);
      checks = forSystems (system: all.${system}.checks);
      devShells = forSystems (system: { default = all.${system}.devShell; });
      lib = { inherit environments; };
    };
}
