#!/usr/bin/env bash
# Builds `berth registry serve` as a container image with `berth build`, from this host's node
# binary (and the shared libraries it links) and the bundled CLI, on `FROM scratch`: an
# air-gapped host gets a private registry without pulling `registry:2` from anywhere.
#   contrib/registry-image/build.sh [TAG]      (default berth/registry:latest)
#   berth run -d -p 5000:5000 -v registry-data:/var/lib/registry berth/registry
set -euo pipefail
cd "$(dirname "$0")/../.."
TAG=${1:-berth/registry:latest}
[ -f dist/berth.cjs ] || npm run -s build
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
root=$ctx/rootfs
node=$(readlink -f "$(command -v node)")
install -D -m 0755 "$node" "$root/usr/local/bin/node"
# The CLI: its launcher, the bundle and the bundle's code cache (see scripts/build.mjs).
for f in berth.cjs berth-cli.cjs berth-cli.cjs.cache; do install -D -m 0644 "dist/$f" "$root/usr/local/lib/berth/$f"; done
# The dynamic loader and every library node links, at the paths the loader looks them up by.
for lib in $(ldd "$node" | awk '/=>/ { print $3 } /^\t\/[^ ]*ld-linux/ { print $1 }'); do
  install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
done
mkdir -p "$root/tmp" "$root/var/lib/registry"
chmod 1777 "$root/tmp"
cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY rootfs/ /
VOLUME /var/lib/registry
EXPOSE 5000
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/node", "/usr/local/lib/berth/berth.cjs", "registry", "serve", "--addr", "0.0.0.0:5000", "--root", "/var/lib/registry"]
DOCKERFILE
# BERTH: how to run the CLI (default `berth` on PATH), e.g. "node dist/berth.mjs".
${BERTH:-berth} build -q -t "$TAG" "$ctx"
