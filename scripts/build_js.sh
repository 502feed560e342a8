#!/usr/bin/env bash
# Bundle the browser libraries we take from npm into our static files (no CDN: pages
# work offline, and running the project never needs npm — the output is committed).
#
#   bash scripts/build_js.sh        # or: make js
#   JS_OUT_DIR=/tmp/x bash scripts/build_js.sh   # write elsewhere (the rebuild test)
#
# web-src/package.json + package-lock.json pin exact versions; `npm ci` installs exactly
# those. JsSIP's npm package is CommonJS with no browser build, so esbuild bundles it
# into one IIFE that defines `window.JsSIP`. The output is deterministic: a rebuild of
# the same lock file is byte-identical (tests/voice/test_softphone_bundle.py checks it).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
src="$here/web-src"
out="${JS_OUT_DIR:-$here/src/callcenter/web/static/vendor}"

command -v npm >/dev/null || { echo "build_js: npm not found (apt-get install npm)" >&2; exit 1; }
mkdir -p "$out"
cd "$src"
npm ci --no-audit --no-fund --loglevel=error >/dev/null
jssip_version="$(node -p "require('./node_modules/jssip/package.json').version")"
esbuild_version="$(node_modules/.bin/esbuild --version)"
node_modules/.bin/esbuild node_modules/jssip/lib/JsSIP.js \
  --bundle --minify --format=iife --global-name=JsSIP --target=es2019 \
  --platform=browser --legal-comments=none --log-level=warning \
  --banner:js="/*! JsSIP ${jssip_version} (MIT, see jssip.LICENSE.md), bundled by esbuild ${esbuild_version} from web-src/ by scripts/build_js.sh */" \
  --outfile="$out/jssip.min.js"
cp node_modules/jssip/LICENSE.md "$out/jssip.LICENSE.md"
echo "$out/jssip.min.js"
