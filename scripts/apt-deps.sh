#!/bin/sh
# Install the Debian/Ubuntu packages named in $DEBS that are missing.
# As root, or with password-less sudo, we install them; otherwise we print the exact command.
# Elsewhere (no dpkg: macOS, Windows, other distributions) there is nothing to do here.
set -u
command -v dpkg-query >/dev/null 2>&1 || exit 0
missing=""
for deb in $DEBS; do
	status=$(dpkg-query -W -f='${Status}' "$deb" 2>/dev/null)
	case "$status" in *"install ok installed"*) ;; *) missing="$missing $deb" ;; esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"
else
	echo "voicedesk: these system packages are missing:$missing"
	echo "voicedesk: install them with: sudo apt-get install -y$missing"
	exit 0
fi
echo "voicedesk: installing system packages:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null || {
	echo "voicedesk: apt-get could not install:$missing (try: sudo apt-get install -y$missing)"
	exit 1
}
