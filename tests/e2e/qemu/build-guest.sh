#!/usr/bin/env bash
# build-guest.sh — build the QEMU test guest for vgate's e2e tests.
#
# Usage: tests/e2e/qemu/build-guest.sh [OUTDIR]    (default: tests/e2e/.cache/qemu)
#
# Produces, in OUTDIR:
#   vmlinuz       Debian *cloud* kernel, from the package that the meta-package
#                 linux-image-cloud-amd64 depends on, fetched with `apt-get download`
#                 and unpacked with `dpkg -x` (never installed, /boot is not touched)
#   initrd.img    a gzip'ed cpio busybox initramfs (busybox-static) whose /init
#                 loads the virtio-net modules, runs DHCP and the test named by
#                 `vgtest=NAME` on the kernel command line (see guest/init), and
#                 prints `VGTEST RESULT NAME ok|fail` on the serial console
#   kernel-version, modules/*.ko, stamp
# VGATE_KERNEL_PKG=linux-image-…-cloud-amd64 overrides the kernel package (only read
# when OUTDIR holds no kernel yet).
# Idempotent: if OUTDIR already holds a guest built from the same inputs (kernel
# package, busybox, the guest/ scripts and this script) nothing is done. The kernel
# download is skipped when OUTDIR already holds the unpacked kernel.
# Needs: apt-get, dpkg, busybox-static, cpio, gzip, util-linux (flock), xz-utils (for .ko.xz), zstd (only
# if modules are .ko.zst).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUTDIR=${1:-$HERE/../.cache/qemu}
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
# Tests may run in parallel (ctest -j): one builder at a time per OUTDIR.
if command -v flock >/dev/null; then
  exec 9>"$OUTDIR/.lock"
  flock -w 900 9 || { echo "build-guest: error: $OUTDIR/.lock held for 15 min" >&2; exit 1; }
fi
BUSYBOX=${BUSYBOX:-/bin/busybox}
# Load order matters: each module depends on the ones before it.
MODULES="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci failover net_failover virtio_net"

log() { echo "build-guest: $*" >&2; }
die() { echo "build-guest: error: $*" >&2; exit 1; }

for tool in dpkg cpio gzip; do
  command -v "$tool" >/dev/null || die "'$tool' not found (install it: apt-get install -y ${tool/dpkg/dpkg})"
done
[ -x "$BUSYBOX" ] || die "$BUSYBOX not found (apt-get install -y busybox-static)"
file_out=$(file -L "$BUSYBOX" 2>/dev/null || true)
case "$file_out" in *dynamically*) die "$BUSYBOX is dynamically linked; install busybox-static";; esac

# ---- 1. kernel ---------------------------------------------------------------------
# Resolve the versioned package name, e.g. linux-image-6.1.0-56-cloud-amd64.
resolve_kernel_pkg() {
  local pkg
  pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
        awk '$1 ~ /Depends:/ && $2 ~ /^linux-image-[0-9].*-cloud-amd64$/ && !p {p = $2} END {print p}')
  if [ -z "$pkg" ]; then
    # Fallback: the newest versioned cloud kernel apt knows about.
    pkg=$(apt-cache search --names-only '^linux-image-[0-9].*-cloud-amd64$' 2>/dev/null |
          awk '{print $1}' | grep -v -- '-dbg' | sort -V | tail -n1)
  fi
  echo "$pkg"
}

KDIR=$OUTDIR/kernel
if [ -s "$OUTDIR/kernel-version" ] && [ -s "$KDIR/vmlinuz" ] && [ -s "$KDIR/package" ]; then
  KPKG=$(cat "$KDIR/package")
  KVER=$(cat "$OUTDIR/kernel-version")
  log "kernel cached: $KPKG"
