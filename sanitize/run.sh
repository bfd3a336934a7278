#!/usr/bin/env bash
# `make sanitize`: the whole Swift test suite under ThreadSanitizer, then under AddressSanitizer,
# each in its own scratch folder. The integration tests drive the binaries beside the test bundle,
# so the sanitized vcsa_exporter and vcsa_simulator are the ones exercised; their reports would go
# to a stderr that nobody reads, so every process writes them to files (log_path) instead.
# Fails when the tests fail or any report file appears; prints the reports.
set -uo pipefail
cd "$(dirname "$0")/.."

SANITIZERS=${SANITIZERS:-thread address}
# Known reports from frames outside this repository's Sources/, one comment each.
TSAN_SUPPRESSIONS=$PWD/sanitize/tsan.supp
ASAN_SUPPRESSIONS=$PWD/sanitize/asan.supp
LSAN_SUPPRESSIONS=$PWD/sanitize/lsan.supp

# Prints how often each report occurred, then each distinct one once (from the first file that has it).
print_reports() {
    local reports=$1
    echo "---- report counts (SUMMARY lines, all processes)"
    grep -h '^SUMMARY' "$reports"/* | sort | uniq -c | sort -rn
    grep -h '^SUMMARY' "$reports"/* | sort -u | head -20 | while IFS= read -r summary; do
        file=$(grep -lF -- "$summary" "$reports"/* | head -1)
        echo "---- $summary ($file)"
        # Reports are separated by lines of '='; print the block that ends with this summary.
        awk -v summary="$summary" '
            /^=+$/ { if (found) exit; block = ""; next }
            { block = block $0 "\n" }
            index($0, summary) == 1 { printf "%s", block; found = 1 }
        ' "$file" | swift demangle --simplified | head -60
    done
    ls "$reports" | head -50
}

status=0
for sanitizer in $SANITIZERS; do
    case $sanitizer in
        thread) scratch=.build-tsan ;;
        address) scratch=.build-asan ;;
        *) echo "unknown sanitizer $sanitizer"; exit 2 ;;
    esac
    reports=$PWD/$scratch/reports
    rm -rf "$reports" && mkdir -p "$reports" "$scratch/logs"

    echo "== $sanitizer: building into $scratch"
    start=$SECONDS
    if ! nice -n 10 swift build --build-tests --sanitize="$sanitizer" --scratch-path "$scratch" >"$scratch/logs/build.log" 2>&1; then
        grep -E 'error:' "$scratch/logs/build.log" | head -20; tail -5 "$scratch/logs/build.log"
        status=1; continue
    fi
    echo "   built in $((SECONDS - start)) s (log: $scratch/logs/build.log)"

    echo "== $sanitizer: swift test"
    start=$SECONDS
    export TSAN_OPTIONS="log_path=$reports/tsan:log_exe_name=1:halt_on_error=0:second_deadlock_stack=1:suppressions=$TSAN_SUPPRESSIONS"
    export ASAN_OPTIONS="log_path=$reports/asan:log_exe_name=1:detect_leaks=1:detect_stack_use_after_return=1:suppressions=$ASAN_SUPPRESSIONS"
    export LSAN_OPTIONS="suppressions=$LSAN_SUPPRESSIONS:print_suppressions=0"
    export SWIFT_BACKTRACE=enable=no
    nice -n 10 swift test --skip-build --sanitize="$sanitizer" --scratch-path "$scratch" >"$scratch/logs/test.log" 2>&1
    tests=$?
    unset TSAN_OPTIONS ASAN_OPTIONS LSAN_OPTIONS
    echo "   tests exited $tests in $((SECONDS - start)) s (log: $scratch/logs/test.log)"
    # Failures and the totals (swift-testing's and XCTest's).
    grep -E '✘|Test run with|Executed [0-9]+ test' "$scratch/logs/test.log" | tail -30
    [ "$tests" -eq 0 ] || status=1

    if compgen -G "$reports/*" >/dev/null; then
        echo "== $sanitizer: $(ls "$reports" | wc -l) report file(s) in $reports"
        print_reports "$reports"
        status=1
    else
        echo "== $sanitizer: no reports"
    fi
done
exit $status
