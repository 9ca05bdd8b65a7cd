# `sbom-<env>`: a CycloneDX JSON SBOM of the gateway binary for one
# environment, at $out/gateway-<env>.cdx.json.
#
# cargo-cyclonedx (from nixpkgs) lists every crate of the locked dependency
# graph for the binary's target; the dependencies are the same for every
# environment, so jq adds what differs: the environment, the revision, the
# binary's SHA-256 and what `gateway --version` reports (config digest).
{ pkgs, craneLib, commonArgs, gateway, env, revision, target }:
craneLib.mkCargoDerivation (commonArgs // {
  pname = "sbom-${env}";
  cargoArtifacts = null;
  doInstallCargoArtifacts = false;
  nativeBuildInputs = [ pkgs.cargo-cyclonedx pkgs.jq ];

  buildPhaseCargoCommand = ''
    cargo cyclonedx --format json --describe crate --target ${target}
  '';

  installPhaseCommand = ''
    mkdir -p $out
    bom=$(ls ./*.cdx.json | head -n 1)
    binary=${gateway}/bin/gateway
    jq --arg env ${env} --arg rev ${revision} \
       --arg sha "$(sha256sum "$binary" | cut -d' ' -f1)" \
       --arg version "$("$binary" --version | tr '\n' ' ')" \
       '.metadata.properties = ((.metadata.properties // []) + [
          { name: "gateway:environment", value: $env },
          { name: "gateway:revision", value: $rev },
          { name: "gateway:version", value: $version }
        ])
        | .metadata.component.hashes = [ { alg: "SHA-256", content: $sha } ]' \
       "$bom" > $out/gateway-${env}.cdx.json
  '';
})
