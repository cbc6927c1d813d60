#!/bin/sh
# Wall-clock time of the 16-replicate community-centre cut ensemble (bench/ensembles/
# centre_cut_16.toml) three ways: as before branching (--no-branch, one run at a time), with
# branching, and with branching and two runs at once (-j 2). Each into a fresh folder, so each
# simulates its own spin-ups; the run files of all three must be byte-identical (checked here).
# Prints one line per way and the load average around it: on a shared machine, say so.
#
#   bench/ensemble_speed.sh [build/contactsim] [work folder]     (about 30 minutes on 2 cores)
set -eu
cli=${1:-build/contactsim}
work=${2:-$(mktemp -d)}
spec=$(dirname "$0")/ensembles/centre_cut_16.toml
export SOURCE_DATE_EPOCH=1700000000 HDF5_USE_FILE_LOCKING=FALSE
measure() {  # name, flags...
  name=$1; shift
  rm -rf "$work/$name"
  before=$(cut -d' ' -f1 /proc/loadavg)
  start=$(date +%s.%N)
  "$cli" ensemble "$spec" -o "$work/$name" -q "$@" > /dev/null
  end=$(date +%s.%N)
  after=$(cut -d' ' -f1 /proc/loadavg)
  printf '%-22s %8.1f s   load average %s -> %s\n' "$name ($*)" "$(echo "$end - $start" | bc)" "$before" "$after"
}
measure serial_unbranched --no-branch
measure serial_branched
measure j2_branched -j 2
for f in "$work"/serial_unbranched/runs/*.h5; do
  for other in serial_branched j2_branched; do
    cmp -s "$f" "$work/$other/runs/$(basename "$f")" || { echo "DIFFERENT: $other/$(basename "$f")"; exit 1; }
  done
done
echo "all 32 run files byte-identical across the three ways"
