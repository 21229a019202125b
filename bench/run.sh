#!/bin/sh
# run.sh runs the proctest benchmark suite and prints a markdown table of
# the results, with the machine and the date at the top. Progress goes to
# stderr, the table to stdout.
#
# Usage: bench/run.sh [-quick] [-reps N] [-only w1,w2] [-variants v1,v2] [-logdir DIR]
#
# -quick runs small sizes, three times each, in well under a minute (for
# CI, which should not assert times). Logs go under the system's temporary
# directory unless -logdir says otherwise. The C floor needs gcc; without
# it its rows say so.
set -eu
cd "$(dirname "$0")"
bin=$(mktemp -d "${TMPDIR:-/tmp}/ptbench-bin-XXXXXX")
trap 'rm -rf "$bin"' EXIT INT TERM
go build -mod=mod -o "$bin/benchtable" ./cmd/benchtable
"$bin/benchtable" "$@"
