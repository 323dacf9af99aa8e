#!/usr/bin/env bash
# packaging/build-deb.sh - build the Debian package of ovs-vif from the
# compiled binary (npm run package runs npm run build, then this).
#
#   packaging/build-deb.sh [--binary PATH] [--out DIR] [--compression xz|gzip|zstd|none]
#
# Writes DIR/ovs-vif_VERSION_ARCH.deb (default DIR: dist/) and prints its
# path. Offline: everything comes from the checkout, the binary and the
# build host's dpkg tools (dpkg-deb, dpkg-shlibdeps); the version is
# package.json's, and must head packaging/changelog. The same inputs give the
# same .deb (file times and the man pages' date are the changelog's).
set -euo pipefail

PROG=${0##*/}
REPO=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
PKG=$REPO/packaging

die() { echo "$PROG: error: $*" >&2; exit 1; }
usage_error() { echo "$PROG: $* (usage: $PROG [--binary PATH] [--out DIR] [--compression xz|gzip|zstd|none])" >&2; exit 2; }

BINARY=$REPO/dist/ovs-vif
OUT=$REPO/dist
COMPRESSION=xz
while (($#)); do
  case $1 in
    --binary) (($# >= 2)) || usage_error "--binary needs a path"; BINARY=$2; shift ;;
    --out) (($# >= 2)) || usage_error "--out needs a directory"; OUT=$2; shift ;;
    --compression) (($# >= 2)) || usage_error "--compression needs a type"; COMPRESSION=$2; shift ;;
    -h|--help) echo "usage: $PROG [--binary PATH] [--out DIR] [--compression xz|gzip|zstd|none]"; exit 0 ;;
    *) usage_error "unknown argument: $1" ;;
  esac
  shift
done
case $COMPRESSION in xz|gzip|zstd|none) ;; *) usage_error "--compression $COMPRESSION: not xz, gzip, zstd or none" ;; esac

BUN=$REPO/node_modules/.bin/bun
[[ -x $BUN ]] || die "$BUN missing: run 'npm ci' first"
[[ -f $BINARY && -x $BINARY ]] || die "$BINARY: no executable binary (run 'npm run build')"
for tool in dpkg-deb dpkg-shlibdeps gzip md5sum; do
  command -v "$tool" >/dev/null || die "$tool not found (Debian packages dpkg, dpkg-dev, gzip, coreutils)"
done

# ---------------------------------------------------------------- version, architecture, date
VERSION=$(cd "$REPO" && "$BUN" -e 'console.log(require("./package.json").version)')
[[ $VERSION =~ ^[0-9][A-Za-z0-9.+~]*$ ]] || die "package.json version \"$VERSION\" is not a Debian native version"
read -r top < "$PKG/changelog"
[[ $top == "ovs-vif ($VERSION) "* ]] || die "packaging/changelog starts with \"$top\", not version $VERSION of package.json: add an entry"
CHANGED=$(sed -n 's/^ -- .*>  //p' "$PKG/changelog" | head -n 1)
EPOCH=$(date -u -d "$CHANGED" +%s) || die "packaging/changelog: bad date \"$CHANGED\""
DATE=$(date -u -d "@$EPOCH" +%Y-%m-%d)

ARCH=$(dpkg --print-architecture)
# The binary is the build host's Bun plus the program: it must match.
case $(od -An -tx1 -j18 -N2 "$BINARY" | tr -d ' \n') in
  3e00) BIN_ARCH=amd64 ;;
  b700) BIN_ARCH=arm64 ;;
  *) die "$BINARY: not an x86-64 or aarch64 ELF executable" ;;
esac
[[ $BIN_ARCH == "$ARCH" ]] || die "$BINARY is for $BIN_ARCH, this host builds $ARCH packages"
BUN_VERSION=$("$BUN" --version)

# ---------------------------------------------------------------- the tree
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ovs-vif-deb.XXXXXX")
trap 'rm -rf -- "$WORK"' EXIT
umask 022
# debian/ovs-vif: where dpkg-shlibdeps expects a package's files.
S=$WORK/debian/ovs-vif
DOC=$S/usr/share/doc/ovs-vif

install -d "$S/usr/lib/ovs-vif" "$S/usr/sbin" "$S/usr/lib/systemd/system" "$S/usr/share/man/man8" \
  "$DOC/examples" "$S/usr/share/lintian/overrides" "$S/etc/ovs-vif" "$S/var/lib/ovs-vif" "$S/DEBIAN"
