#!/usr/bin/env bash
# Instructions per new-connection flow of the Host in process (bench/in-process-flow.ts) under callgrind, for this
# checkout and any others given, each run RUNS times, two runs at a time: a count that moves about +-6% between
# runs (JIT and GC timing), where the bench's clock figures move 10-20% between rounds — for telling whether a
# change to the data path's code made it cheaper. Another checkout gets this harness copied in for the runs (it
# imports that checkout's src/, and sets its heap as its `serve --memory lean` does; the young generation is held
# small from the start, as bin/imds-hop.mjs does) and removed after. Needs valgrind.
#   bash bench/instructions-per-flow.sh [OTHER_CHECKOUT...]    RUNS=3 FLOWS=2000 WARM=3000 by default
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
runs="${RUNS:-3}" flows="${FLOWS:-2000}" warm="${WARM:-3000}"
command -v valgrind >/dev/null || { echo "instructions-per-flow: needs valgrind (apt-get install valgrind)" >&2; exit 2; }
work="$(mktemp -d)"
copies=()
cleanup() {
  rm -rf "$work"
  for copy in "${copies[@]}"; do rm -f "$copy"; done
}
trap cleanup EXIT

checkouts=("$here")
for other in "$@"; do
  other="$(cd "$other" && pwd)"
  [[ -d "$other/src" && -d "$other/node_modules" ]] || { echo "$other: not a checkout with node_modules" >&2; exit 2; }
  if [[ "$other" != "$here" ]]; then
    cp "$here/bench/in-process-flow.ts" "$other/bench/.in-process-flow.ts"
    copies+=("$other/bench/.in-process-flow.ts")
  fi
  checkouts+=("$other")
done

# One run: prints instructions per measured flow.
count() {
  local checkout="$1" log="$2" harness=bench/in-process-flow.ts
  [[ "$checkout" == "$here" ]] || harness=bench/.in-process-flow.ts
  (cd "$checkout" && valgrind --tool=callgrind --instr-atstart=no --smc-check=all-non-file \
    --callgrind-out-file="$log.out" node --semi-space-growth-factor=1 --import tsx "$harness" \
    --flows="$flows" --rounds=1 --warm="$warm" --callgrind) \
    >"$log" 2>&1 || { echo "run failed, see:" >&2; tail -20 "$log" >&2; exit 1; }
  local refs
  refs="$(grep -E 'I +refs:' "$log" | tr -d , | awk '{print $NF}')"
  echo $((refs / flows))
}

declare -A counts
for ((run = 1; run <= runs; run++)); do
  index=0
  for checkout in "${checkouts[@]}"; do
    count "$checkout" "$work/$index-$run.log" >"$work/$index-$run.count" &
    index=$((index + 1))
    # Two at a time: one per CPU of a small machine.
    if ((index % 2 == 0)); then wait; fi
  done
  wait
  index=0
  for checkout in "${checkouts[@]}"; do
    [[ -s "$work/$index-$run.count" ]] || exit 1 # the run said why on stderr
    counts[$index]+="$(cat "$work/$index-$run.count") "
    index=$((index + 1))
  done
done

index=0
for checkout in "${checkouts[@]}"; do
  sorted="$(tr ' ' '\n' <<<"${counts[$index]}" | grep . | sort -n | tr '\n' ' ')"
  median="$(tr ' ' '\n' <<<"$sorted" | grep . | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
  printf '%s: %s instructions per flow (median of %d runs: %s)\n' "$checkout" "$median" "$runs" "$sorted"
  index=$((index + 1))
done
