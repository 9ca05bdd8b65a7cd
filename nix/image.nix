# `image-<env>`: an OCI image (docker-archive tarball) holding only the static
# gateway binary at /gateway, run as uid 65532. `docker load < result`.
#
# Reproducible: the same revision gives the same image digest. `created` is
# the commit time (never "now"), the tag is `<env>-<short revision>` (never
# `latest`), and the layers hold nothing but the binary and an empty /tmp.
{ pkgs, gateway, env, revision, shortRevision, created, sourceUrl, version }:
pkgs.dockerTools.buildLayeredImage {
  name = "gateway";
  tag = "${env}-${shortRevision}";
  inherit created;

  # The binary is static: it is copied in, so the image needs no store closure.
  extraCommands = ''
    cp ${gateway}/bin/gateway ./gateway
    chmod 0555 ./gateway
    mkdir -p -m 1777 ./tmp
  '';

  config = {
    Entrypoint = [ "/gateway" ];
    Cmd = [ "serve" "--listen" "0.0.0.0:8080" ];
    User = "65532:65532";
    ExposedPorts = { "8080/tcp" = { }; };
    Env = [ "GATEWAY_LOG_LEVEL=info" ];
    Labels = {
      "org.opencontainers.image.title" = "gateway";
      "org.opencontainers.image.description" = "LLM gateway, config/${env} compiled in";
      "org.opencontainers.image.revision" = revision;
      "org.opencontainers.image.source" = sourceUrl;
      "org.opencontainers.image.version" = version;
      "org.opencontainers.image.created" = created;
      "org.opencontainers.image.licenses" = "Apache-2.0";
      "io.gateway.environment" = env;
    };
  };
}
