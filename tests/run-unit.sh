#!/bin/bash
# Run Check test binaries; print each one's summary and a total line.
# Usage: tests/run-unit.sh LABEL BIN...
set -u
label=$1
shift
pass=0 fail=0
for bin in "$@"; do
	echo "== $bin"
	if CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-30} "$bin"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAILED: $bin"
	fi
done
echo "$label: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
