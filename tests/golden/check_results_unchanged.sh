#!/usr/bin/env bash
# Proves that a change (a refactor) left simulation results byte-identical: runs every scenario
# in scenarios/*.toml, the fuzzing city and the fuzz corpus's scenarios with two contactsim
# binaries and compares every object of the two outputs (/series, /events and the world tables
# /groups, /wards, /venues, /venue_types) with h5diff. Root attributes (git revision, creation
# time, version...) legitimately differ and are not compared. See tests/golden/README.md.
#
#   tests/golden/check_results_unchanged.sh REF_BINARY NEW_BINARY [WORKDIR]
#
# WORKDIR keeps the outputs (WORKDIR/<case>/{ref,new}.h5) and h5diff logs; without it a
# temporary directory is used and removed after a PASS (kept after a FAIL).
#
# Environment:
#   SEED_NEW=N   self-test: run NEW with --seed N (REF keeps the scenario's seed), so that every
#                case must differ and the script must report FAIL. Proves the check can fail.
#   ONLY=REGEX   run only the cases whose name matches REGEX (grep -E), e.g. ONLY='^baseline'
#   NICE=N       niceness of the simulation runs (default 10)
#   OMP_WAIT_POLICY  default passive here: idle OpenMP threads sleep instead of spinning, which
#                makes runs 2-3x faster when other jobs share the cores (results do not depend on it)
#
# Horizon per scenario (--until): the start + 90 days, or 30 days past the first timeline item
# (cut, festival, ESOL course, programme, media shock, lockdown, service, leaflets...) when that
# is later, so that the item's mechanism runs; never past the scenario's end. The whole check
# takes about 8.5 minutes on 2 cores shared with other builds (the full city is ~258k residents).
#
# Exit status: 0 PASS, 1 FAIL (a difference, or a run that failed), 2 usage error.

set -uo pipefail

