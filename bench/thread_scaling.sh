#!/bin/sh
# Whole-process time of the default scenario's first year at 1 and 2 threads (issue 14's
# "≥ 1.8× from 1 to 2 threads for a whole run"), from a warm spin-up cache so both time the
# same work: world build, 366 simulated days, HDF5 output. REPS runs of each (default 5),
# alternating 1 and 2 threads so drifting load hits both alike; prints every run's wall-clock
# and CPU time (on a shared machine the two-thread wall-clock also measures the neighbours:
# CPU time says how much of it was parallel work), the medians and their ratio, and checks that
# the two thread counts wrote the same /series and /events.
# With FULL=1 also the whole 4-year default run at 2 threads, first with the warm cache, then
# with an empty one (its 1,095-day spin-up simulated, as a first run on a machine does).
#
#   bench/thread_scaling.sh [build/contactsim] [work folder]
set -eu
[ -x /usr/bin/time ] || { echo "$0: needs GNU time as /usr/bin/time (Debian package time)" >&2; exit 2; }
cli=${1:-build/contactsim}
work=${2:-$(mktemp -d)}
reps=${REPS:-5}
scenario=$(dirname "$0")/../scenarios/stoke_on_trent.toml
mkdir -p "$work"
export HDF5_USE_FILE_LOCKING=FALSE
run() {  # output name, threads, cache, until (empty: the scenario's end) -> prints "wall CPU" seconds
  until_flag=""
  [ -n "$4" ] && until_flag="--until $4"
  # shellcheck disable=SC2086
  /usr/bin/time -f "%e %U %S" -o "$work/$1.time" "$cli" run "$scenario" -o "$work/$1.h5" --force -q --threads "$2" \
    --resume-every 0 --spin-up-cache "$work/$3" $until_flag > /dev/null
  read -r wall user system < "$work/$1.time"
  echo "$wall $(awk "BEGIN {print $user + $system}")"
}
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
run warm_cache 2 cache 2020-01-01 > /dev/null  # simulates and caches the spin-up once
: > "$work/t1.times"
: > "$work/t2.times"
i=1
while [ "$i" -le "$reps" ]; do
  one=$(run year_t1 1 cache 2020-12-31)
  two=$(run year_t2 2 cache 2020-12-31)
  echo "${one% *}" >> "$work/t1.times"
  echo "${two% *}" >> "$work/t2.times"
  echo "run $i: 1 thread ${one% *} s (CPU ${one#* } s), 2 threads ${two% *} s (CPU ${two#* } s)"
  i=$((i + 1))
done
m1=$(median < "$work/t1.times")
m2=$(median < "$work/t2.times")
echo "first year, whole process, median of $reps: 1 thread $m1 s, 2 threads $m2 s, speed-up $(awk "BEGIN {printf \"%.2f\", $m1 / $m2}")"
h5diff -q "$work/year_t1.h5" "$work/year_t2.h5" /series /series
h5diff -q "$work/year_t1.h5" "$work/year_t2.h5" /events /events
echo "1 and 2 threads wrote the same /series and /events"
if [ "${FULL:-0}" = 1 ]; then
  echo "4-year default run, 2 threads, spin-up cached: $(run full_warm 2 cache '' | cut -d' ' -f1) s"
  rm -rf "$work/cache-empty"
  echo "4-year default run, 2 threads, spin-up simulated (empty cache): $(run full_cold 2 cache-empty '' | cut -d' ' -f1) s"
fi
