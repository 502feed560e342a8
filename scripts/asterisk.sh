#!/usr/bin/env bash
# Build the pinned Asterisk release once per machine and print where it is installed.
#
# Debian 12 has no Asterisk package, so the telephony engine is built from its release
# source (docs/voice.md). The install lands in a cache folder keyed by the version and a
# hash of every build option below; a marker file written last makes the next run a
# no-op, and an interrupted build (no marker) is redone from scratch.
#
#   bash scripts/asterisk.sh            build if needed; the last line is the install dir
#
# Environment:
#   CALLCENTER_VENDOR_DIR      folder with asterisk-22.10.1.tar.gz, pjproject-2.17.tar.bz2
#                              and SHA256SUMS (default: ../shared/vendor beside the repo)
#   CALLCENTER_CACHE_DIR       the project's cache folder (the `cache_dir` setting, default
#                              ~/.cache/callcenter); the build goes to asterisk/ in it
# Any failure stops the script with a non-zero status and a line saying what failed.
set -euo pipefail
# The body is one block, read whole before it runs: editing this file during a build
# cannot change what the running build does.
{
cd "$(dirname "$0")/.."
repo=$(pwd)

version=22.10.1
pjproject=pjproject-2.17.tar.bz2
release_url=https://downloads.asterisk.org/pub/telephony/asterisk/releases

die() {
  echo "scripts/asterisk.sh: $*" >&2
  exit 1
}

# --- build options: every one of them is part of the cache key ---------------------------
configure_flags=(
  --with-pjproject-bundled
  --without-libjwt         # res_stir_shaken's libjwt would be downloaded
  --disable-xmldoc         # no XML documentation: saves build time
  --without-x11 --without-gtk2
)
# The call-center module set (shared/vendor/README.md): PJSIP incl. its WebSocket
# transport, ARI and Stasis, HTTP/WebSocket, RTP + SRTP, music on hold, bridges, G.711,
# WAV/PCM/SLN files, recording and conference mixing, the dialplan, media channels.
# Globs are matched against the members menuselect knows; the rest stays disabled.
modules=(
  'chan_pjsip' 'chan_bridge_media' 'chan_rtp' 'chan_websocket'
  'res_pjsip' 'res_pjsip_*' 'res_pjproject' 'res_geolocation'
  'res_ari' 'res_ari_*' 'res_stasis' 'res_stasis_*' 'app_stasis'
  'res_http_websocket' 'res_rtp_asterisk' 'res_srtp' 'res_musiconhold'
  'res_sorcery_*' 'res_timing_timerfd' 'res_format_attr_*' 'res_mwi_external'
  'res_security_log' 'res_clioriginate'
  'bridge_simple' 'bridge_softmix' 'bridge_holding' 'bridge_native_rtp'
  'codec_ulaw' 'codec_alaw' 'codec_resample'
  'format_wav' 'format_pcm' 'format_sln'
  'app_mixmonitor' 'app_confbridge' 'app_echo' 'app_playback'
  'pbx_config'
  'func_channel' 'func_callerid' 'func_strings' 'func_logic' 'func_pjsip_*' 'func_cut'
  'func_global' 'func_math'
)
# Members a glob above would catch that we do not want: one needs a download or a library
# we do not build; the anonymous identifier would let unauthenticated INVITEs in.
exclude=('res_pjsip_stir_shaken' 'res_stasis_test' 'res_pjsip_phoneprov_provider'
  'res_pjsip_endpoint_identifier_anonymous')
categories=(
  MENUSELECT_ADDONS MENUSELECT_APPS MENUSELECT_BRIDGES MENUSELECT_CDR MENUSELECT_CEL
  MENUSELECT_CHANNELS MENUSELECT_CODECS MENUSELECT_FORMATS MENUSELECT_FUNCS MENUSELECT_PBX
  MENUSELECT_RES MENUSELECT_TESTS MENUSELECT_CORE_SOUNDS MENUSELECT_MOH
  MENUSELECT_EXTRA_SOUNDS MENUSELECT_UTILS
)
# Raise it when the recipe below changes what gets installed.
recipe=1
key=$(printf '%s\n' "$version" "$recipe" "${configure_flags[@]}" "${modules[@]}" "${exclude[@]}" \
  "${categories[@]}" | sha256sum | cut -c1-12)

cache_dir=${CALLCENTER_CACHE_DIR:-$HOME/.cache/callcenter}
cache_root="${cache_dir/#\~/$HOME}/asterisk"
# callcenter.voice.asterisk finds the install through this link (the build this checkout
# asked for last), so it need not know the cache key.
current="$cache_root/current-$version"
prefix="$cache_root/$version-$key"
marker="$prefix/.built"
cached() {
  if [ -f "$marker" ]; then
    ln -sfn "$prefix" "$current"
    echo "Asterisk $version is built (cached): $prefix"
    echo "$prefix"
    exit 0
  fi
}
cached
# One build at a time per cache (two checkouts, two CI jobs): the second waits, then
# finds the first one's build.
mkdir -p "$cache_root"
exec 9>"$cache_root/.lock"
flock 9
cached
# Under the lock no other build runs: a build folder left now is from an interrupted run.
rm -rf "$cache_root"/build-*

# --- build recipe (raise `recipe` above when a change here changes the install) ----------
started=$(date +%s)
build_deps=(build-essential pkg-config bzip2 patch curl ca-certificates libedit-dev libjansson-dev libxml2-dev uuid-dev
  libsqlite3-dev libssl-dev libsrtp2-dev libspeexdsp-dev libcurl4-openssl-dev)
# SIP clients the voice tests drive (cheap Debian packages).
tools=(sip-tester baresip)
missing=()
for p in "${build_deps[@]}" "${tools[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Asterisk build dependencies and SIP tools: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null || die "apt-get could not install: ${missing[*]}"
fi

vendor=${CALLCENTER_VENDOR_DIR:-$repo/../shared/vendor}
downloads="$cache_root/downloads"
mkdir -p "$downloads"
tarball="$downloads/asterisk-$version.tar.gz"
if [ -f "$vendor/asterisk-$version.tar.gz" ]; then
  # The local copy is verified against the vendor folder's own SHA256SUMS (it is a
  # `git archive` of the release tag, not byte-identical to the official tarball).
  echo "using the local copy in $vendor (checked against its SHA256SUMS)"
  [ -f "$vendor/SHA256SUMS" ] || die "$vendor has no SHA256SUMS to check the archives against"
  (cd "$vendor" && grep -E " (asterisk-$version\.tar\.gz|$pjproject)\$" SHA256SUMS | sha256sum -c --quiet -) ||
    die "checksum mismatch in $vendor (expected the sums in its SHA256SUMS)"
  cp "$vendor/asterisk-$version.tar.gz" "$tarball"
  # Asterisk's build takes the bundled PJSIP from its download cache and md5-checks it.
  cp "$vendor/$pjproject" "$downloads/$pjproject"
else
  # No local copy: the official release, checked against the sha256 file its publisher
  # puts beside it. This path cannot be exercised on the development machines (no
  # internet there), so it is kept to two downloads and one check. PJSIP is then
  # fetched and md5-checked by Asterisk's own build.
  echo "downloading Asterisk $version from $release_url"
  curl -fsSL --retry 3 -o "$tarball.part" "$release_url/asterisk-$version.tar.gz" ||
    die "could not download $release_url/asterisk-$version.tar.gz"
  curl -fsSL --retry 3 -o "$downloads/asterisk-$version.sha256" "$release_url/asterisk-$version.sha256" ||
    die "could not download $release_url/asterisk-$version.sha256"
  expected=$(grep -oE '^[0-9a-f]{64}' "$downloads/asterisk-$version.sha256" | head -1)
  actual=$(sha256sum "$tarball.part" | cut -d' ' -f1)
  [ -n "$expected" ] && [ "$expected" = "$actual" ] ||
    die "asterisk-$version.tar.gz: sha256 $actual, expected ${expected:-<none in the .sha256 file>}"
  mv "$tarball.part" "$tarball"
fi

rm -rf "$prefix"
build="$cache_root/build-$version-$key"
rm -rf "$build"
mkdir -p "$build"
tar -xzf "$tarball" -C "$build"
src="$build/asterisk-$version"
[ -x "$src/configure" ] || die "$tarball holds no asterisk-$version/configure"
cd "$src"
log="$build/build.log"
echo "configuring Asterisk $version (log: $log)"
./configure --prefix="$prefix" --with-download-cache="$downloads" \
  --with-externals-cache="$downloads" --with-sounds-cache="$downloads" \
  "${configure_flags[@]}" >"$log" 2>&1 || {
  tail -30 "$log" >&2
  die "configure failed (log: $log)"
}
make menuselect.makeopts >>"$log" 2>&1 || die "menuselect failed (log: $log)"
ms=(menuselect/menuselect)
for c in "${categories[@]}"; do ms+=(--disable-category "$c"); done
# Resolve the globs against the members menuselect knows.
known=$(grep -oE '<member name="[^"]+"' menuselect-tree | cut -d'"' -f2)
enabled=()
for pattern in "${modules[@]}"; do
  found=0
  for m in $known; do
    # shellcheck disable=SC2053  # the pattern is a glob on purpose
    if [[ $m == $pattern ]] && [[ " ${exclude[*]} " != *" $m "* ]]; then
      ms+=(--enable "$m")
      enabled+=("$m")
      found=1
    fi
  done
  [ $found -eq 1 ] || die "no Asterisk module matches '$pattern' (menuselect-tree)"
done
"${ms[@]}" menuselect.makeopts >>"$log" 2>&1 || die "menuselect could not apply the module set"
echo "building ${#enabled[@]} modules with make -j$(nproc)"
make -j"$(nproc)" >>"$log" 2>&1 || {
  tail -40 "$log" >&2
  die "make failed (log: $log)"
}
make install >>"$log" 2>&1 || {
  tail -40 "$log" >&2
  die "make install failed (log: $log)"
}
# Debug symbols are most of the install's 88 MB; the cache keeps the stripped files.
find "$prefix/sbin" "$prefix/lib" -type f \( -name '*.so*' -o -name asterisk \) \
  -exec strip --strip-unneeded {} + 2>/dev/null || true
"$prefix/sbin/asterisk" -V >/dev/null 2>&1 ||
  LD_LIBRARY_PATH="$prefix/lib" "$prefix/sbin/asterisk" -V >/dev/null ||
  die "the installed $prefix/sbin/asterisk does not run"
cd "$repo"
rm -rf "$build"
printf '%s\n' "version=$version" "key=$key" "seconds=$(($(date +%s) - started))" >"$marker"
ln -sfn "$prefix" "$current"
echo "Asterisk $version built in $(($(date +%s) - started)) s: $prefix"
echo "$prefix"
exit 0
}
