#!/usr/bin/env bash
# Builds the third-party Go servers Berth's tests run for real (kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl, kubelet, kube-proxy, etcd, kwok, helm,
# FerretDB)
# from their Go modules into a cache keyed by version. Idempotent: a part whose
# binary is already cached is skipped.
#   BERTH_PARTS_CACHE  cache root (default ~/.cache/berth/parts)
#   KUBEBUILDER_ASSETS binaries found there (kube-apiserver, etcd, kubectl, ...) are not built
set -euo pipefail

# One list of versions, shared with berth_testkit.parts.
# shellcheck source=../libs/testkit/src/berth_testkit/parts-versions.env
source "$(dirname "${BASH_SOURCE[0]}")/../libs/testkit/src/berth_testkit/parts-versions.env"
KUBE_VERSION="${BERTH_KUBE_VERSION:-$KUBE}"
ETCD_VERSION="${BERTH_ETCD_VERSION:-$ETCD}"
KWOK_VERSION="${BERTH_KWOK_VERSION:-$KWOK}"
HELM_VERSION="${BERTH_HELM_VERSION:-$HELM}"
FERRETDB_VERSION="${BERTH_FERRETDB_VERSION:-$FERRETDB}"
CACHE="${BERTH_PARTS_CACHE:-$HOME/.cache/berth/parts}"
export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -trimpath" GOTOOLCHAIN=local

log() { printf '[build-go-parts] %s\n' "$*" >&2; }

# wrapper_module DIR MODULE VERSION : a module that requires MODULE@VERSION and
# rewrites each `X => ./staging/...` or `X => ./...` replace to a published version.
wrapper_module() {
  local dir=$1 mod=$2 ver=$3 staging_ver=$4
  mkdir -p "$dir"
  local modfile
  modfile=$(go mod download -json "$mod@$ver" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')
  {
    echo "module berth.local/wrapper"
    grep -E '^go [0-9]' "$modfile"
    grep -E '^godebug' "$modfile" | sort -u || true
    echo "require $mod $ver"
    grep -E '^\s*(replace\s+)?\S+ => \.\.?/' "$modfile" | grep -v FORBIDDEN | sed -E 's/^\s*replace\s+//' | awk -v v="$staging_ver" '{print "replace " $1 " => " $1 " " v}'
  } >"$dir/go.mod"
  printf 'package wrapper\n' >"$dir/doc.go"
  (cd "$dir" && go mod tidy -e >/dev/null 2>&1 || true; go get "$mod@$ver" >/dev/null)
}

build_kube() {
  local out="$CACHE/kube-$KUBE_VERSION/bin"
  # envtest's KUBEBUILDER_ASSETS holds kube-apiserver and kubectl (not the controller-manager
  # or scheduler): build only what neither it nor the cache has.
  local want=() b
  for b in kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy; do
    if [[ -n "${KUBEBUILDER_ASSETS:-}" && -x "$KUBEBUILDER_ASSETS/$b" ]]; then
      log "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS used for $b"
    elif [[ ! -x "$out/$b" ]]; then
      want+=("$b")
    fi
  done
  ((${#want[@]})) || { log "kube $KUBE_VERSION cached"; return; }
  local staging="v0.${KUBE_VERSION#v1.}"
  local dir="$CACHE/src/kube-$KUBE_VERSION"
  wrapper_module "$dir" k8s.io/kubernetes "$KUBE_VERSION" "$staging"
  local gitver="$KUBE_VERSION" major=1 minor; minor=$(echo "$KUBE_VERSION" | cut -d. -f2)
  local ld="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=$gitver -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  mkdir -p "$out"
  for b in "${want[@]}"; do
    log "building $b $KUBE_VERSION"
    local t0=$SECONDS
    (cd "$dir" && go get "k8s.io/kubernetes/cmd/$b@$KUBE_VERSION" && go build -ldflags "$ld" -o "$out/$b.tmp" "k8s.io/kubernetes/cmd/$b")
    mv "$out/$b.tmp" "$out/$b"
    log "$b: $((SECONDS - t0))s"
  done
}

build_etcd() {
  local out="$CACHE/etcd-$ETCD_VERSION/bin"
  if [[ -n "${KUBEBUILDER_ASSETS:-}" && -x "$KUBEBUILDER_ASSETS/etcd" ]]; then return; fi
  [[ -x "$out/etcd" ]] && { log "etcd $ETCD_VERSION cached"; return; }
  local dir="$CACHE/src/etcd-$ETCD_VERSION"
  mkdir -p "$dir" "$out"
  # server/v3 is a library with etcdmain.Main; the wrapper gets a main.go calling it
  # and published versions for the sibling modules server/v3 replaces with ../ paths.
  wrapper_module "$dir" go.etcd.io/etcd/server/v3 "$ETCD_VERSION" "$ETCD_VERSION"
  printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' >"$dir/main.go"
  rm -f "$dir/doc.go"
  (cd "$dir" && go mod tidy >/dev/null)
  log "building etcd $ETCD_VERSION"
  (cd "$dir" && go build -ldflags "-s -w" -o "$out/etcd.tmp" .)
  mv "$out/etcd.tmp" "$out/etcd"
}

build_simple() { # name module-path version binary-name [extra ldflags]
  local name=$1 pkg=$2 ver=$3 bin=$4 ldflags=${5:-}
  local out="$CACHE/$name-$ver/bin"
  [[ -x "$out/$bin" ]] && { log "$name $ver cached"; return; }
  mkdir -p "$out"
  log "building $name $ver"
  GOBIN="$out" go install -ldflags "-s -w $ldflags" "$pkg@$ver"
}

build_ferretdb() {
  # FerretDB's main refuses to start without build/version/version.txt, which its module
  # zip lacks; build from a writable copy of the module with that file written.
  local out="$CACHE/ferretdb-$FERRETDB_VERSION/bin"
  [[ -x "$out/ferretdb" ]] && { log "ferretdb $FERRETDB_VERSION cached"; return; }
  local src="$CACHE/src/ferretdb-$FERRETDB_VERSION" moddir
  moddir=$(go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" | sed -n 's/.*"Dir": "\(.*\)",*/\1/p')
  rm -rf "$src"; mkdir -p "$src" "$out"
  cp -r "$moddir/." "$src/"; chmod -R u+w "$src"
  echo "$FERRETDB_VERSION" >"$src/build/version/version.txt"
  log "building ferretdb $FERRETDB_VERSION"
  (cd "$src" && go build -ldflags "-s -w" -o "$out/ferretdb.tmp" ./cmd/ferretdb)
  mv "$out/ferretdb.tmp" "$out/ferretdb"
}

parts=("$@"); ((${#parts[@]})) || parts=(etcd kube kwok helm ferretdb)
for p in "${parts[@]}"; do
  started=$SECONDS
  case $p in
    kube) build_kube ;;
    etcd) build_etcd ;;
    kwok) build_simple kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK_VERSION" kwok ;;
    helm) build_simple helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION" helm \
            "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" ;;
    ferretdb) build_ferretdb ;;
    *) log "unknown part $p"; exit 2 ;;
  esac
  log "$p: $((SECONDS - started))s"
done
log "done: $CACHE"
