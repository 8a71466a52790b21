#!/usr/bin/env bash
# The performance targets listed at the top of docs/performance.md,
# measured on this machine. See that page for what each line means and the
# figures last measured.
#
#   bash bench/run.sh                 # everything (10-20 minutes on 2 cores)
#   QUICK=1 bash bench/run.sh         # skip the 2M- and 4M-row CSVs and the 1M-row import
#   REPEAT=5 bash bench/run.sh        # repetitions of each key measurement (default 3)
#   BIG_REPEAT=3 bash bench/run.sh    # repetitions of the 1M-row import (default 1, about 1 min each)
#   ONLY=csv,xlsx bash bench/run.sh   # some sections: csv xlsx latency throughput bigimport lookup report
#   BENCH_DIR=/some/dir bash bench/run.sh   # where inputs and outputs go (default target/bench)
#
# Self-contained: installs wrk and GNU time with apt-get when they are
# missing, builds the release binary and the three examples, generates the
# inputs (deterministic, kept between runs), and starts every fake CRM itself
# on a free loopback port (port 0), killing it on exit. All traffic goes to
# 127.0.0.1 and every command has a time bound.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

QUICK=${QUICK:-0}
REPEAT=${REPEAT:-3}
ONLY=${ONLY:-csv,xlsx,latency,throughput,bigimport,lookup,report}
WORK=${BENCH_DIR:-$ROOT/target/bench}
MAPPING=$ROOT/bench/portfolio.toml
LUA=$ROOT/bench/insert.lua
mkdir -p "$WORK/bin" "$WORK/out"
rm -f "$WORK"/out/fake.*

say() { printf '%s\n' "$*" >&2; }
die() {
    say "bench: $*"
    exit 1
}
want() { [[ ",$ONLY," == *",$1,"* ]]; }

