# The environments this flake builds, one per folder under config/.
# Plain data, no nixpkgs: `nix-instantiate --eval --strict --json nix/environments.nix`
# evaluates it anywhere, and scripts/check-deploy (run by .ci/run) fails when
# this list and `ls config/` disagree. Adding an environment = a folder in
# config/ + its name here.
[
  "bench"
  "dev"
  "prod"
  "staging"
  "test"
]
