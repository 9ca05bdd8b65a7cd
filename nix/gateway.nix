# The Rust side of the flake: toolchain, filtered source, the dependency
# artifacts (built once, shared by every environment and every check), and a
# function from an environment name to its gateway binary.
#
# The toolchain is the one rust-toolchain.toml pins (rust-overlay reads it).
# The source is a fileset, not crane's cleanCargoSource: the build script
# compiles config/<env>/*.yaml and the codegen crate include_str!s schema/,
# so both must reach the sandbox (cleanCargoSource keeps only Rust/Cargo files).
{ pkgs, crane, root, revision }:
let
  inherit (pkgs) lib;
  fs = lib.fileset;
  gwLib = import ./lib.nix;

  toolchain = p: p.rust-bin.fromRustupToolchainFile (root + "/rust-toolchain.toml");
  craneLib = (crane.mkLib pkgs).overrideToolchain toolchain;

  # The Rust target the binary is linked for; static glibc (crt-static) as
  # in the Makefile/Dockerfile build. Naming the target explicitly keeps the
  # crt-static flag off build scripts and proc macros.
  target = pkgs.stdenv.hostPlatform.rust.rustcTarget;

  # What cargo needs to build every workspace member: manifests, lockfile,
  # Rust sources, the build script, config/ and schema/. bench/ joins the
  # workspace in a parallel change; maybeMissing keeps this valid either way.
  cargoFiles = fs.unions [
    (root + "/Cargo.toml")
    (root + "/Cargo.lock")
    (root + "/build.rs")
    (root + "/src")
    (root + "/codegen")
    (root + "/runtime")
    (root + "/tests")
    (root + "/config")
    (root + "/schema")
    (fs.maybeMissing (root + "/bench"))
    (fs.maybeMissing (root + "/clippy.toml"))
    (fs.maybeMissing (root + "/rustfmt.toml"))
  ];
  src = fs.toSource { inherit root; fileset = cargoFiles; };

  # Tests also read docs/config-errors.md (the error-code table test); kept
  # out of `src` so a documentation edit does not rebuild the binaries.
  testSrc = fs.toSource {
    inherit root;
    fileset = fs.unions [ cargoFiles (root + "/docs") ];
  };

  commonArgs = {
    inherit src;
    pname = "gateway";
    strictDeps = true;
    CARGO_BUILD_TARGET = target;
    CARGO_BUILD_RUSTFLAGS = "-C target-feature=+crt-static";
    # Static glibc for the crt-static link; ring's C code builds with stdenv's cc.
    buildInputs = [ pkgs.glibc.static ];
  };

  # Provenance, read by the build script (`/version`, `gateway --version`).
  # Only on the workspace builds: on cargoArtifacts it would rebuild every
  # dependency at each commit.
  provenance = { GATEWAY_GIT_REVISION = revision; };

  # Every dependency of the workspace, compiled once. Workspace crates are
  # replaced by dummies here, so no environment's config is involved and the
  # same artifacts serve all of them.
  cargoArtifacts = craneLib.buildDepsOnly commonArgs;

  # `gateway-<env>`: the binary with config/<env> compiled in.
  gateway = env:
    let checked = gwLib.checkEnvironment (root + "/config") env;
    in craneLib.buildPackage (commonArgs // provenance // {
      inherit cargoArtifacts;
      pname = "gateway-${checked}";
      GATEWAY_ENV = env;
      cargoExtraArgs = "--locked -p gateway --bin gateway";
      # Tests run once, in checks.tests (GATEWAY_ENV=test), not per environment.
      doCheck = false;
      meta = {
        description = "LLM gateway, config/${env} compiled in";
        mainProgram = "gateway";
      };
    });

  # The config compiler's CLI, for the per-environment config checks.
  gatewayCheck = craneLib.buildPackage (commonArgs // {
    inherit cargoArtifacts;
    pname = "gateway-check";
    cargoExtraArgs = "--locked -p gateway-codegen --bin gateway-check";
    doCheck = false;
  });
in
{
  inherit craneLib src testSrc commonArgs provenance cargoArtifacts gateway gatewayCheck target toolchain;
}
