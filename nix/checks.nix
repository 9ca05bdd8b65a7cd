# `checks.<system>`: what .ci/run runs, as derivations that reuse the one
# cargoArtifacts build, plus one config compile per environment.
#
#   fmt, clippy            cargo fmt --check; clippy --workspace --all-targets -D warnings
#   config-<env>           gateway-check check config/<env> (the report CI prints)
#   gateway-<env>          the binary itself: the config compiled into Rust
#   smoke-dev              the dev binary answers `demo`, plain and streamed (scripts/dev-smoke)
#   tests                  GATEWAY_ENV=test cargo test --workspace, with the OpenAI SDK
#   deploy                 scripts/check-deploy with nixpkgs' tools, nothing installed
#                          (.ci/run: scripts/check-deploy itself)
{ pkgs, gw, gwLib, root }:
let
  inherit (gw) craneLib src testSrc commonArgs cargoArtifacts gatewayCheck;
  python = pkgs.python3.withPackages (ps: [ ps.openai ]);

  configCheck = env: pkgs.runCommand "config-${env}" { } ''
    cd ${src}
    ${gatewayCheck}/bin/gateway-check check config/${gwLib.checkEnvironment (root + "/config") env}
    touch $out
  '';

  fixed = {
    fmt = craneLib.cargoFmt { inherit src; };

    clippy = craneLib.cargoClippy (commonArgs // {
      inherit cargoArtifacts;
      cargoClippyExtraArgs = "--workspace --all-targets -- -D warnings";
    });

    tests = craneLib.cargoTest (commonArgs // {
      inherit cargoArtifacts;
      src = testSrc;
      GATEWAY_ENV = "test";
      GATEWAY_TEST_PYTHON = "${python}/bin/python";
      cargoTestExtraArgs = "--workspace";
    });

    # scripts/dev-smoke, on the gateway-dev package instead of a cargo build.
    smoke-dev = pkgs.runCommand "smoke-dev" { nativeBuildInputs = [ pkgs.curl ]; } ''
      log=$TMPDIR/gateway.log
      ${gw.gateway "dev"}/bin/gateway --listen 127.0.0.1:0 > "$log" 2>&1 &
      pid=$!
      addr=""
      for _ in $(seq 1 100); do
        addr=$(grep -o 'listening on [0-9.:]*' "$log" | head -1 | cut -d' ' -f3 || true)
        [ -n "$addr" ] && break
        sleep 0.1
      done
      [ -n "$addr" ] || { echo "smoke-dev: gateway did not start"; cat "$log"; exit 1; }
      curl -fsS --max-time 10 "http://$addr/v1/chat/completions" -H 'content-type: application/json' \
        -d '{"model":"demo","messages":[{"role":"user","content":"hi"}]}' | grep -q '"chat.completion"'
      stream=$(curl -fsSN --max-time 10 "http://$addr/v1/chat/completions" -H 'content-type: application/json' \
        -d '{"model":"demo","stream":true,"messages":[{"role":"user","content":"hi"}]}')
      echo "$stream" | grep -q 'data: \[DONE\]'
      [ "$(echo "$stream" | grep -c '^data: {')" -ge 12 ]
      curl -fsS --max-time 5 "http://$addr/health" | grep -q '"environment":"dev"'
      kill -TERM $pid; wait $pid
      touch $out
    '';

    # scripts/check-deploy with nixpkgs' tools instead of apt/pip installs (the
    # sandbox has no network): CHECK_DEPLOY_NO_INSTALL=1 takes every tool from
    # PATH and reports a missing one as skipped.
    deploy = pkgs.runCommand "check-deploy" {
      nativeBuildInputs = [
        pkgs.nix
        pkgs.systemd
        pkgs.docker-compose
        pkgs.check-jsonschema
        pkgs.kubectl
        (pkgs.python3.withPackages (ps: [ ps.pyyaml ps.kubernetes-validate ]))
      ];
      CHECK_DEPLOY_NO_INSTALL = "1";
    } ''
      cp -r ${pkgs.lib.fileset.toSource {
        inherit root;
        fileset = pkgs.lib.fileset.unions [
          (root + "/config")
          (root + "/deploy")
          (root + "/nix")
          (root + "/flake.nix")
          (root + "/scripts/check-deploy")
          (root + "/scripts/deploy-consistency.py")
          (root + "/scripts/flake-facts.py")
        ];
      }} work
      chmod -R u+w work
      cd work
      HOME=$TMPDIR NIX_STATE_DIR=$TMPDIR/nix bash scripts/check-deploy
      touch $out
    '';
  };
in
{
  inherit configCheck;
  checks = fixed;
}