usage() { sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[[ $# -eq 2 || $# -eq 3 ]] || usage
for tool in h5diff h5dump h5ls python3; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found (h5diff/h5dump/h5ls: apt-get install hdf5-tools)" >&2; exit 2; }
done
python3 -c 'import tomllib' 2>/dev/null || { echo "error: python3 >= 3.11 needed (tomllib)" >&2; exit 2; }

abspath() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
REF=$(abspath "$1")
NEW=$(abspath "$2")
for bin in "$REF" "$NEW"; do
  [[ -x $bin ]] || { echo "error: $bin is not an executable" >&2; exit 2; }
done
REPO=$(cd "$(dirname "$0")/../.." && pwd)
NICE=${NICE:-10}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
SEED_NEW=${SEED_NEW:-}
ONLY=${ONLY:-}
if [[ $# -eq 3 ]]; then
  mkdir -p "$3" || exit 2
  WORK=$(cd "$3" && pwd)
  OWN_WORK=0
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/contactsim-golden.XXXXXX")
  OWN_WORK=1
fi

# --- cases: name | scenario file | extra run flags ------------------------------------------------
CASES=()
for f in "$REPO"/scenarios/*.toml; do
  CASES+=("$(basename "$f" .toml)|$f|--threads 2")
done
# Another seed and one thread: the same results must come out of both binaries there too.
CASES+=("baseline@seed424242-threads1|$REPO/scenarios/baseline.toml|--seed 424242 --threads 1")
CASES+=("fuzz/small_city|$REPO/tests/fuzz/small_city.toml|--threads 2")
CASES+=("fuzz/small_city@seed7-threads1|$REPO/tests/fuzz/small_city.toml|--seed 7 --threads 1")
# The fuzz corpus's scenarios are written to be read from scenarios/ (their census paths start
# with ../tests/): stage each in WORK/stage/scenarios/ next to a link WORK/stage/tests -> tests/.
if compgen -G "$REPO/tests/fuzz/corpus/scenario/*.toml" >/dev/null; then
  mkdir -p "$WORK/stage/scenarios"
  ln -sfn "$REPO/tests" "$WORK/stage/tests"
  for f in "$REPO"/tests/fuzz/corpus/scenario/*.toml; do
    cp "$f" "$WORK/stage/scenarios/"
    CASES+=("fuzz/corpus/$(basename "$f" .toml)|$WORK/stage/scenarios/$(basename "$f")|--threads 2")
  done
fi

# --- helpers ----------------------------------------------------------------------------------------

# "UNTIL FIRST_ITEM" for a scenario: start/end from `REF validate` (defaults applied), the first
# timeline date from the TOML (following `extends`; arrays of tables concatenate, as in core/config.cpp).
horizon() {
  local scenario=$1 line start end
  line=$("$REF" validate "$scenario" 2>&1 | head -1) || return 1
  [[ $line =~ ([0-9]{4}-[0-9]{2}-[0-9]{2})\ to\ ([0-9]{4}-[0-9]{2}-[0-9]{2}) ]] || { echo "$line" >&2; return 1; }
  start=${BASH_REMATCH[1]} end=${BASH_REMATCH[2]}
  python3 - "$scenario" "$start" "$end" <<'PY'
import datetime as dt, pathlib, sys, tomllib

def timeline(path):
    with open(path, "rb") as f:
        tree = tomllib.load(f)
    items = list(tree.get("timeline", []))
    if "extends" in tree:
        items = timeline(pathlib.Path(path).parent / tree["extends"]) + items
    return items

path, start, end = sys.argv[1], dt.date.fromisoformat(sys.argv[2]), dt.date.fromisoformat(sys.argv[3])
dates = [v for item in timeline(path) for key in ("date", "start")
         if isinstance(v := item.get(key), dt.date) and not isinstance(v, dt.datetime)]
first = min(dates) if dates else None
until = start + dt.timedelta(days=90)
if first is not None:
    until = max(until, first + dt.timedelta(days=30))
until = min(until, end)
print(until.isoformat(), first.isoformat() if first else "-")
PY
}

# run BIN SCENARIO OUT UNTIL FLAGS... ; prints seconds; stderr/stdout to OUT.log
run_one() {
  local bin=$1 scenario=$2 out=$3 until=$4; shift 4
  rm -f "$out" "$out.resume" "$out.partial"
  local t0=$SECONDS
  nice -n "$NICE" "$bin" run "$scenario" -o "$out" --until "$until" -q "$@" >"$out.log" 2>&1
  local rc=$?
  echo $((SECONDS - t0))
  return $rc
}

# Top-level objects of an output: "name Kind" lines.
objects() { h5ls "$1" | awk '{print $1, $2}' | sort; }

# compare REF_OUT NEW_OUT DIR: prints what differs (nothing if identical); returns 1 on a difference.
compare() {
  local a=$1 b=$2 dir=$3 status=0 name kind what log
  if ! diff <(objects "$a") <(objects "$b") >"$dir/objects.diff"; then
    echo -n " top-level objects differ ($(grep -E '^[<>]' "$dir/objects.diff" | tr '\n' ' '));"
    status=1
  fi
  # The objects the reference wrote; /series and /events must be among them.
  local names
  names=$(objects "$a")
  for required in series events; do
    grep -q "^$required " <<<"$names" || { echo -n " /$required missing;"; status=1; }
  done
  while read -r name kind; do
    [[ -n $name ]] || continue
    grep -q "^$name " <(objects "$b") || continue  # reported above
    what=-d; [[ $kind == Group ]] && what=-g
    # Structure: types, shapes (record counts), attribute names. h5diff alone reports datasets
    # of different shapes as "not comparable" and still exits 0.
    if ! diff <(h5dump -H "$what" "/$name" "$a" | tail -n +2) <(h5dump -H "$what" "/$name" "$b" | tail -n +2) \
        >"$dir/${name}.header.diff"; then
      echo -n " /$name: types or shapes differ (see $dir/${name}.header.diff);"
      status=1
      continue
    fi
    log="$dir/${name}.h5diff.log"
    h5diff -c "$a" "$b" "/$name" "/$name" >"$log" 2>&1
    local rc=$?
    # Empty datasets (no events) are "not comparable" to h5diff; their headers matched above.
    local uncomparable
    uncomparable=$(grep '^Not comparable' "$log" | grep -vc 'is an empty dataset')
    if [[ $rc -ne 0 || $uncomparable -ne 0 ]]; then
      local differing
      # Differing datasets; attributes (DIMENSION_LIST, REFERENCE_LIST...) only when no dataset differs.
      differing=$(awk '/^(dataset|attribute|group): / { kind = $1; obj = $0; sub(/^[a-z]+: </, "", obj); sub(/> and <.*/, "", obj); next }
                       /^[1-9][0-9]* differences? found/ && !(obj in seen) {
                         seen[obj] = 1; item = obj " (" $1 ")"
                         if (kind == "attribute:") attrs[na++] = item; else data[nd++] = item }
                       END { if (nd) { for (i = 0; i < nd && i < 8; i++) out = out (i ? ", " : "") data[i]; if (nd > 8) out = out ", ... " nd - 8 " more" }
                             else if (na) { out = "attributes "; for (i = 0; i < na && i < 4; i++) out = out (i ? ", " : "") attrs[i] }
                             print out }' "$log")
      [[ $rc -eq 2 ]] && differing="h5diff error: $(grep -v '^$' "$log" | tail -1)"
      [[ -z $differing ]] && differing="$uncomparable object(s) not comparable"
      echo -n " /$name differs: $differing (log $log);"
      status=1
    fi
  done <<<"$names"
  return $status
}

# --- run ----------------------------------------------------------------------------------------------
echo "contactsim results check"
echo "  REF  $REF ($("$REF" --version 2>&1 | head -1))"
echo "  NEW  $NEW ($("$NEW" --version 2>&1 | head -1))${SEED_NEW:+  [self-test: NEW runs with --seed $SEED_NEW]}"
echo "  work $WORK"
echo

failed=0 ran=0
started=$SECONDS
for c in "${CASES[@]}"; do
  IFS='|' read -r name scenario flags <<<"$c"
  [[ -n $ONLY ]] && ! grep -Eq "$ONLY" <<<"$name" && continue
  ran=$((ran + 1))
  dir="$WORK/${name//\//_}"
  mkdir -p "$dir"
  if ! h=$(horizon "$scenario" 2>"$dir/horizon.err"); then
    # A scenario only NEW can read asks about something the change added: nothing to compare.
    if ! "$REF" validate "$scenario" >/dev/null 2>&1 && "$NEW" validate "$scenario" >/dev/null 2>&1; then
      printf 'NEW   %-32s only NEW reads it (new in this change): not compared\n' "$name"
      continue
    fi
    printf 'FAIL  %-32s cannot read the scenario with REF: %s\n' "$name" "$(head -c 300 "$dir/horizon.err" | tr '\n' ' ')"
    failed=1
    continue
  fi
  read -r until first <<<"$h"
  # shellcheck disable=SC2206  # flags are words
  ref_flags=($flags)
  new_flags=($flags)
  if [[ -n $SEED_NEW ]]; then  # NEW's --seed replaced by SEED_NEW
    new_flags=()
    skip=0
    for word in $flags; do
      if [[ $skip -eq 1 ]]; then skip=0; continue; fi
      if [[ $word == --seed ]]; then skip=1; continue; fi
      new_flags+=("$word")
    done
    new_flags+=(--seed "$SEED_NEW")
  fi
  tref=$(run_one "$REF" "$scenario" "$dir/ref.h5" "$until" "${ref_flags[@]}"); rref=$?
  tnew=$(run_one "$NEW" "$scenario" "$dir/new.h5" "$until" "${new_flags[@]}"); rnew=$?
  head=$(printf '%-32s until %s (first item %-10s) %-24s ref %3ss new %3ss' "$name" "$until" "$first" "$flags" "$tref" "$tnew")
  if [[ $rref -ne 0 || $rnew -ne 0 ]]; then
    printf 'FAIL  %s  run failed: REF exit %d, NEW exit %d (logs %s/{ref,new}.h5.log): %s\n' "$head" "$rref" "$rnew" "$dir" \
      "$(tail -n 2 "$dir/ref.h5.log" "$dir/new.h5.log" 2>/dev/null | grep -v '^==>' | grep -v '^$' | tail -1)"
    failed=1
    continue
  fi
  if diffs=$(compare "$dir/ref.h5" "$dir/new.h5" "$dir"); then
    printf 'PASS  %s  identical: %s\n' "$head" "$(objects "$dir/ref.h5" | awk '{printf "%s/%s", (NR > 1 ? " " : ""), $1}')"
  else
    printf 'FAIL  %s %s\n' "$head" "$diffs"
    failed=1
  fi
done

echo
elapsed=$((SECONDS - started))
if [[ $ran -eq 0 ]]; then
  echo "FAIL: no case matched ONLY='$ONLY'"
  [[ $OWN_WORK -eq 1 ]] && rm -rf "$WORK"
  exit 1
fi
if [[ $failed -ne 0 ]]; then
  echo "FAIL: results differ or a run failed ($ran cases, $((elapsed / 60))m$((elapsed % 60))s); outputs and logs kept in $WORK"
  exit 1
fi
echo "PASS: $ran cases byte-identical in every compared object ($((elapsed / 60))m$((elapsed % 60))s)"
[[ $OWN_WORK -eq 1 ]] && rm -rf "$WORK"
exit 0
