#!/bin/sh
# Lays out the filesystem of the mlserve container image, the one rule both
# image builds follow (the Dockerfile's build stage and scripts/build-image.sh,
# which `make image` runs):
#
#   scripts/image-rootfs.sh BINARY OUT
#
# OUT/root is copied to / owned by root, OUT/data to /data owned by the
# nonroot user (65532), the image's working folder:
#
#   /usr/local/bin/mlserve               BINARY (static: CGO_ENABLED=0)
#   /etc/ssl/certs/ca-certificates.crt   the build host's CA bundle (S3 over TLS)
#   /etc/passwd, /etc/group              root and nonroot (65532), home /data
#   /etc/nsswitch.conf                   hosts: files dns
#   /tmp                                 1777 (read-only images mount a tmpfs here)
#   /data/mlserve.yaml                   deploy/mlserve.yaml, the default --config
#
# No shell, no package manager: healthchecks run `mlserve healthcheck URL`.
# CA_CERTS names another CA bundle.
set -eu
if [ $# -ne 2 ]; then
	echo "usage: $0 BINARY OUT" >&2
	exit 2
fi
bin=$1
out=$2
root=$(cd "$(dirname "$0")/.." && pwd)
certs=${CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
for f in "$bin" "$certs" "$root/deploy/mlserve.yaml"; do
	if [ ! -f "$f" ]; then
		echo "image-rootfs: $f is missing" >&2
		exit 1
	fi
done

rm -rf "$out/root" "$out/data"
mkdir -p "$out/root/usr/local/bin" "$out/root/etc/ssl/certs" "$out/root/tmp" "$out/data"
chmod 0755 "$out/root" "$out/root/usr" "$out/root/usr/local" "$out/root/usr/local/bin" \
	"$out/root/etc" "$out/root/etc/ssl" "$out/root/etc/ssl/certs" "$out/data"
chmod 1777 "$out/root/tmp"
cp "$bin" "$out/root/usr/local/bin/mlserve"
chmod 0755 "$out/root/usr/local/bin/mlserve"
cp "$certs" "$out/root/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/data:/sbin/nologin\n' >"$out/root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$out/root/etc/group"
printf 'hosts: files dns\n' >"$out/root/etc/nsswitch.conf"
cp "$root/deploy/mlserve.yaml" "$out/data/mlserve.yaml"
chmod 0644 "$out/root/etc/ssl/certs/ca-certificates.crt" "$out/root/etc/passwd" \
	"$out/root/etc/group" "$out/root/etc/nsswitch.conf" "$out/data/mlserve.yaml"
