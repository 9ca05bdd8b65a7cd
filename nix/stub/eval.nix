# Evaluates flake.nix's outputs with stand-in inputs (nix/stub/nixpkgs.nix
# and a stub crane) and returns facts scripts/check-deploy compares with what
# the flake promises:
#   nix-instantiate --store dummy:// --eval --strict --json nix/stub/eval.nix
# It checks the flake's own wiring only: every environment gets its outputs,
# images are tagged <env>-<short rev> with the commit time as `created`, the
# revision reaches the binaries but not the shared dependency build.
let
  flake = import ../../flake.nix;
  self = {
    rev = "0123456789abcdef0123456789abcdef01234567";
    shortRev = "0123456";
    lastModifiedDate = "20261123190300";
  };
  drv = name: attrs:
    { type = "derivation"; inherit name; outPath = "/nix/store/stub-${name}"; } // attrs;
  craneLib = {
    overrideToolchain = toolchain:
      craneLib // { toolchain = toolchain { rust-bin.fromRustupToolchainFile = builtins.readFile; }; };
    buildDepsOnly = args: drv "deps" args;
    buildPackage = args: assert args ? cargoArtifacts; drv args.pname args;
    cargoFmt = args: drv "fmt" args;
    cargoClippy = args: drv "clippy" args;
    cargoTest = args: drv "tests" args;
    mkCargoDerivation = args:
      assert args ? buildPhaseCargoCommand && args ? installPhaseCommand; drv args.pname args;
    devShell = args: drv "devshell" args;
  };
  nixpkgs = {
    outPath = ./nixpkgs.nix;
    lib.genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
  };
  outputs = flake.outputs {
    inherit self nixpkgs;
    crane.mkLib = pkgs: craneLib;
    rust-overlay.outPath = ./rust-overlay.nix;
  };
  environments = import ../environments.nix;
  system = "x86_64-linux";
  packages = outputs.packages.${system};
  checks = outputs.checks.${system};
in
{
  systems = builtins.attrNames outputs.packages;
  packages = builtins.attrNames packages;
  checks = builtins.attrNames checks;
  devShell = outputs.devShells.${system}.default.name;
  perEnvironment = map
    (env:
      let
        gateway = packages."gateway-${env}";
        image = packages."image-${env}".args;
      in
      {
        inherit env;
        gatewayEnv = gateway.GATEWAY_ENV;
        revision = gateway.GATEWAY_GIT_REVISION;
        depsSeeRevision = gateway.cargoArtifacts ? GATEWAY_GIT_REVISION;
        depsSeeEnv = gateway.cargoArtifacts ? GATEWAY_ENV;
        crtStatic = gateway.CARGO_BUILD_RUSTFLAGS;
        tag = image.tag;
        created = image.created;
        user = image.config.User;
        labelRevision = image.config.Labels."org.opencontainers.image.revision";
        sbom = packages."sbom-${env}".pname;
        configCheck = checks."config-${env}".name;
      })
    environments;
}
