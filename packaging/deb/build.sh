#!/usr/bin/env bash
# Builds the Debian package vcsa-exporter with dpkg-deb, from a staging tree assembled here out of
# a stripped binary and the files beside this script (packaging/deb/README.md lists them).
#
#   bash packaging/deb/build.sh BINARY DEB_VERSION OUTDIR      (make dist runs it)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
binary=$1 version=$2 outdir=$3
package=vcsa-exporter
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# dpkg-shlibdeps looks for debian/control, and for the files under debian/<package>/.
root=$work/debian/$package
doc=$root/usr/share/doc/$package
# Dates in the changelog, the man page and the archive: the commit's, for reproducible packages.
: "${SOURCE_DATE_EPOCH:=$(git -C "$top" log -1 --format=%ct 2>/dev/null || date +%s)}"
export SOURCE_DATE_EPOCH
umask 022

# The files, with their modes (dpkg-deb --root-owner-group makes root own them all).
install -D -m 0755 "$binary" "$root/usr/bin/vcsa_exporter"
install -D -m 0644 "$here/vcsa_exporter.service" "$root/lib/systemd/system/vcsa_exporter.service"
install -D -m 0644 "$here/default" "$root/etc/default/vcsa_exporter"
install -D -m 0644 "$here/lintian-overrides" "$root/usr/share/lintian/overrides/$package"
install -D -m 0644 "$here/copyright" "$doc/copyright"
install -m 0644 "$top/NOTICE" "$doc/NOTICE"
install -D -m 0644 "$top/packaging/web-config.example.yml" "$doc/examples/web-config.example.yml"
install -m 0644 "$top/deploy/vcsa_exporter.yml" "$doc/examples/vcsa_exporter.example.yml"
# Policy 12.3: documentation over 4 kB is compressed (copyright never).
gzip -9n <"$top/README.md" >"$doc/README.md.gz"

# changelog.Debian: one entry for this build, by the maintainer the control file names.
maintainer=$(sed -n 's/^Maintainer: //p' "$here/control")
revision=$("$binary" --version | sed -n 's/.*(revision \([^,]*\),.*/\1/p')
cat >"$work/changelog" <<EOF
$package ($version) unstable; urgency=medium

  * Upstream release ${version%-*}, git revision $revision.

 -- $maintainer  $(date -u -R -d "@$SOURCE_DATE_EPOCH")
EOF
gzip -9n <"$work/changelog" >"$doc/changelog.Debian.gz"

# The man page, from --help and --version, with ENVIRONMENT, FILES and SEE ALSO from the .h2m file.
# help2man bolds only the "--web" of "--web.listen-address": bold the whole flag.
help2man --no-info --section=1 --include="$here/vcsa_exporter.h2m" \
  --name="Prometheus exporter for vCenter Server Appliance recovery jobs" "$root/usr/bin/vcsa_exporter" \
  | sed -E 's/\\fB(\\-\\-[a-z]+)\\fR(\.[a-z.\\-]+)/\\fB\1\2\\fR/g' >"$work/vcsa_exporter.1"
install -d "$root/usr/share/man/man1"
gzip -9n <"$work/vcsa_exporter.1" >"$root/usr/share/man/man1/vcsa_exporter.1.gz"

# Maintainer scripts and the conffile list.
install -d "$root/DEBIAN"
install -m 0755 "$here/postinst" "$here/prerm" "$here/postrm" "$root/DEBIAN/"
install -m 0644 "$here/conffiles" "$root/DEBIAN/"

# Depends: the packages of the shared libraries the binary loads, with the minimum versions
# of the symbols it uses, from dpkg-shlibdeps (it needs a debian/control naming the package);
# adduser for postinst.
printf 'Source: %s\n\nPackage: %s\nArchitecture: amd64\n' "$package" "$package" >"$work/debian/control"
shlibs=$(cd "$work" && dpkg-shlibdeps -O -e"debian/$package/usr/bin/vcsa_exporter" | sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || { echo "dpkg-shlibdeps found no dependencies" >&2; exit 1; }
# Packed relative relocations (DT_RELR, SHIPPED_FLAGS in the Makefile) need glibc 2.36's loader: the
# binary names the version GLIBC_ABI_DT_RELR without importing a symbol of it, which dpkg-shlibdeps
# does not count (it says libc6 >= 2.35).
if readelf -V "$root/usr/bin/vcsa_exporter" | grep -q 'Name: GLIBC_ABI_DT_RELR'; then
  shlibs=$(printf '%s' "$shlibs" | sed -E 's/libc6 \(>= [0-9.]+\)/libc6 (>= 2.36)/')
  case $shlibs in *"libc6 (>= 2.36)"*) ;; *) echo "no libc6 (>= 2.36) in Depends: $shlibs" >&2; exit 1 ;; esac
fi
depends="adduser, $shlibs"

# Installed-Size in KiB, counted as dpkg-gencontrol does: each file rounded up, 1 per other entry.
installed_size=$(find "$root" -path "$root/DEBIAN" -prune -o ! -path "$root" -printf '%y %s\n' \
  | awk '$1 == "f" { kib += int(($2 + 1023) / 1024); next } { kib += 1 } END { print kib }')

sed -e "s#@VERSION@#$version#" -e "s#@DEPENDS@#$depends#" -e "s#@INSTALLED_SIZE@#$installed_size#" \
  "$here/control" >"$root/DEBIAN/control"

# md5sums of the shipped files but the conffile, which dpkg tracks itself (as dh_md5sums does).
(cd "$root" && find . -type f ! -path './DEBIAN/*' ! -path './etc/*' -printf '%P\n' | LC_ALL=C sort \
  | xargs md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums"

# Every file dated from the commit, then the archive.
find "$root" -exec touch --no-dereference --date="@$SOURCE_DATE_EPOCH" {} +
mkdir -p "$outdir"
dpkg-deb --root-owner-group -Zxz --build "$root" "$outdir/${package}_${version}_amd64.deb"
