#!/usr/bin/env bash
# Benchmarks berth against Docker (Debian docker.io) and Podman on this machine, in one run.
#   bench/run.sh            every benchmark (about 6-8 minutes on 2 cores)
#   bench/run.sh NAME...    only those (bench/run.sh --help lists them)
#   bench/run.sh network    the networking group (net-rm net-publish net-http net-dns), results
#                           in bench/results/network.md; it restarts dockerd with iptables on
#   bench/run.sh registry-server  berth registry serve vs docker-registry pull throughput
#                           (no engine started), results in bench/results/registry-server.md
#   bench/run.sh data       the data group (data-cp data-commit data-stats data-volume), results
#                           in bench/results/data.md; BENCH_VOLUME_MB sets the dd size (1024)
#   bench/run.sh cli        the CLI: berth vs the docker CLI against the same berthd, and the start-up
#                           floor, results in bench/results/cli.md
#   bench/run.sh registry   pull/push/save/load (reg-archive reg-transfer) against Debian's docker-registry
#                           on 127.0.0.1, results in bench/results/registry.md (test image cached in bench/.cache)
# Env: BENCH_SCALE=0.25 scales iteration counts for a quick trial; BENCH_WRITER_N=3 repeats
# the 500 MB writer. Needs root. Installs docker.io and podman from Debian if missing (they stay
# installed); every daemon it starts is stopped and every container it makes is removed at the
# end, even on failure or Ctrl-C. Never pulls: the busybox image is built offline from the repo.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then echo "bench: needs root" >&2; exit 1; fi

missing=()
for p in docker.io podman; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench: installing ${missing[*]} (Debian packages)" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Debian starts dockerd/containerd after install where systemd runs; the bench runs its own
# isolated dockerd, so a system one would only add noise (and is stopped again at the end).
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl stop docker.socket docker.service containerd.service 2>/dev/null || true
fi
if [ ! -x /usr/local/bin/docker ]; then
  echo "bench: /usr/local/bin/docker (docker CLI 28) is missing; the Debian CLI 20.10 is not used" >&2
  exit 1
fi

if [ ! -f dist/berthd.mjs ] || [ ! -f dist/berth.cjs ] || [ ! -x native/build/berth-helper ]; then npm run -s build; fi
mkdir -p build
[ -f build/busybox.tar ] || node scripts/make-busybox-image.mjs build/busybox.tar

exec node --import tsx bench/main.ts "$@"
