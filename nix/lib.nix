# Nixpkgs-free helpers shared by flake.nix and scripts/check-deploy: they use
# builtins only, so they evaluate on machines that cannot fetch nixpkgs.
#
#   checkEnvironments ../config (import ./environments.nix)
#     -> the list, or a one-line `throw` naming what is missing or extra
#   checkEnvironment ../config "prod"
#     -> "prod", or a one-line `throw` (no such folder, bad name, no config file)
#   perEnvironment { environments, gateway, image, sbom, configCheck }
#     -> { packages, checks }: the per-environment output names
rec {
  # The file names the config compiler reads (codegen/src/fs.rs).
  configFiles = [ "upstreams.yaml" "security.yaml" "agents.yaml" "tools.yaml" ];

  # `[a-z0-9][a-z0-9_-]*`, as codegen's `is_env_name`.
  isEnvName = name: builtins.match "[a-z0-9][a-z0-9_-]*" name != null;

  directories = dir:
    let entries = builtins.readDir dir;
    in builtins.filter (n: entries.${n} == "directory") (builtins.attrNames entries);

  # What is wrong with one environment name, as a one-line reason, or null.
  environmentProblem = configDir: env:
    if !(builtins.isString env) then
      "nix/environments.nix must hold strings only"
    else if !(isEnvName env) then
      "`${env}` is not a valid environment name ([a-z0-9][a-z0-9_-]*)"
    else if !(builtins.elem env (directories configDir)) then
      "environment `${env}`: config/${env}/ does not exist"
    else if !(builtins.any (f: builtins.pathExists (configDir + "/${env}/${f}")) configFiles) then
      "environment `${env}`: config/${env}/ holds none of ${builtins.concatStringsSep ", " configFiles}"
    else
      null;

  # Every problem with the list against config/, one line each (empty when consistent).
  environmentProblems = configDir: environments:
    let
      dirs = directories configDir;
      own = builtins.filter (p: p != null) (map (environmentProblem configDir) environments);
      unlisted = builtins.filter (d: !(builtins.elem d environments)) dirs;
      duplicates = builtins.filter
        (env: builtins.length (builtins.filter (e: e == env) environments) > 1) environments;
    in
      own
      ++ (map (d: "config/${d}/ exists but nix/environments.nix does not list it") unlisted)
      ++ (map (e: "`${e}` is listed more than once in nix/environments.nix") duplicates);

  # The environment name, or a one-line `throw` when it cannot be built.
  checkEnvironment = configDir: env:
    let problem = environmentProblem configDir env;
    in if problem == null then env else throw problem;

  checkEnvironments = configDir: environments:
    let problems = environmentProblems configDir environments;
    in
      if !(builtins.isList environments) then
        throw "nix/environments.nix must be a list of strings"
      else if problems != [ ] then
        throw (builtins.head problems)
      else
        environments;

  # The flake's per-environment outputs, built from functions of the
  # environment name so that their names can be checked without nixpkgs.
  perEnvironment = { environments, gateway, image, sbom, configCheck }:
    let
      named = prefix: f:
        map (env: { name = "${prefix}-${env}"; value = f env; }) environments;
    in {
      packages = builtins.listToAttrs
        ((named "gateway" gateway) ++ (named "image" image) ++ (named "sbom" sbom));
      checks = builtins.listToAttrs ((named "config" configCheck) ++ (named "gateway" gateway));
    };
}