# --- tools -------------------------------------------------------------------
missing=()
[[ -x /usr/bin/time ]] || missing+=(time)
if { want throughput || want latency || want bigimport; } && ! command -v wrk >/dev/null 2>&1; then missing+=(wrk); fi
if ((${#missing[@]})); then
    [[ $(id -u) -eq 0 ]] || die "need ${missing[*]}: run as root or install them (apt-get install ${missing[*]})"
    say "installing ${missing[*]}"
    timeout 600 apt-get update -qq
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- build, then pin the binaries ----------------------------------------------
# Others may rebuild target/release while a long run goes on: the run uses
# copies taken right after its own build.
say "building (release)"
timeout 1800 cargo build --release --quiet --bin wolkvox-import --example gen_portfolio \
    --example calamine_read --example csv_parse
cp target/release/wolkvox-import target/release/examples/gen_portfolio \
    target/release/examples/calamine_read target/release/examples/csv_parse "$WORK/bin/"
BIN=$WORK/bin/wolkvox-import
GEN=$WORK/bin/gen_portfolio
CALAMINE=$WORK/bin/calamine_read
CSV_PARSE=$WORK/bin/csv_parse

# --- measuring -----------------------------------------------------------------
RAW=$WORK/raw.tsv
: >"$RAW"
TABLE=()
FAKE_PIDS=()

cleanup() {
    local p
    for p in "${FAKE_PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -f /dev/shm/wolkvox-bench.$$.*
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run_timed LIMIT_S CMD...: runs CMD under /usr/bin/time -v with a time limit;
# sets WALL (seconds), CPU (user + system seconds) and RSS_KB (peak resident
# set); fails on a non-zero exit.
run_timed() {
    local limit=$1
    shift
    local tf=$WORK/out/time.txt t0 t1 rc=0
    t0=$(date +%s.%N)
    /usr/bin/time -v -o "$tf" timeout "$limit" "$@" >"$WORK/out/last.out" 2>"$WORK/out/last.err" || rc=$?
    t1=$(date +%s.%N)
    if ((rc != 0)); then
        say "command failed (exit $rc): $*"
        tail -n 5 "$WORK/out/last.err" >&2
        return 1
    fi
    WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    RSS_KB=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$tf")
    CPU=$(awk -F: '/(User|System) time \(seconds\)/ { s += $2 } END { printf "%.3f", s }' "$tf")
}

# record KEY VALUE: one raw measurement.
record() { printf '%s\t%s\n' "$1" "$2" >>"$RAW"; }

# stats KEY: "median min max n" of the values recorded under KEY.
stats() {
    awk -F'\t' -v k="$1" '$1 == k { print $2 }' "$RAW" | sort -g | awk '
        { a[NR] = $1 }
        END {
            if (NR == 0) { print "nan nan nan 0"; exit }
            m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
            print m, a[1], a[NR], NR
        }'
}

# fmt NUMBER DECIMALS
fmt() { awk -v x="$1" -v d="$2" 'BEGIN { printf "%.*f", d, x }'; }

# row LABEL KEY UNIT DECIMALS TARGET VERDICT: one line of the table.
row() {
    local label=$1 key=$2 unit=$3 dec=$4 target=$5 verdict=$6 m lo hi n
    read -r m lo hi n < <(stats "$key")
    TABLE+=("| $label | $(fmt "$m" "$dec") $unit | $(fmt "$lo" "$dec")–$(fmt "$hi" "$dec") (n=$n) | $target | $verdict |")
}

median() { stats "$1" | cut -d' ' -f1; }
# verdict VALUE OP LIMIT: "met" or "MISSED".
verdict() { awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
    ok = (op == ">=") ? (v >= l) : (v < l)
    print ok ? "met" : "MISSED" }'; }

# start_fake ARGS...: a fake CRM on a free loopback port; sets FAKE_PID, FAKE_BASE.
start_fake() {
    local out=$WORK/out/fake.$$.$((${#FAKE_PIDS[@]} + 1)).out i
    # Removed first: the shell truncates it only once the child runs, and a
    # stale URL from an earlier run must never be read.
    rm -f "$out" "$out.err"
    "$BIN" fake-crm --listen 127.0.0.1:0 "$@" >"$out" 2>"$out.err" &
    FAKE_PID=$!
    FAKE_PIDS+=("$FAKE_PID")
    for i in $(seq 100); do
        [[ -s $out ]] && break
        sleep 0.1
    done
    FAKE_BASE=$(head -n 1 "$out")
    [[ $FAKE_BASE == http://127.0.0.1:* ]] || die "fake CRM did not start: $(cat "$out.err")"
}

# stop_fake: stops the last fake; sets FAKE_HWM_KB (its own peak memory).
stop_fake() {
    FAKE_HWM_KB=$(awk '/VmHWM/ { print $2 }' "/proc/$FAKE_PID/status" 2>/dev/null || echo 0)
    kill "$FAKE_PID" 2>/dev/null || true
    wait "$FAKE_PID" 2>/dev/null || true
    rm -f "$WORK/out/fake.$$."*
}

# gen KIND FILE ROWS: generates an input once (the generator is deterministic).
gen() {
    local kind=$1 file=$WORK/$2 rows=$3
    if [[ ! -s $file || ! -s $file.rows || $(cat "$file.rows") != "$rows" ]]; then
        say "generating $2 ($rows rows)"
        timeout 900 "$GEN" "$kind" "$file" "$rows" 2>/dev/null
        echo "$rows" >"$file.rows"
    fi
}

# fresh RESULTS: removes what an earlier run left at --output and the ledger
# kept beside it for the bench (RESULTS.ledger.sqlite), so every sending run
# starts from an empty ledger and really sends its rows.
fresh() { rm -f "$1" "$1.tmp" "$1.ledger.sqlite" "$1.ledger.sqlite-wal" "$1.ledger.sqlite-shm" "$1.ledger.sqlite.lock"; }

# No run reads or writes the user's own ledger: dry runs get one that does
# not exist (so they plan nothing), sending runs their own (--ledger).
export WOLKVOX_LEDGER=$WORK/out/absent.ledger.sqlite
rm -f "$WOLKVOX_LEDGER"

load() { cut -d' ' -f1-3 /proc/loadavg; }

# --- the machine -----------------------------------------------------------------
{
    echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo "kernel: $(uname -r); $(rustc --version)"
    echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src Cargo.toml Cargo.lock 2>/dev/null || echo ' (src/ has uncommitted changes)')"
    echo "load average at start: $(load)"
} | tee "$WORK/machine.txt" >&2

if [[ $QUICK == 1 ]]; then
    say "QUICK=1: skipping the 2M-row CSV dry run and the 1M-row import"
fi

# --- 1. CSV dry run: rows/s beside the csv crate's bare parse; peak memory --------------
if want csv; then
    gen csv p1m.csv 1000000
    sizes=(1m)
    if [[ $QUICK != 1 ]]; then
        gen csv p2m.csv 2000000
        gen csv p4m.csv 4000000
        sizes+=(2m 4m)
    fi
    n=$((REPEAT < 5 ? 5 : REPEAT))
    say "CSV dry runs ×$n, each right after the csv crate's bare parse of the same file (load $(load))"
    for ((i = 1; i <= n; i++)); do
        for s in "${sizes[@]}"; do
            rows=$(cat "$WORK/p$s.csv.rows")
            out=$WORK/out/p$s.results.csv
            # The baseline first: the least work any reader of the file does,
            # under the load the importer then meets.
            run_timed 900 "$CSV_PARSE" "$WORK/p$s.csv" ";"
            parse=$WALL
            record "csv$s.parse" "$parse"
            fresh "$out"
            run_timed 900 "$BIN" import "$WORK/p$s.csv" -m "$MAPPING" --dry-run -o "$out"
            record "csv$s.rps" "$(awk -v r="$rows" -v w="$WALL" 'BEGIN { print r / w }')"
            record "csv$s.rss" "$(awk -v k="$RSS_KB" 'BEGIN { print k / 1024 }')"
            record "csv$s.ratio" "$(awk -v a="$WALL" -v b="$parse" 'BEGIN { print a / b }')"
            say "  p$s.csv: ${WALL}s, $((RSS_KB / 1024)) MiB (bare parse ${parse}s)"
            if [[ $s == 1m ]]; then
                # The same with every body written to --payloads.
                fresh "$out"
                run_timed 900 "$BIN" import "$WORK/p1m.csv" -m "$MAPPING" --dry-run -o "$out" \
                    --payloads "$WORK/out/p1m.payloads.jsonl"
                record "csv1m.payloads.rps" "$(awk -v w="$WALL" 'BEGIN { print 1000000 / w }')"
                record "csv1m.payloads.rss" "$(awk -v k="$RSS_KB" 'BEGIN { print k / 1024 }')"
                rm -f "$WORK/out/p1m.payloads.jsonl"
                say "  p1m.csv with --payloads: ${WALL}s"
                # Diagnostic: the same dry run again, with the results file
                # just written still at --output (what a nightly job that
                # reuses its --output does): the importer reads it first.
                run_timed 900 "$BIN" import "$WORK/p1m.csv" -m "$MAPPING" --dry-run -o "$out"
                record "csv1m.rerun.rps" "$(awk -v w="$WALL" 'BEGIN { print 1000000 / w }')"
                record "csv1m.rerun.rss" "$(awk -v k="$RSS_KB" 'BEGIN { print k / 1024 }')"
                say "  p1m.csv again, old results at --output: ${WALL}s, $((RSS_KB / 1024)) MiB"
            fi
            fresh "$out"
        done
    done

    m=$(median csv1m.rps)
    row "CSV dry run, 1,000,000 rows × 15 cols: speed" csv1m.rps "rows/s" 0 "≥ 1,000,000 rows/s" \
        "$(verdict "$m" ">=" 1000000) ($(fmt "$(awk -v m="$m" 'BEGIN { print m / 1000000 * 100 }')" 0)% of target)"
    row "(baseline) the csv crate's bare parse of the same file, right before each" csv1m.parse "s" 3 "—" "—"
    row "CSV dry run ÷ bare parse, per pair (the figure to watch under load)" csv1m.ratio "×" 2 "—" "—"
    row "CSV dry run, 1,000,000 rows: peak RSS" csv1m.rss "MiB" 1 "≤ 48 MiB" "$(verdict "$(median csv1m.rss)" "<" 48.0000001)"
    row "CSV dry run, 1,000,000 rows, with --payloads: speed" csv1m.payloads.rps "rows/s" 0 "—" "—"
    row "(context) the same with --payloads: peak RSS" csv1m.payloads.rss "MiB" 1 "—" "—"
    if [[ $QUICK != 1 ]]; then
        row "CSV dry run, 2,000,000 rows: speed" csv2m.rps "rows/s" 0 "—" "—"
        row "(context) 2,000,000 rows: ÷ bare parse, per pair" csv2m.ratio "×" 2 "—" "—"
        row "CSV dry run, 2,000,000 rows: peak RSS" csv2m.rss "MiB" 1 "—" "—"
        row "CSV dry run, 4,000,000 rows: speed" csv4m.rps "rows/s" 0 "—" "—"
        row "(context) 4,000,000 rows: ÷ bare parse, per pair" csv4m.ratio "×" 2 "—" "—"
        row "CSV dry run, 4,000,000 rows: peak RSS" csv4m.rss "MiB" 1 "≤ 64 MiB" "$(verdict "$(median csv4m.rss)" "<" 64.0000001)"
    fi
    row "(diagnostic) 1M dry run again, old results file at --output: speed" csv1m.rerun.rps "rows/s" 0 "—" "—"
    row "(diagnostic) 1M dry run again, old results file at --output: peak RSS" csv1m.rerun.rss "MiB" 1 "< 64 MiB" \
        "$(verdict "$(median csv1m.rerun.rss)" "<" 64)"
fi

# --- 2. xlsx dry run vs calamine alone -----------------------------------------------------
if want xlsx; then
    gen xlsx p100k.xlsx 100000
    n=$((REPEAT < 5 ? 5 : REPEAT))
    say "xlsx: importer vs calamine ×$n, interleaved (load $(load))"
    out=$WORK/out/p100k.xlsx.results.csv
    for ((i = 1; i <= n; i++)); do
        fresh "$out"
        run_timed 600 "$BIN" import "$WORK/p100k.xlsx" -m "$MAPPING" --dry-run -o "$out"
        record xlsx.importer "$WALL"
        record xlsx.importer.rss "$(awk -v k="$RSS_KB" 'BEGIN { print k / 1024 }')"
        imp=$WALL
        run_timed 600 "$CALAMINE" "$WORK/p100k.xlsx" stream
        record xlsx.stream "$WALL"
        record xlsx.ratio "$(awk -v a="$imp" -v b="$WALL" 'BEGIN { print a / b }')"
        st=$WALL
        run_timed 600 "$CALAMINE" "$WORK/p100k.xlsx" range
        record xlsx.range "$WALL"
        say "  importer ${imp}s, calamine stream ${st}s, range ${WALL}s"
        if command -v taskset >/dev/null 2>&1; then
            # Diagnostic: the importer pinned to one core, as when the
            # machine's other core is busy (its sheet reader runs in a thread).
            fresh "$out"
            run_timed 600 taskset -c 0 "$BIN" import "$WORK/p100k.xlsx" -m "$MAPPING" --dry-run -o "$out"
            record xlsx.onecore "$WALL"
        fi
    done
    fresh "$out"
    row "xlsx dry run, 100,000 rows: importer" xlsx.importer "s" 3 "—" "—"
    row "xlsx: calamine alone, worksheet_cells_reader (stream)" xlsx.stream "s" 3 "—" "—"
    row "xlsx: calamine alone, worksheet_range" xlsx.range "s" 3 "—" "—"
    m=$(median xlsx.importer)
    s=$(median xlsx.stream)
    ratio=$(awk -v a="$m" -v b="$s" 'BEGIN { print a / b }')
    TABLE+=("| xlsx: importer ÷ calamine stream (ratio of medians) | $(fmt "$ratio" 2)× | per-pair ratios: $(stats xlsx.ratio | awk '{ printf "%.2f–%.2f", $2, $3 }') | ≤ 1.3× | $(verdict "$ratio" "<" 1.3000001) |")
    row "xlsx dry run, 100,000 rows: peak RSS" xlsx.importer.rss "MiB" 1 "—" "—"
    if command -v taskset >/dev/null 2>&1; then
        o=$(median xlsx.onecore)
        row "(diagnostic) xlsx importer pinned to one core (taskset -c 0)" xlsx.onecore "s" 3 "—" \
            "$(fmt "$(awk -v a="$o" -v b="$s" 'BEGIN { print a / b }')" 2)× calamine"
    fi
fi

# --- 3. send against 20 ms latency, 2 slots: rows/s vs the ideal 100 -------------------------
if want latency; then
    gen csv p2k.csv 2000
    say "latency 20 ms: import 2,000 rows with default settings ×$REPEAT (load $(load))"
    out=$WORK/out/p2k.results.csv
    for ((i = 1; i <= REPEAT; i++)); do
        start_fake --latency 20ms
        fresh "$out"
        run_timed 300 env WOLKVOX_TOKEN=fake-token "$BIN" import "$WORK/p2k.csv" -m "$MAPPING" \
            --server "$FAKE_BASE" -o "$out" --ledger "$out.ledger.sqlite"
        record lat.rps "$(awk -v w="$WALL" 'BEGIN { print 2000 / w }')"
        say "  ${WALL}s"
        if [[ -d /dev/shm ]]; then
            # Diagnostic: the same with the results and its log on tmpfs,
            # where an fsync costs nothing.
            shm=/dev/shm/wolkvox-bench.$$.results.csv
            fresh "$shm"
            run_timed 300 env WOLKVOX_TOKEN=fake-token "$BIN" import "$WORK/p2k.csv" -m "$MAPPING" \
                --server "$FAKE_BASE" -o "$shm" --ledger "$shm.ledger.sqlite"
            record lat.shm.rps "$(awk -v w="$WALL" 'BEGIN { print 2000 / w }')"
            fresh "$shm"
            say "  ${WALL}s with the results on tmpfs"
        fi
        # What a load generator gets from the same fake with 2 connections:
        # the practical ceiling (the fake's 20 ms sleep overshoots a little).
        timeout 60 wrk -t1 -c2 -d10s -s "$LUA" "${FAKE_BASE}collections/insertObligation.php" >"$WORK/out/wrk.lat.txt" 2>&1 &&
            record lat.wrk "$(awk '/Requests\/sec/ { print $2 }' "$WORK/out/wrk.lat.txt")" || true
        stop_fake
    done
    fresh "$out"
    m=$(median lat.rps)
    row "Send, 20 ms latency, 2 slots, 2,000 rows, defaults: rows/s (wall clock)" lat.rps "rows/s" 1 \
        "≥ 95 rows/s (95% of 100)" "$(verdict "$m" ">=" 95) ($(fmt "$m" 1)% of ideal)"
    if command -v wrk >/dev/null 2>&1; then
        w=$(median lat.wrk)
        row "(reference) wrk -t1 -c2 on the same fake: requests/s" lat.wrk "req/s" 1 "—" \
            "importer at $(fmt "$(awk -v a="$m" -v b="$w" 'BEGIN { print a / b * 100 }')" 0)% of it"
    fi
    if [[ -d /dev/shm ]]; then
        row "(diagnostic) same, results + log on tmpfs (no fsync cost)" lat.shm.rps "rows/s" 1 "—" "—"
    fi
fi

# --- 4. send with no latency: importer vs wrk against the same fake --------------------------
if want throughput; then
    gen csv p50k.csv 50000
    say "no latency: import 50,000 rows --concurrency 32 vs wrk -t2 -c32 ×$REPEAT (load $(load))"
    out=$WORK/out/p50k.results.csv
    for ((i = 1; i <= REPEAT; i++)); do
        # A fresh fake for each: it keeps every insert in memory.
        start_fake --max-in-flight 64
        fresh "$out"
        run_timed 600 env WOLKVOX_TOKEN=fake-token "$BIN" import "$WORK/p50k.csv" -m "$MAPPING" \
            --server "$FAKE_BASE" --concurrency 32 --no-preflight -o "$out" --ledger "$out.ledger.sqlite"
        record thr.importer "$(awk -v w="$WALL" 'BEGIN { print 50000 / w }')"
        imp=$WALL
        stop_fake
        if [[ -d /dev/shm ]]; then
            # Diagnostic: the same with the results and its log on tmpfs.
            start_fake --max-in-flight 64
            shm=/dev/shm/wolkvox-bench.$$.results.csv
            fresh "$shm"
            run_timed 600 env WOLKVOX_TOKEN=fake-token "$BIN" import "$WORK/p50k.csv" -m "$MAPPING" \
                --server "$FAKE_BASE" --concurrency 32 --no-preflight -o "$shm" --ledger "$shm.ledger.sqlite"
            record thr.shm "$(awk -v w="$WALL" 'BEGIN { print 50000 / w }')"
            fresh "$shm"
            stop_fake
        fi
        start_fake --max-in-flight 64
        timeout 60 wrk -t2 -c32 -d10s -s "$LUA" "${FAKE_BASE}collections/insertObligation.php" >"$WORK/out/wrk.thr.txt" 2>&1
        w=$(awk '/Requests\/sec/ { print $2 }' "$WORK/out/wrk.thr.txt")
        record thr.wrk "$w"
        record thr.ratio "$(awk -v a="$imp" -v b="$w" 'BEGIN { print 50000 / a / b }')"
        stop_fake
        say "  importer ${imp}s ($(fmt "$(awk -v a="$imp" 'BEGIN { print 50000 / a }')" 0) rows/s), wrk $w req/s"
    done
    fresh "$out"
    row "Send, no latency, 50,000 rows, --concurrency 32: importer" thr.importer "rows/s" 0 "—" "—"
    row "Send, no latency: wrk -t2 -c32 -d10s, same fake" thr.wrk "req/s" 0 "—" "—"
    m=$(median thr.importer)
    w=$(median thr.wrk)
    ratio=$(awk -v a="$m" -v b="$w" 'BEGIN { print a / b }')
    TABLE+=("| Send, no latency: importer ÷ wrk (ratio of medians) | $(fmt "$ratio" 2) | per-pair ratios: $(stats thr.ratio | awk '{ printf "%.2f–%.2f", $2, $3 }') | ≥ 0.67 (within 1.5×) | $(verdict "$ratio" ">=" 0.6666) |")
    if [[ -d /dev/shm ]]; then
        row "(diagnostic) importer, results + log on tmpfs (no fsync cost)" thr.shm "rows/s" 0 "—" "—"
    fi
fi

# --- 5. peak memory of a 1,000,000-row import --------------------------------------------
if want bigimport && [[ $QUICK != 1 ]]; then
    gen csv p1m.csv 1000000
    avail_gib=$(awk '/MemAvailable/ { printf "%d", $2 / 1048576 }' /proc/meminfo)
    # The fake keeps every insert in memory: 1.6 GiB for 1M inserts since it
    # stores them as JSON text (12.8 GiB before that).
    if ((avail_gib < 4)); then
        say "skipping the 1M-row import: the fake CRM needs ~2 GiB for 1M inserts and only $avail_gib GiB are available"
        TABLE+=("| Import of 1,000,000 rows: peak RSS | skipped | only $avail_gib GiB available, the fake needs ~2 GiB | < 100 MiB | — |")
    else
        big_repeat=${BIG_REPEAT:-1}
        say "1M-row import against the fake, --concurrency 32, ×$big_repeat (about a minute each; load $(load))"
        out=$WORK/out/p1m.import.results.csv
        for ((i = 1; i <= big_repeat; i++)); do
            start_fake --max-in-flight 64
            fresh "$out"
            ledger=$out.ledger.sqlite
            run_timed 3600 env WOLKVOX_TOKEN=fake-token "$BIN" import "$WORK/p1m.csv" -m "$MAPPING" \
                --server "$FAKE_BASE" --concurrency 32 --no-preflight -o "$out" --ledger "$ledger"
            record big.rss "$(awk -v k="$RSS_KB" 'BEGIN { print k / 1024 }')"
            record big.rps "$(awk -v w="$WALL" 'BEGIN { print 1000000 / w }')"
            say "  ${WALL}s, $((RSS_KB / 1024)) MiB"
            record big.ledger.bytes "$(awk -v b="$(stat -c %s "$ledger")" 'BEGIN { print b / 1000000 }')"
            # The same file again, the nightly way: nothing changed, so the
            # ledger says every row is unchanged and nothing is sent.
            for ((j = 1; j <= REPEAT; j++)); do
                run_timed 900 env WOLKVOX_TOKEN=fake-token "$BIN" import "$WORK/p1m.csv" -m "$MAPPING" \
                    --server "$FAKE_BASE" --mode sync -o "$out" --ledger "$ledger"
                grep -q ", 0 requests" "$WORK/out/last.err" || die "the unchanged sync rerun sent requests: $(tail -n 3 "$WORK/out/last.err")"
                record big.sync.rps "$(awk -v w="$WALL" 'BEGIN { print 1000000 / w }')"
                record big.sync.rss "$(awk -v k="$RSS_KB" 'BEGIN { print k / 1024 }')"
                say "  sync rerun, nothing changed: ${WALL}s, $((RSS_KB / 1024)) MiB"
            done
            # What a load generator gets from a fresh fake like it.
            stop_fake
            record big.fake.rss "$(awk -v k="$FAKE_HWM_KB" 'BEGIN { print k / 1048576 }')"
            start_fake --max-in-flight 64
            timeout 60 wrk -t2 -c32 -d10s -s "$LUA" "${FAKE_BASE}collections/insertObligation.php" >"$WORK/out/wrk.big.txt" 2>&1
            record big.wrk "$(awk '/Requests\/sec/ { print $2 }' "$WORK/out/wrk.big.txt")"
            stop_fake
            fresh "$out"
        done
        row "Import of 1,000,000 rows (no latency, --concurrency 32): peak RSS" big.rss "MiB" 1 "< 100 MiB" \
            "$(verdict "$(median big.rss)" "<" 100)"
        row "Import of 1,000,000 rows: speed (wall clock)" big.rps "rows/s" 0 "—" "—"
        m=$(median big.rps)
        w=$(median big.wrk)
        ratio=$(awk -v a="$m" -v b="$w" 'BEGIN { print a / b }')
        TABLE+=("| Import of 1,000,000 rows ÷ wrk -t2 -c32 on a fresh fake | $(fmt "$ratio" 2) | wrk $(fmt "$w" 0) req/s | ≥ 0.67 | $(verdict "$ratio" ">=" 0.6666) |")
        row "Ledger after that import: size" big.ledger.bytes "MB" 1 "—" \
            "$(fmt "$(awk -v b="$(median big.ledger.bytes)" 'BEGIN { print b }')" 0) bytes per obligation"
        m=$(median big.sync.rps)
        row "Same 1,000,000 rows again, --mode sync, nothing changed (0 requests): speed" big.sync.rps "rows/s" 0 \
            "≥ 200,000 rows/s" "$(verdict "$m" ">=" 200000)"
        row "Same sync rerun: peak RSS" big.sync.rss "MiB" 1 "< 128 MiB" "$(verdict "$(median big.sync.rss)" "<" 128)"
        row "(context) the fake CRM's own peak memory in that run" big.fake.rss "GiB" 1 "—" "—"
    fi
fi

# --- 6. a 1,000,000-key lookup: read time and memory -----------------------------------
if want lookup; then
    gen records-csv registros1m.csv 1000000
    gen records-xlsx registros1m.xlsx 1000000
    gen csv p2k.csv 2000
    # The mapping names its lookup file relative to itself, so it goes
    # beside the generated files.
    cp "$ROOT/bench/portfolio-lookup.toml" "$WORK/lookup.toml"
    sed 's/registros1m\.csv/registros1m.xlsx/' "$ROOT/bench/portfolio-lookup.toml" >"$WORK/lookup-xlsx.toml"
    n=$((REPEAT < 5 ? 5 : REPEAT))
    say "lookup: dry run of 2,000 rows with a 1,000,000-key lookup (CSV, then xlsx) vs none, ×$n (load $(load))"
    out=$WORK/out/p2k.lookup.results.csv
    # The importer logs the table's own read time and heap: "seconds=0.81 mib=56.8".
    logged() { grep -o "$1=[0-9.]*" "$WORK/out/last.err" | head -n 1 | cut -d= -f2; }
    for ((i = 1; i <= n; i++)); do
        fresh "$out"
        run_timed 300 "$BIN" import "$WORK/p2k.csv" -m "$WORK/lookup.toml" --dry-run -o "$out"
        record lookup.csv.read "$(logged seconds)"
        record lookup.csv.wall "$WALL"
        record lookup.csv.rss "$(awk -v k="$RSS_KB" 'BEGIN { print k / 1024 }')"
        record lookup.csv.heap "$(logged mib)"
        csv_read=$(logged seconds)
        fresh "$out"
        run_timed 300 "$BIN" import "$WORK/p2k.csv" -m "$MAPPING" --dry-run -o "$out"
        record lookup.none.wall "$WALL"
        record lookup.none.rss "$(awk -v k="$RSS_KB" 'BEGIN { print k / 1024 }')"
        fresh "$out"
        run_timed 600 "$BIN" import "$WORK/p2k.csv" -m "$WORK/lookup-xlsx.toml" --dry-run -o "$out"
        record lookup.xlsx.read "$(logged seconds)"
        record lookup.xlsx.rss "$(awk -v k="$RSS_KB" 'BEGIN { print k / 1024 }')"
        xlsx_read=$(logged seconds)
        # The floor for the workbook: calamine alone streaming the same sheet.
        run_timed 600 "$CALAMINE" "$WORK/registros1m.xlsx" stream
        record lookup.xlsx.calamine "$WALL"
        say "  CSV lookup read in ${csv_read}s; xlsx lookup read in ${xlsx_read}s (calamine alone ${WALL}s)"
    done
    fresh "$out"
    if [[ $QUICK != 1 ]]; then
        gen csv p1m.csv 1000000
        say "lookup: 1,000,000-row dry run, every row joined ×$REPEAT (load $(load))"
        out=$WORK/out/p1m.lookup.results.csv
        for ((i = 1; i <= REPEAT; i++)); do
            fresh "$out"
            run_timed 900 "$BIN" import "$WORK/p1m.csv" -m "$WORK/lookup.toml" --dry-run -o "$out"
            record lookup.p1m.rps "$(awk -v w="$WALL" 'BEGIN { print 1000000 / w }')"
            record lookup.p1m.rss "$(awk -v k="$RSS_KB" 'BEGIN { print k / 1024 }')"
            joined=$WALL
            # Paired with the same dry run without the lookup, so both see
            # the same load.
            fresh "$out"
            run_timed 900 "$BIN" import "$WORK/p1m.csv" -m "$MAPPING" --dry-run -o "$out"
            record lookup.p1m.none.rps "$(awk -v w="$WALL" 'BEGIN { print 1000000 / w }')"
            record lookup.p1m.extra "$(awk -v a="$joined" -v b="$WALL" 'BEGIN { print a - b }')"
            say "  joined ${joined}s, without the lookup ${WALL}s"
        done
        fresh "$out"
    fi
    m=$(median lookup.csv.read)
    row "Lookup of 1,000,000 keys, CSV (85 MB, 6 cols): read time (logged)" lookup.csv.read "s" 2 "< 2 s" "$(verdict "$m" "<" 2)"
    m=$(median lookup.csv.rss)
    row "Dry run of 2,000 rows with that lookup: peak RSS" lookup.csv.rss "MiB" 1 "< 150 MiB" "$(verdict "$m" "<" 150)"
    row "(context) the table's own heap (logged)" lookup.csv.heap "MiB" 1 "—" "—"
    row "(context) the same dry run with that lookup: wall clock" lookup.csv.wall "s" 2 "—" "—"
    row "(context) the same dry run without a lookup: wall clock" lookup.none.wall "s" 2 "—" "—"
    row "(context) the same dry run without a lookup: peak RSS" lookup.none.rss "MiB" 1 "—" "—"
    m=$(median lookup.xlsx.read)
    row "Lookup of 1,000,000 keys, xlsx (6 cols, documents as numbers): read time (logged)" lookup.xlsx.read "s" 2 "< 2 s" "$(verdict "$m" "<" 2)"
    m=$(median lookup.xlsx.rss)
    row "Dry run of 2,000 rows with the xlsx lookup: peak RSS" lookup.xlsx.rss "MiB" 1 "< 150 MiB" "$(verdict "$m" "<" 150)"
    row "(context) calamine alone streaming that workbook" lookup.xlsx.calamine "s" 2 "—" "—"
    if [[ $QUICK != 1 ]]; then
        row "(diagnostic) 1,000,000-row CSV dry run, every row joined: speed" lookup.p1m.rps "rows/s" 0 "—" "—"
        row "(diagnostic) the same dry run without the lookup, paired: speed" lookup.p1m.none.rps "rows/s" 0 "—" "—"
        row "(diagnostic) joined minus not joined, per pair (table read included)" lookup.p1m.extra "s" 2 "—" "—"
        row "(diagnostic) 1,000,000-row CSV dry run, every row joined: peak RSS" lookup.p1m.rss "MiB" 1 "—" "—"
    fi
fi

# --- 7. the cost of --report on a 1,000,000-row dry run ---------------------------------------
if want report; then
    gen csv p1m.csv 1000000
    say "1M-row dry run without and with --report, interleaved ×$REPEAT (load $(load))"
    out=$WORK/out/p1m.report.results.csv
    page=$WORK/out/p1m.report.html
    for ((i = 1; i <= REPEAT; i++)); do
        fresh "$out"
        run_timed 900 "$BIN" import "$WORK/p1m.csv" -m "$MAPPING" --dry-run -o "$out"
        base=$WALL
        base_cpu=$CPU
        base_rss=$RSS_KB
        record report.without "$WALL"
        record report.without.cpu "$CPU"
        record report.without.rss "$(awk -v k="$RSS_KB" 'BEGIN { print k / 1024 }')"
        fresh "$out"
        rm -f "$page"
        run_timed 900 "$BIN" import "$WORK/p1m.csv" -m "$MAPPING" --dry-run -o "$out" --report "$page"
        [[ -s $page ]] || die "--report wrote no page"
        record report.with "$WALL"
        record report.with.cpu "$CPU"
        record report.with.rss "$(awk -v k="$RSS_KB" 'BEGIN { print k / 1024 }')"
        record report.ratio "$(awk -v a="$WALL" -v b="$base" 'BEGIN { print a / b }')"
        record report.cpu.ratio "$(awk -v a="$CPU" -v b="$base_cpu" 'BEGIN { print a / b }')"
        record report.extra.rss "$(awk -v a="$RSS_KB" -v b="$base_rss" 'BEGIN { print (a - b) / 1024 }')"
        say "  without ${base}s (cpu ${base_cpu}s) $((base_rss / 1024)) MiB, with --report ${WALL}s (cpu ${CPU}s) $((RSS_KB / 1024)) MiB"
    done
    fresh "$out"
    row "1M dry run without --report" report.without "s" 3 "—" "—"
    row "1M dry run with --report" report.with "s" 3 "—" "—"
    r=$(median report.ratio)
    row "--report: wall time, with ÷ without (per pair)" report.ratio "×" 3 "≤ 1.10×" "$(verdict "$r" "<" 1.1000001)"
    # CPU time (user + system) moves less than wall time when others load
    # the machine; the page's input fingerprint runs in a thread of its own.
    r=$(median report.cpu.ratio)
    row "--report: CPU time, with ÷ without (per pair)" report.cpu.ratio "×" 3 "≤ 1.10×" "$(verdict "$r" "<" 1.1000001)"
    if command -v valgrind >/dev/null 2>&1; then
        # Instructions executed, counted by callgrind on 100,000 rows: the
        # same every time, whatever else the machine is doing.
        gen csv p100k.csv 100000
        instructions() {
            fresh "$out"
            rm -f "$page"
            timeout 900 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
                "$BIN" import "$WORK/p100k.csv" -m "$MAPPING" --dry-run -o "$out" "$@" 2>&1 >/dev/null |
                awk '/Collected :/ { print $NF }'
        }
        ir_without=$(instructions)
        ir_with=$(instructions --report "$page")
        record report.ir.ratio "$(awk -v a="$ir_with" -v b="$ir_without" 'BEGIN { print a / b }')"
        say "  callgrind, 100,000 rows: $ir_without instructions without, $ir_with with --report"
        fresh "$out"
        r=$(median report.ir.ratio)
        row "--report: instructions (callgrind), with ÷ without, 100,000 rows" report.ir.ratio "×" 3 "≤ 1.10×" \
            "$(verdict "$r" "<" 1.1000001)"
    fi
    row "1M dry run without --report: peak RSS" report.without.rss "MiB" 1 "—" "—"
    row "1M dry run with --report: peak RSS" report.with.rss "MiB" 1 "—" "—"
    x=$(median report.extra.rss)
    row "--report: extra peak RSS (per pair)" report.extra.rss "MiB" 1 "< 16 MiB" "$(verdict "$x" "<" 16)"
fi

# --- the table -------------------------------------------------------------------------------
{
    echo
    cat "$WORK/machine.txt"
    echo "load average at end: $(load)"
    echo
    echo "| measurement | median | spread (min–max, runs) | target | verdict |"
    echo "| --- | --- | --- | --- | --- |"
    printf '%s\n' "${TABLE[@]}"
} | tee "$WORK/results.md"
say "raw measurements: $RAW; table: $WORK/results.md"
