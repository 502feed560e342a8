#!/usr/bin/env bash
# The example center's own prompts, made from prompts.txt (name|language|text):
# espeak-ng speaks each text and sox makes it 8 kHz mono 16-bit, what convert_prompt makes
# of an upload, laid out as <DIR>/<language>/<name>.wav. bank-language is one recording in
# both languages ("For English, press 1." then "Для русского языка нажмите 2.").
#   bash examples/ivr/make_prompts.sh [DIR]        # DIR: default out/ivr-prompts
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-out/ivr-prompts}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
say() {  # language text out.wav
    espeak-ng -v "$1" -s 150 -a 60 -w "$tmp/raw.wav" "$2"
    sox -V1 "$tmp/raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$3"
}
grep -v '^#' "$here/prompts.txt" | while IFS='|' read -r name lang text; do
    mkdir -p "$dest/$lang"
    say "$lang" "$text" "$dest/$lang/$name.wav"
done
say en "For English, press 1." "$tmp/a.wav"
say ru "Для русского языка нажмите 2." "$tmp/b.wav"
for lang in en ru; do sox -V1 "$tmp/a.wav" "$tmp/b.wav" "$dest/$lang/bank-language.wav"; done
echo "$dest"
