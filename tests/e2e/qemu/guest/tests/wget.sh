#!/bin/sh
# shellcheck shell=dash # busybox ash, which also has pipefail
# wget: fetch vgurl= and print its sha256 (VGTEST SHA256 ...); if vgsha256= is given it
# must match. busybox 1.35 `wget -T` segfaults, so the bound is `timeout`.
set -o pipefail  # busybox ash has it
[ -n "$VG_URL" ] || { echo "wget: no vgurl= on the kernel command line"; exit 1; }
sum=$(timeout 20 wget -q -O - "$VG_URL" | sha256sum) || { echo "wget: $VG_URL failed"; exit 1; }
sum=${sum%% *}
echo "VGTEST SHA256 $sum"
[ -z "$VG_SHA256" ] || [ "$sum" = "$VG_SHA256" ] || { echo "wget: sha256 mismatch, want $VG_SHA256"; exit 1; }
