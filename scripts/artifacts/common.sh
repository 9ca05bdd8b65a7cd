# shellcheck shell=bash
# Shared by scripts/artifacts/*: sourced, never run. Errors are one line on
# stderr (`<script>: error: <what>; <how to fix>`) and a non-zero exit; tools
# are installed idempotently (cargo tools into .tools/, Debian packages with
# apt, Python packages into .venv); artifacts are written to a temporary path
# and renamed into dist/<env>/ only when complete.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SCRIPT=$(basename "$0")
TOOLS="$ROOT/.tools"
# shellcheck disable=SC2034 # used by the scripts that source this file
TARGET_TRIPLE=x86_64-unknown-linux-gnu
export LC_ALL=C TZ=UTC
export PATH="$TOOLS/bin:$PATH"

die() {
  echo "$SCRIPT: error: $*" >&2
  exit 1
}

note() {
  echo "$SCRIPT: $*" >&2
}

# The environment named by $1: exists, valid name, has a config directory.
check_env() {
  local env=${1:-}
  local known
  known=$(cd "$ROOT/config" 2>/dev/null && ls -d -- */ 2>/dev/null | tr -d / | paste -sd, - | sed 's/,/, /g')
  [ -n "$env" ] || die "no environment given; use ENV=<name>, one of: ${known:-none found under config/}"
  [[ $env =~ ^[a-z0-9][a-z0-9_-]*$ ]] || die "environment \`$env\` is not a valid name; use one of: $known"
  [ -d "$ROOT/config/$env" ] || die "environment \`$env\` has no directory config/$env; use one of: $known"
}

dist_dir() {
  echo "$ROOT/dist/$1"
}

# A command that must be on PATH already (the Rust toolchain, python3, git).
need() {
  command -v "$1" >/dev/null 2>&1 || die "\`$1\` not found; $2"
}

# `cargo install --locked NAME@VERSION` into .tools/ unless that version is there.
ensure_cargo_tool() {
  local name=$1 version=$2 bin=${3:-$1}
  if [ -x "$TOOLS/bin/$bin" ] && grep -q "\"$name $version " "$TOOLS/.crates2.json" 2>/dev/null; then
    return
  fi
  need cargo "install the Rust toolchain (rustup) first"
  note "installing $name $version into .tools/ (once)"
  (cd "$ROOT" && env -u CARGO_TARGET_DIR -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS \
    cargo install --quiet --locked --root "$TOOLS" "$name@$version") >&2 ||
    die "cannot install $name $version with cargo; check access to crates.io and retry"
}

# An apt package providing command $1.
ensure_apt() {
  local cmd=$1 package=$2
  command -v "$cmd" >/dev/null 2>&1 && return
  command -v apt-get >/dev/null 2>&1 || die "\`$cmd\` not found and no apt-get; install $package"
  note "installing $package with apt (once)"
  # A fresh machine has no package lists yet: update once, then install.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null 2>&1 ||
    { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null 2>&1; } ||
    die "cannot install $package with apt-get; run \`apt-get update && apt-get install $package\` by hand"
  command -v "$cmd" >/dev/null 2>&1 || die "installed $package but \`$cmd\` is still missing"
}

# .venv with `package==version` (pip spec $4, e.g. with extras) importable as `module`; prints the python path.
ensure_venv_pkg() {
  local package=$1 version=$2 module=$3 spec=${4:-$1}
  need python3 "install Python 3"
  if [ ! -x "$ROOT/.venv/bin/python" ]; then
    python3 -m venv "$ROOT/.venv" >&2 || die "cannot create .venv; install python3-venv"
  fi
  if ! "$ROOT/.venv/bin/python" -c "import importlib.metadata as m, sys, $module; sys.exit(m.version('$package') != '$version')" 2>/dev/null; then
    note "installing $package $version into .venv (once)"
    "$ROOT/.venv/bin/python" -m pip install --quiet --disable-pip-version-check "$spec==$version" >&2 ||
      die "cannot install $package $version with pip; check access to PyPI"
  fi
  echo "$ROOT/.venv/bin/python"
}

# Commit time of HEAD, or $SOURCE_DATE_EPOCH when set (a source tarball has no .git).
source_date_epoch() {
  if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
    [[ $SOURCE_DATE_EPOCH =~ ^[0-9]+$ ]] || die "SOURCE_DATE_EPOCH=\`$SOURCE_DATE_EPOCH\` is not a number of seconds"
    echo "$SOURCE_DATE_EPOCH"
    return
  fi
  git -C "$ROOT" log -1 --format=%ct 2>/dev/null ||
    die "cannot read the commit time (no git checkout?); set SOURCE_DATE_EPOCH"
}

# HEAD's hash, with `-dirty` when tracked files differ from it; $GATEWAY_GIT_REVISION wins.
git_revision() {
  if [ -n "${GATEWAY_GIT_REVISION:-}" ]; then
    echo "$GATEWAY_GIT_REVISION"
    return
  fi
  local rev
  rev=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null) || { echo unknown; return; }
  if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    rev="$rev-dirty"
  fi
  echo "$rev"
}

# Where the source lives: $GATEWAY_SOURCE_URL, else the `origin` remote
# (credentials dropped), else a placeholder (set the variable for a release).
source_url() {
  if [ -n "${GATEWAY_SOURCE_URL:-}" ]; then
    echo "$GATEWAY_SOURCE_URL"
    return
  fi
  local url
  url=$(git -C "$ROOT" remote get-url origin 2>/dev/null) || { echo https://git.example.com/gateway; return; }
  echo "$url" | sed -E 's#(://)[^/@]*@#\1#'
}

# Replaces dist/<env>/<name> with the finished $2 (file or directory) in one step
# for files; for directories the old copy is moved aside first, never half-written.
publish() {
  local dest=$1 tmp=$2
  if [ -d "$tmp" ]; then
    local old="$dest.old.$$"
    [ -e "$dest" ] && mv -T "$dest" "$old"
    mv -T "$tmp" "$dest"
    rm -rf "$old"
  else
    mv -f "$tmp" "$dest"
  fi
}

# Rewrites dist/<env>/SHA256SUMS from the artifacts present (`sha256sum -c` checks it).
write_sums() {
  local dir=$1 tmp
  tmp=$(mktemp "$dir/.SHA256SUMS.XXXXXX")
  (cd "$dir" && for f in gateway sbom.cdx.json image/index.json; do
    [ -f "$f" ] && sha256sum "$f"
  done) >"$tmp" || true
  chmod 0644 "$tmp"
  publish "$dir/SHA256SUMS" "$tmp"
}

sha256() {
  sha256sum "$1" | cut -d' ' -f1
}
