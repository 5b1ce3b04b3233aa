#!/usr/bin/env bash
# Installs (Debian) and starts a local Docker engine with the safe flags from
# shared/TESTING.md, then builds the labelled busybox test image. Idempotent: on a
# machine where Docker already answers it installs nothing and starts nothing.
set -euo pipefail

IMAGE="${DOCKER_STABILITY_TEST_IMAGE:-docker-stability-test/busybox:1}"
LOG_DIR="${DOCKER_STABILITY_STATE:-/tmp/docker-stability-engine}"
mkdir -p "$LOG_DIR"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 || need_pkgs+=(docker-compose)
[ -x /bin/busybox ] || [ -x /usr/bin/busybox ] || need_pkgs+=(busybox-static)
# The lock fault matrix: clock skew (faketime), pid namespaces (unshare, util-linux), loop-mounted ext4.
command -v faketime >/dev/null 2>&1 || need_pkgs+=(faketime)
command -v mkfs.ext4 >/dev/null 2>&1 || need_pkgs+=(e2fsprogs)
# Debian's prometheus (server and promtool) for the agent's metrics tests; it starts no service.
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || need_pkgs+=(prometheus)
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  echo "setup-docker: installing ${need_pkgs[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

if ! timeout 5 docker version >/dev/null 2>&1; then
  echo "setup-docker: starting dockerd (no bridge, no iptables)"
  # containerd is started by dockerd itself when not running.
  as_root setsid dockerd --bridge=none --iptables=false --ip-masq=false \
    >"$LOG_DIR/dockerd.log" 2>&1 < /dev/null &
  for _ in $(seq 1 60); do
    timeout 5 docker version >/dev/null 2>&1 && break
    sleep 0.5
  done
  timeout 5 docker version >/dev/null 2>&1 || { echo "setup-docker: dockerd did not start"; tail -50 "$LOG_DIR/dockerd.log"; exit 1; }
fi

if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "setup-docker: building test image $IMAGE"
  bb=$(command -v busybox || echo /bin/busybox)
  root=$(mktemp -d)
  mkdir -p "$root/bin" "$root/tmp" "$root/etc"
  cp "$bb" "$root/bin/busybox"
  for a in sh sleep dd yes head cat ls rm mkdir echo true false env sync md5sum wc tail; do
    ln -s busybox "$root/bin/$a"
  done
  echo 'root:x:0:0:root:/:/bin/sh' > "$root/etc/passwd"
  tar -C "$root" -c . | docker import \
    --change 'LABEL docker-stability.test-image=true' \
    --change 'ENV PATH=/bin' \
    --change 'CMD ["/bin/sh"]' - "$IMAGE" >/dev/null
  rm -rf "$root"
fi
echo "setup-docker: engine $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})'), image $IMAGE ready"
