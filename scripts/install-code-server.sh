#!/usr/bin/env bash
# Installs what the extension-host and browser tests need, outside the project's own
# dependencies (see shared/TESTING.md): Debian's chromium, libkrb5-dev and ripgrep, then
# code-server 4.100.3 (VS Code 1.100.3, the newest that runs on Node 20) and playwright-core
# into a cached tool folder. Idempotent: when everything is there it only checks and returns.
# Prints the tool folder on its last line.
set -euo pipefail

CODE_SERVER_VERSION=4.100.3
PLAYWRIGHT_VERSION=1.65.1
TOOLS="${DOCKER_STABILITY_TOOLS:-$HOME/.cache/docker-stability-tools}"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

need_pkgs=()
[ -x /usr/bin/chromium ] || need_pkgs+=(chromium)
command -v rg >/dev/null 2>&1 || need_pkgs+=(ripgrep)
[ -e /usr/include/gssapi/gssapi.h ] || [ -e /usr/include/krb5.h ] || need_pkgs+=(libkrb5-dev)
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  echo "install-code-server: installing ${need_pkgs[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

installed_version() {
  node -e 'try { console.log(require(process.argv[1]).version) } catch { }' "$TOOLS/node_modules/$1/package.json"
}

if [ "$(installed_version code-server)" = "$CODE_SERVER_VERSION" ] &&
  [ "$(installed_version playwright-core)" = "$PLAYWRIGHT_VERSION" ] &&
  [ -x "$TOOLS/node_modules/.bin/code-server" ]; then
  echo "install-code-server: code-server $CODE_SERVER_VERSION and playwright-core $PLAYWRIGHT_VERSION ready"
  echo "$TOOLS"
  exit 0
fi

mkdir -p "$TOOLS"
# code-server's @vscode/ripgrep postinstall downloads a ripgrep release; nothing can be
# downloaded here, so its cache is seeded with Debian's rg under the name it looks for.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/rg/bin" "$scratch/tmp"
cp "$(command -v rg)" "$scratch/rg/rg"
for v in 1.15.11 1.15.14; do
  mkdir -p "$scratch/tmp/vscode-ripgrep-cache-$v"
  tar -C "$scratch/rg" -czf "$scratch/tmp/vscode-ripgrep-cache-$v/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" rg
done

# npm_config_yes: node-pty's postinstall runs `npx node-gyp`, which otherwise stops to ask.
[ -f "$TOOLS/package.json" ] || echo '{ "name": "docker-stability-tools", "private": true }' > "$TOOLS/package.json"
echo "install-code-server: installing code-server@$CODE_SERVER_VERSION and playwright-core@$PLAYWRIGHT_VERSION into $TOOLS (about 2 minutes)"
(
  cd "$TOOLS"
  TMPDIR="$scratch/tmp" npm_config_unsafe_perm=true npm_config_yes=true npm install --no-audit --no-fund --loglevel=error \
    "code-server@$CODE_SERVER_VERSION" "playwright-core@$PLAYWRIGHT_VERSION"
)
[ -x "$TOOLS/node_modules/.bin/code-server" ] || { echo "install-code-server: code-server did not install"; exit 1; }
echo "install-code-server: ready"
echo "$TOOLS"
