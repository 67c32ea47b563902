#!/usr/bin/env bash
# Writes an HTML template for `dvc plots show/diff --html-template` with vega, vega-lite and
# vega-embed inlined (DVC's default page loads them from a CDN and renders blank offline).
# Usage: scripts/offline_plots_template.sh OUT.html
set -euo pipefail
out=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent vega@5.33.1 vega-lite@5.23.0 vega-embed@6.29.0 >/dev/null)
for package in vega vega-lite vega-embed; do
  mkdir -p "$work/$package" && tar xzf "$work/$package"-[0-9]*.tgz -C "$work/$package"
done
mkdir -p "$(dirname "$out")"
{
  echo '<!DOCTYPE html>'
  echo '<html><head><meta charset="utf-8"><title>distilloop plots</title>'
  for package in vega vega-lite vega-embed; do
    echo '<script>'
    cat "$work/$package/package/build/$package.min.js"
    echo '</script>'
  done
  echo '<style>table { border-spacing: 15px; }</style>'
  echo '</head><body>'
  echo '{plot_divs}'
  echo '</body></html>'
} > "$out"
echo "wrote $out (vega inlined, $(wc -c < "$out") bytes)"