install -m 0755 "$BINARY" "$S/usr/lib/ovs-vif/ovs-vif"
# xl's script= takes this path; the name selects the Xen hook.
ln -s ovs-vif "$S/usr/lib/ovs-vif/vif-openvswitch"
# What /etc/ganeti/kvm-vif-bridge (a small script, see install.sh) runs.
ln -s ovs-vif "$S/usr/lib/ovs-vif/kvm-vif-bridge"
ln -s ../lib/ovs-vif/ovs-vif "$S/usr/sbin/ovs-vif"
# install.sh, which runs links-only under this name.
sed '1s|^#!/usr/bin/env bash$|#!/bin/bash|' "$REPO/install.sh" >"$S/usr/sbin/ovs-vif-setup"
chmod 0755 "$S/usr/sbin/ovs-vif-setup"
# /usr/lib/systemd/system: where Debian 13's lintian wants them (/lib is an
# alias there) and Debian 12's systemd and lintian accept them too.
install -m 0644 "$PKG"/ovs-vif-{gc,watch}.{service,path} "$S/usr/lib/systemd/system/"

# Man pages from the programs' own --help texts.
"$BUN" "$PKG/manpage.ts" --binary "$S/usr/lib/ovs-vif/ovs-vif" --setup "$S/usr/sbin/ovs-vif-setup" \
  --version "$VERSION" --date "$DATE" --out "$WORK/man"
for page in ovs-vif.8 ovs-vif-setup.8; do
  gzip -9n <"$WORK/man/$page" >"$S/usr/share/man/man8/$page.gz"
done

sed "s/@BUN_VERSION@/$BUN_VERSION/g" "$PKG/copyright.in" >"$DOC/copyright"
gzip -9n <"$PKG/changelog" >"$DOC/changelog.gz"
gzip -9n <"$REPO/README.md" >"$DOC/README.md.gz"
for doc in "$REPO"/docs/*.md; do gzip -9n <"$doc" >"$DOC/$(basename "$doc").gz"; done
install -m 0644 "$REPO"/examples/*.json "$DOC/examples/"
install -m 0644 "$PKG/lintian-overrides" "$S/usr/share/lintian/overrides/ovs-vif"

# ---------------------------------------------------------------- DEBIAN/
install -m 0755 "$PKG/preinst" "$PKG/postinst" "$PKG/prerm" "$S/DEBIAN/"
HOOK_LINKS=$(OVS_VIF_SETUP_BINARY="$S/usr/lib/ovs-vif/ovs-vif" "$S/usr/sbin/ovs-vif-setup" --list | cut -d' ' -f2 | tr '\n' ' ' | sed 's/ $//')
sed "s|@HOOK_LINKS@|$HOOK_LINKS|" "$PKG/postrm.in" >"$S/DEBIAN/postrm"
chmod 0755 "$S/DEBIAN/postrm"

printf 'Source: ovs-vif\n\nPackage: ovs-vif\nArchitecture: any\n' >"$WORK/debian/control"
SHLIBS=$(cd "$WORK" && dpkg-shlibdeps --warnings=1 -O debian/ovs-vif/usr/lib/ovs-vif/ovs-vif)
SHLIBS=${SHLIBS#shlibs:Depends=}
[[ $SHLIBS == libc6* ]] || die "dpkg-shlibdeps: unexpected dependencies \"$SHLIBS\""
# As dpkg-gencontrol counts: KiB per file, rounded up, and 1 per other entry.
INSTALLED_SIZE=$(cd "$S" && find . -path ./DEBIAN -prune -o ! -name . -printf '%y %s\n' |
  awk '$1 == "f" { k += int(($2 + 1023) / 1024); next } { k += 1 } END { print k }')
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@INSTALLED_SIZE@/$INSTALLED_SIZE/" \
  -e "s/@SHLIBS_DEPENDS@/$SHLIBS/" "$PKG/control.in" >"$S/DEBIAN/control"
(cd "$S" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) >"$S/DEBIAN/md5sums"
chmod 0644 "$S/DEBIAN/control" "$S/DEBIAN/md5sums"

find "$S" -exec touch -h -d "@$EPOCH" {} +
mkdir -p -- "$OUT"
DEB=$OUT/ovs-vif_${VERSION}_${ARCH}.deb
SOURCE_DATE_EPOCH=$EPOCH dpkg-deb --root-owner-group -Z"$COMPRESSION" --build "$S" "$WORK/out.deb" >/dev/null
mv -f -- "$WORK/out.deb" "$DEB"
echo "$DEB"
