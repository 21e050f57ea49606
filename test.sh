#!/usr/bin/env bash
# Runs every test of Natter. Installs what the tests need when it is missing (Debian's PostgreSQL
# server binaries and Chromium, via apt as root); the test fixtures start and stop their own PostgreSQL server on
# 127.0.0.1, so nothing is left running. Set NATTER_TEST_POSTGRES to a connection string to use an
# existing server instead.
set -euo pipefail
cd "$(dirname "$0")"

need_apt=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
# The browser client's test drives Debian's Chromium (a test tool may not download a browser here).
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "test.sh: please install: ${need_apt[*]} (sudo apt-get install -y ${need_apt[*]})" >&2
    exit 1
  fi
  echo "test.sh: installing ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

dotnet build Akka.sln -c Release -nologo -clp:ErrorsOnly
dotnet test Akka.sln -c Release --no-build -nologo --logger "console;verbosity=minimal"

# Smoke runs of the load harness: correctness only (lost, duplicated, reordered must all be 0; the
# harness exits non-zero otherwise). Their timings are not figures: see docs/benchmarks.md.
bench=bench/Natter.Bench/bin/Release/net10.0/Natter.Bench.dll
dotnet "$bench" direct --quick --repeat 2 --json bench-results/direct-quick.json
dotnet "$bench" connections --quick --json bench-results/connections-quick.json
dotnet "$bench" group --quick --json bench-results/group-quick.json
dotnet "$bench" media --quick --json bench-results/media-quick.json
