#!/usr/bin/env bash
# Fill solara's offline CDN cache (PYTHON's sys.prefix/share/solara/cdn) from the npm registry, so the
# browser app renders without internet access (MESA-NOTES.md, "Offline"). Idempotent: a spec already
# unpacked (its package.json present) is skipped, so a filled cache costs one python start-up.
# Usage: tools/solara_assets.sh [PYTHON]   (default: python3 on PATH)
set -euo pipefail
PY=${1:-python3}
# The versions solara 1.64.1 asks for (its server log names any it cannot load: "Could not load URL").
SPECS=(
  "@widgetti/solara-vuetify-app@10.1.1"
  "requirejs@2.3.6"
  "font-awesome@4.5.0"
  "@widgetti/vue-grid-layout@2.3.13-alpha.2"
)
CACHE=$("$PY" -c 'import sys; print(sys.prefix)')/share/solara/cdn
missing=()
for spec in "${SPECS[@]}"; do
  [ -f "$CACHE/$spec/package.json" ] || missing+=("$spec")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "solara assets: present in $CACHE"
  exit 0
fi
command -v npm >/dev/null || { echo "error: npm is needed to fetch solara's front-end assets (apt-get install -y npm)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for spec in "${missing[@]}"; do
  echo "solara assets: fetching $spec"
  rm -rf "$work"/*
  (cd "$work" && npm pack --silent "$spec" >/dev/null)
  rm -rf "$CACHE/$spec.partial"
  mkdir -p "$CACHE/$spec.partial"
  tar xzf "$work"/*.tgz -C "$CACHE/$spec.partial" --strip-components=1
  rm -rf "$CACHE/$spec"
  mv "$CACHE/$spec.partial" "$CACHE/$spec"
done
echo "solara assets: ready in $CACHE"
