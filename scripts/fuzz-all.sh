#!/usr/bin/env bash
# Runs every fuzz target in the module, one after the other, for
# FUZZTIME each (default 10m; see docs/operating.md). New failing inputs
# land in the package's testdata/fuzz/<Target>/ directory: commit the ones
# that found a bug, with the fix, so they run as regression tests.
#
#   scripts/fuzz-all.sh                  every target, 10 minutes each
#   FUZZTIME=30s scripts/fuzz-all.sh     shorter
#   scripts/fuzz-all.sh ./internal/store only the targets of these packages
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-10m}
pkgs=("$@")
if [ ${#pkgs[@]} -eq 0 ]; then
	mapfile -t pkgs < <(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u)
fi
failed=()
for pkg in "${pkgs[@]}"; do
	for target in $(go test "$pkg" -list '^Fuzz' | grep '^Fuzz' || true); do
		echo "--- $pkg $target ($fuzztime)"
		if ! go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime"; then
			failed+=("$pkg $target")
		fi
	done
done
if [ ${#failed[@]} -gt 0 ]; then
	printf 'FAILED: %s\n' "${failed[@]}"
	exit 1
fi
echo "all fuzz targets passed"
