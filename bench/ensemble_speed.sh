#!/bin/sh
# Time of the 16-replicate community-centre cut ensemble (bench/ensembles/centre_cut_16.toml,
# 32 runs at 25% scale): with branching and two runs at once (-j 2), and as before this release
# (--no-branch, one run at a time), each into a fresh folder with a fresh spin-up cache, so each
# simulates its own spin-ups; then -j 2 again with the first one's cache (warm: the spin-ups a
# previous ensemble or run of the same city left, as the shared cache keeps them). With ALL=1
# also branching alone (-j 1); with QUICK=1 the serial, unbranched way is left out. Reports
# wall-clock and CPU time (the ensemble's processes together) and the load average before and
# after: on a shared machine wall-clock depends on the other work, CPU time much less. The run
# files of every way must be byte-identical (checked here).
#
#   bench/ensemble_speed.sh [build/contactsim] [work folder]
set -eu
[ -x /usr/bin/time ] || { echo "$0: needs GNU time as /usr/bin/time (Debian package time)" >&2; exit 2; }
cli=${1:-build/contactsim}
work=${2:-$(mktemp -d)}
mkdir -p "$work"
spec=$(dirname "$0")/ensembles/centre_cut_16.toml
export SOURCE_DATE_EPOCH=1700000000 HDF5_USE_FILE_LOCKING=FALSE
measure() {  # name, cache, flags...
  name=$1; cache=$2; shift 2
  rm -rf "$work/$name"
  before=$(cut -d' ' -f1 /proc/loadavg)
  /usr/bin/time -f "%e %U %S" -o "$work/$name.time" "$cli" ensemble "$spec" -o "$work/$name" -q --spin-up-cache "$work/$cache" "$@" > /dev/null
  after=$(cut -d' ' -f1 /proc/loadavg)
  read -r wall user system < "$work/$name.time"
  printf '%-34s %8.1f s wall %8.1f s CPU   load average %s -> %s\n' "$name ($*)" "$wall" \
    "$(awk "BEGIN {print $user + $system}")" "$before" "$after"
}
rm -rf "$work"/cache-*
measure j2_branched cache-j2 -j 2
measure j2_branched_warm cache-j2 -j 2
ways="j2_branched j2_branched_warm"
if [ "${QUICK:-0}" != 1 ]; then
  measure serial_unbranched cache-serial --no-branch
  ways="$ways serial_unbranched"
fi
if [ "${ALL:-0}" = 1 ]; then
  measure serial_branched cache-serial-branched
  ways="$ways serial_branched"
fi
for f in "$work"/j2_branched/runs/*.h5; do
  for other in $ways; do
    cmp -s "$f" "$work/$other/runs/$(basename "$f")" || { echo "DIFFERENT: $other/$(basename "$f")"; exit 1; }
  done
done
echo "all $(ls "$work"/j2_branched/runs/*.h5 | wc -l) run files byte-identical across: $ways"
