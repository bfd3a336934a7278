#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer targets of Fuzz/, then for each target replays its seed corpus
# and fuzzes a scratch copy of it for FUZZ_SECONDS. Exits 1 when any input crashed, broke an
# invariant, timed out or ran out of memory; those inputs are kept in Fuzz/crashes/<target>/.
set -uo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
# 0 skips minimizing; a minimized input is what goes into a bug report and the seed corpus.
FUZZ_MINIMIZE_SECONDS=${FUZZ_MINIMIZE_SECONDS:-30}
# Every fuzz target is a directory of Fuzz/Sources; FuzzSupport is the shared library.
FUZZ_TARGETS=${FUZZ_TARGETS:-$(cd Fuzz/Sources && ls -d Fuzz* | grep -v '^FuzzSupport$')}
SCRATCH=.build-fuzz
CRASHES=Fuzz/crashes
# Not `--sanitize=fuzzer --sanitize=address`: SwiftPM hands swiftc two -sanitize= flags in a random
# order, swiftc keeps only the last, and each build loses either coverage or ASan. --sanitize=fuzzer
# alone keeps libFuzzer's main linked; -sanitize=fuzzer,address after it wins for Swift; -Xcc adds
# ASan to C code (libyaml parses the web config). See Fuzz/README.md.
BUILD=(swift build --package-path Fuzz --scratch-path "$SCRATCH" -c debug --sanitize=fuzzer
       -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=address -Xswiftc -parse-as-library)

# The Swift runtime's own crash handler would race libFuzzer's, which prints the sanitizer stack.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-symbolize=1:detect_leaks=1}
# Known leaks outside this repository (one entry each, with why): see Fuzz/lsan.supp.
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/Fuzz/lsan.supp:print_suppressions=0}
# FuzzWebConfig writes its inputs to files: keep them in the scratch folder, not in /tmp.
FUZZ_TMP=$PWD/$SCRATCH/tmp
# Runs a fuzz binary at low priority (the machine is shared) with its own TMPDIR.
run() { TMPDIR=$FUZZ_TMP nice -n 10 "$@"; }

# libxml2's HTML parser checks the landing page (LandingPageCheck); `make fuzz` installs it first, as
# `make deps` installs the build's packages; run on its own, this script does the same.
if ! dpkg -s libxml2-dev >/dev/null 2>&1; then
    echo "Installing Debian packages: libxml2-dev"
    SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends libxml2-dev || exit 1
fi

echo "== building the fuzz targets"
# The same dependency versions as the exporter: the root's pins (Fuzz/Package.resolved is not committed).
cp Package.resolved Fuzz/Package.resolved
start=$SECONDS
mkdir -p "$SCRATCH/logs"
# SwiftPM keeps the build plan of a path dependency (the root package) in these files and does not
# notice files moved or renamed there ("missing inputs"); without them it plans again, and the
# build database still makes the build incremental.
rm -f "$SCRATCH"/*.yaml "$SCRATCH"/*/debug/description.json
if ! nice -n 10 "${BUILD[@]}" >"$SCRATCH/logs/build.log" 2>&1; then
    grep -E 'error:' "$SCRATCH/logs/build.log" | head -20; tail -5 "$SCRATCH/logs/build.log"; exit 1
fi
echo "   built in $((SECONDS - start)) s (log: $SCRATCH/logs/build.log)"
BIN=$("${BUILD[@]}" --show-bin-path)

# Prints an artifact: hex, text, the error line and the top frames that are not libFuzzer's or libc's.
show() {
    local bin=$1 file=$2
    echo "---- $file ($(stat -c %s "$file") bytes)"
    xxd -l 256 "$file"
    echo "text: $(head -c 256 "$file" | cat -v)"
    TMPDIR=$FUZZ_TMP timeout 60 "$bin" "$file" 2>&1 \
        | grep -E 'Fatal error|INVARIANT FAILED|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|^ +#[0-9]+ ' \
        | grep -vE 'compiler-rt|libc\.so|libc_start|/csu/|_assertionFailure|in _start ' \
        | head -9 | swift demangle --simplified
}

failed=()
for target in $FUZZ_TARGETS; do
    bin=$BIN/$target
    out=$CRASHES/$target
    work=$SCRATCH/corpus/$target
    log=$SCRATCH/logs/$target.log
    rm -rf "$out" "$work" "$FUZZ_TMP" && mkdir -p "$out" "$work" "$FUZZ_TMP" "$(dirname "$log")"
    echo "== $target"

    # 1. Replay each seed on its own: a seed that fails is a regression input whose bug is not fixed.
    #    It is kept as seed-<name> and left out of the run, so that fuzzing still gets past it.
    for seed in Fuzz/Corpus/"$target"/*; do
        if run "$bin" "$seed" >"$log" 2>&1; then
            cp "$seed" "$work/"
        else
            echo "   seed $(basename "$seed") fails"
            cp "$seed" "$out/seed-$(basename "$seed")"
        fi
    done

    # 2. Fuzz the passing seeds; libFuzzer stops at the first failure and writes it to $out.
    options=(-max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$out/" -print_final_stats=1)
    case $target in
        FuzzWebConfig|FuzzExporterConfig) options+=(-dict=Fuzz/Dictionaries/yaml.dict) ;;
        FuzzVAPIBody | FuzzJobJSON) options+=(-dict=Fuzz/Dictionaries/json.dict) ;;
        FuzzLandingPage) options+=(-dict=Fuzz/Dictionaries/html.dict) ;;
        # libFuzzer takes one dictionary: JSON bodies whose text ends up in the page.
        FuzzApplianceBody) cat Fuzz/Dictionaries/json.dict Fuzz/Dictionaries/html.dict >"$SCRATCH/$target.dict"
                           options+=(-dict="$SCRATCH/$target.dict") ;;
    esac
    start=$SECONDS
    run "$bin" "$work" "${options[@]}" >"$log" 2>&1
    echo "   fuzzed $((SECONDS - start)) s: $(grep -E '^stat::number_of_executed_units' "$log" | tail -1 | awk '{print $2}') runs," \
         "$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9/a-zA-Z]+' "$log" | tail -1) (log: $log)"

    # 3. Minimize what it found (crashes and invariant failures; timeouts and OOMs are kept as found).
    if [ "$FUZZ_MINIMIZE_SECONDS" -gt 0 ]; then
        for crash in "$out"/crash-*; do
            [ -e "$crash" ] || continue
            run "$bin" -minimize_crash=1 -max_total_time="$FUZZ_MINIMIZE_SECONDS" \
                -exact_artifact_path="$out/minimized-$(basename "$crash")" "$crash" >>"$log" 2>&1
        done
    fi

    artifacts=("$out"/*)
    if [ -e "${artifacts[0]}" ]; then
        failed+=("$target")
        for artifact in "${artifacts[@]}"; do
            # A crash that was minimized is shown by its minimized copy.
            [ -e "$out/minimized-$(basename "$artifact")" ] || show "$bin" "$artifact"
        done
    fi
done
rm -rf "$FUZZ_TMP"

if [ ${#failed[@]} -gt 0 ]; then
    echo "FUZZ FAILED: ${failed[*]} (inputs in $CRASHES/; add minimized ones to Fuzz/Corpus/<target>/ as regression inputs)"
    exit 1
fi
echo "fuzz: no failures in $(echo $FUZZ_TARGETS | wc -w) targets"
