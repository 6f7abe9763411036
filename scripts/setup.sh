#!/usr/bin/env bash
# Sets up Berth on a fresh Debian 12 machine and runs the main job:
#   host packages → npm dependencies → build → berth/berthd on PATH → berthd started →
#   the built-in busybox image made offline from Debian's busybox-static → a container run.
# Idempotent: run it again at any time. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

PKGS=(crun runc conmon tini busybox-static iproute2 nftables iptables util-linux procps attr gcc make libc6-dev libseccomp-dev pigz docker-registry skopeo apache2-utils openssl)
missing=()
for p in "${PKGS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
# docker-py for the integration tests that drive berthd the way Python clients do (prune filters,
# create bodies); a copy installed another way (pip) serves as well.
python3 -c 'import docker' 2>/dev/null || missing+=(python3-docker)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "setup: building"
npm run -s build

# Wrappers on PATH: the bundles stay in the checkout, next to their node_modules.
# The CLI only speaks to a unix socket: loading extra CA certificates (NODE_EXTRA_CA_CERTS) would
# cost it ~90 ms a command for nothing. berthd keeps them (registries use TLS).
# dist/berth.cjs runs the CLI bundle from the V8 code cache the build made (docs/benchmarks.md).
cat > /usr/local/bin/berth <<WRAP
#!/bin/sh
unset NODE_EXTRA_CA_CERTS
exec node "$ROOT/dist/berth.cjs" "\$@"
WRAP
cat > /usr/local/bin/berthd <<WRAP
#!/bin/sh
exec node "$ROOT/dist/berthd.mjs" "\$@"
WRAP
chmod 755 /usr/local/bin/berth /usr/local/bin/berthd

# Members of the berth group may use the socket (root:berth 0660), as with docker's group.
getent group berth >/dev/null || groupadd --system berth

mkdir -p build
node scripts/make-busybox-image.mjs build/busybox.tar

if ! berth version >/dev/null 2>&1; then
  echo "setup: starting berthd (log: /var/log/berthd.log)"
  nohup berthd >>/var/log/berthd.log 2>&1 &
  for _ in $(seq 1 100); do berth version >/dev/null 2>&1 && break; sleep 0.1; done
fi
berth image inspect busybox:latest >/dev/null 2>&1 || berth load -i build/busybox.tar
berth run --rm busybox echo hello from berth
