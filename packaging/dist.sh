#!/usr/bin/env bash
# Release artifacts from a built binary, in dist/ (what `make dist` runs after the release build):
#   vcsa_exporter-VERSION.linux-amd64.tar.gz   node_exporter's layout: one top directory
#   vcsa-exporter_VERSION-REV_amd64.deb         see packaging/deb/build.sh
#   sha256sums.txt                             as Prometheus releases have
#
#   SHIPPED_STRIP="strip ..." bash packaging/dist.sh BINARY VERSION DEB_REVISION   (make dist runs it)
set -euo pipefail
cd "$(dirname "$0")/.."
binary=$1 version=$2 deb_revision=$3
name=vcsa_exporter-$version.linux-amd64
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The build time of every file is the commit's, so that two builds of one commit are identical.
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH

# Start from an empty dist/: nothing from an earlier version is left to be published by mistake.
rm -rf dist
mkdir -p dist

# One stripped binary for both artifacts: debug info and symbols are most of it (85 MB -> 25 MB),
# and Debian requires stripped binaries (lintian: unstripped-binary-or-object). How: SHIPPED_STRIP
# in the Makefile, which `make bench` and the Dockerfile use too.
${SHIPPED_STRIP:?set by make dist: SHIPPED_STRIP in the Makefile} -o "$work/vcsa_exporter" "$binary"
"$work/vcsa_exporter" --version

# The tarball: what a manual install needs, the unit for /usr/local/bin included.
mkdir "$work/$name"
install -m 0755 "$work/vcsa_exporter" "$work/$name/vcsa_exporter"
install -m 0644 LICENSE NOTICE README.md packaging/web-config.example.yml \
  deploy/systemd/vcsa_exporter.service deploy/systemd/vcsa_exporter.env.example "$work/$name/"
install -m 0644 deploy/vcsa_exporter.yml "$work/$name/vcsa_exporter.example.yml"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
  -C "$work" -cf - "$name" | gzip -9n >"dist/$name.tar.gz"

# The Debian package.
bash packaging/deb/build.sh "$work/vcsa_exporter" "$version-$deb_revision" dist

# Checksums of everything published, as `sha256sum -c sha256sums.txt` checks them.
(cd dist && sha256sum -- *.tar.gz *.deb >sha256sums.txt)
ls -l dist
