#!/bin/sh
# ping.sh M: M round trips of "wait --" through the sh client library (dash).
. "$CHAQUM_LIBDIR/sh/chaqum.sh"
m=$1
chaqum_wait -- || exit 1   # as in the other clients, the first call is not timed
start=$(date +%s%N)
i=0
while [ "$i" -lt "$m" ]; do
    chaqum_wait -- || exit 1
    i=$((i + 1))
done
end=$(date +%s%N)
echo "sh_roundtrips $m $((end - start))" >> "$BENCH_RESULTS"
