# A stand-in for nixpkgs, used only by nix/stub/eval.nix: just the attributes
# the flake touches, returning plain attribute sets marked as derivations.
# Machines here cannot fetch nixpkgs; this lets CI evaluate the flake's own
# wiring (names, tags, provenance) with `nix-instantiate`. It proves nothing
# about nixpkgs' or crane's real APIs.
{ system, overlays ? [ ] }:
let
  drv = name: attrs:
    { type = "derivation"; inherit name; outPath = "/nix/store/stub-${name}"; } // attrs;
  tool = name: drv name { };
  base = {
    lib = {
      genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
      fileset = {
        unions = list: { fileset = list; };
        toSource = { root, fileset }: drv "source" { inherit root fileset; };
        maybeMissing = path: path;
      };
    };
    stdenv.hostPlatform.rust.rustcTarget =
      if system == "aarch64-linux" then "aarch64-unknown-linux-gnu" else "x86_64-unknown-linux-gnu";
    glibc.static = tool "glibc-static";
    curl = tool "curl";
    jq = tool "jq";
    nix = tool "nix";
    systemd = tool "systemd";
    docker-compose = tool "docker-compose";
    check-jsonschema = tool "check-jsonschema";
    kubectl = tool "kubectl";
    cargo-cyclonedx = tool "cargo-cyclonedx";
    cargo-deny = tool "cargo-deny";
    python3.withPackages = f:
      builtins.seq (f { openai = 1; pyyaml = 1; kubernetes-validate = 1; }) (tool "python3-env");
    runCommand = name: env: script: drv name { inherit env script; };
    dockerTools.buildLayeredImage = args: drv "image-${args.tag}" { inherit args; };
  };
in
builtins.foldl' (pkgs: overlay: pkgs // overlay pkgs pkgs) base overlays