else
  KPKG=${VGATE_KERNEL_PKG:-$(resolve_kernel_pkg)}
  [ -n "$KPKG" ] || die "cannot resolve the cloud kernel package (apt-cache depends linux-image-cloud-amd64 gave nothing; run apt-get update?)"
  log "kernel package: $KPKG"
  TMP=$(mktemp -d "$OUTDIR/tmp.XXXXXX")
  trap 'rm -rf "$TMP"' EXIT
  # As root, apt-get would try to drop to the _apt user, which may not be able to write
  # here; the download goes into our own temp dir, so do not sandbox it.
  sandbox=(); [ "$(id -u)" = 0 ] && sandbox=(-o APT::Sandbox::User=root)
  (cd "$TMP" && timeout 600 apt-get download -q "${sandbox[@]}" "$KPKG" >&2) || die "apt-get download $KPKG failed"
  debs=("$TMP"/*.deb); deb=${debs[0]}; [ -f "$deb" ] || deb=""
  [ -n "$deb" ] || die "apt-get download $KPKG produced no .deb"
  dpkg -x "$deb" "$TMP/x"
  kernels=("$TMP"/x/boot/vmlinuz-*); vmlinuz=${kernels[0]}; [ -f "$vmlinuz" ] || vmlinuz=""
  [ -n "$vmlinuz" ] || die "no /boot/vmlinuz-* in $deb"
  KVER=${vmlinuz##*/vmlinuz-}
  moddir=$TMP/x/lib/modules/$KVER
  [ -d "$moddir" ] || die "no lib/modules/$KVER in $deb"
  rm -rf "$KDIR"; mkdir -p "$KDIR/modules"
  cp "$vmlinuz" "$KDIR/vmlinuz"
  cp "$TMP"/x/boot/config-* "$KDIR/config" 2>/dev/null || true
  : > "$KDIR/module-order"
  for m in $MODULES; do
    # Module file names may use '-' or '_'; they may be plain or compressed.
    src=$(find "$moddir/kernel" \( -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" -o -name "$m.ko.gz" \
          -o -name "${m//_/-}.ko" -o -name "${m//_/-}.ko.xz" -o -name "${m//_/-}.ko.zst" -o -name "${m//_/-}.ko.gz" \) -print -quit)
    if [ -z "$src" ]; then
      if grep -qE "/(${m}|${m//_/-})\.ko\$" "$moddir/modules.builtin" 2>/dev/null; then
        log "module $m is built in"
        continue
      fi
      die "module $m is neither a module nor built in for $KVER"
    fi
    dst=$KDIR/modules/$m.ko
    case "$src" in
      *.ko.xz)  command -v xz >/dev/null || die "xz needed (apt-get install -y xz-utils)"; xz -dc "$src" > "$dst" ;;
      *.ko.zst) command -v zstd >/dev/null || die "zstd needed (apt-get install -y zstd)"; zstd -qdc "$src" > "$dst" ;;
      *.ko.gz)  gzip -dc "$src" > "$dst" ;;
      *)        cp "$src" "$dst" ;;
    esac
    echo "$m" >> "$KDIR/module-order"
  done
  echo "$KPKG" > "$KDIR/package"
  echo "$KVER" > "$OUTDIR/kernel-version"
  rm -rf "$TMP"; trap - EXIT
  log "kernel $KVER unpacked ($(wc -l < "$KDIR/module-order") modules)"
fi
ln -sf kernel/vmlinuz "$OUTDIR/vmlinuz"

# ---- 2. initramfs ------------------------------------------------------------------
stamp=$( { echo "$KPKG $KVER"; sha256sum "$BUSYBOX" "${BASH_SOURCE[0]}" "$HERE"/guest/init \
           "$HERE"/guest/udhcpc.sh "$HERE"/guest/tests/*.sh "$KDIR"/modules/* "$KDIR/module-order"; } |
         sha256sum | cut -d' ' -f1)
if [ -s "$OUTDIR/initrd.img" ] && [ "$(cat "$OUTDIR/stamp" 2>/dev/null)" = "$stamp" ]; then
  log "up to date: $OUTDIR/initrd.img"
  exit 0
fi

ROOT=$(mktemp -d "$OUTDIR/root.XXXXXX")
trap 'rm -rf "$ROOT"' EXIT
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root,modules,tests}
cp "$BUSYBOX" "$ROOT/bin/busybox"
# One symlink per applet, at the path busybox itself reports.
"$BUSYBOX" --list-full | while read -r applet; do
  [ -e "$ROOT/$applet" ] || ln -s /bin/busybox "$ROOT/$applet"
done
install -m 755 "$HERE/guest/init" "$ROOT/init"
install -m 755 "$HERE/guest/udhcpc.sh" "$ROOT/etc/udhcpc.sh"
install -m 755 "$HERE"/guest/tests/*.sh "$ROOT/tests/"
cp "$KDIR"/modules/*.ko "$ROOT/modules/" 2>/dev/null || true
cp "$KDIR/module-order" "$ROOT/modules/order"
echo "root:x:0:0:root:/root:/bin/sh" > "$ROOT/etc/passwd"
echo "root:x:0:" > "$ROOT/etc/group"
echo "127.0.0.1 localhost" > "$ROOT/etc/hosts"
echo "vgguest" > "$ROOT/etc/hostname"
# /dev/console for init's first output (the kernel's built-in initramfs also has one,
# and /init re-opens the console after mounting devtmpfs, so this is best effort).
mknod -m 600 "$ROOT/dev/console" c 5 1 2>/dev/null || true
mknod -m 666 "$ROOT/dev/null" c 1 3 2>/dev/null || true
(cd "$ROOT" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$OUTDIR/initrd.cpio"
gzip -9 -n -c "$OUTDIR/initrd.cpio" > "$OUTDIR/initrd.img.tmp"
rm -f "$OUTDIR/initrd.cpio"
mv -f "$OUTDIR/initrd.img.tmp" "$OUTDIR/initrd.img"
echo "$stamp" > "$OUTDIR/stamp"
log "built $OUTDIR/initrd.img ($(du -k "$OUTDIR/initrd.img" | cut -f1) KiB) for kernel $KVER"
