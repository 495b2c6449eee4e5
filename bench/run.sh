#!/bin/bash
# Benchmarks of issue 10: the jansson floor, scale and profiles of
# `modelfuse run`. Prints tables and appends them to WORK/results.md.
#
#   bench/run.sh [--build DIR] [--realdata DIR] [--work DIR] [--runs N]
#                [--sizes 10k,100k,1M] [--jobs N] [--only floor,scale,profile]
#                [--no-perf]
#
# --build     a configured and built tree (VPATH or in-tree); default: $BUILD,
#             else bench/.build, configured with CFLAGS='-O2 -g' and built
#             here when it has no program yet
# --realdata  the real snapshots; default: $REALDATA, else ../shared/realdata
#             relative to the repository
# --work      where generated data, caches, outputs and perf data go (several
#             GB at 1M records); default: $BENCH_WORK, else
#             ${TMPDIR:-/tmp}/modelfuse-bench. Generated data is kept there
#             and reused by later runs.
# --runs      timed pairs per floor mode and runs per scale size below 1M
#             (default 11 and 3); 1M runs once (--runs-1m N for more)
# --jobs      [core] jobs of the timed runs (default: the program's, the
#             number of CPUs)
# --no-perf   no perf runs (no phase tables, no profiles)
#
# Needs bash, python3, cc, pkg-config and jansson's headers; perf (Debian
# package linux-perf) for phases and profiles.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)

build=${BUILD:-}
realdata=${REALDATA:-$repo/../shared/realdata}
work=${BENCH_WORK:-${TMPDIR:-/tmp}/modelfuse-bench}
runs=""
runs_1m=1
sizes=10k,100k,1M
jobs=0
only=floor,scale,profile
perf_flag=()

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}

while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	--realdata) realdata=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--runs-1m) runs_1m=$2; shift 2 ;;
	--sizes) sizes=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	--no-perf) perf_flag=(--no-perf); shift ;;
	-h | --help) usage 0 ;;
	*) echo "bench/run.sh: unknown argument '$1'" >&2; usage 2 ;;
	esac
done

for tool in python3 cc pkg-config; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "bench/run.sh: $tool is needed and was not found (scripts/install-deps)" >&2
		exit 2
	}
done

# The program: an existing build, or one made here for benchmarking.
if [ -z "$build" ]; then
	build=$here/.build
	if [ ! -x "$build/modelfuse" ]; then
		echo "== building an -O2 -g tree in $build" >&2
		[ -x "$repo/configure" ] || (cd "$repo" && autoreconf -fi)
		mkdir -p "$build"
		(cd "$build" && "$repo/configure" -q CFLAGS='-O2 -g' && make -j"$(nproc)" >/dev/null)
	fi
fi
build=$(cd "$build" && pwd)
program=$build/modelfuse
plugins=$build/plugins/.libs
[ -x "$program" ] || { echo "bench/run.sh: no program at $program" >&2; exit 2; }
[ -d "$plugins" ] || { echo "bench/run.sh: no plugins in $plugins" >&2; exit 2; }

mkdir -p "$work"
work=$(cd "$work" && pwd)
export MODELFUSE_DATADIR=${MODELFUSE_DATADIR:-$repo/data}

# The floor program, built fresh each time (it is tiny).
floor_bin=$work/jansson_floor
# shellcheck disable=SC2046
cc -O2 -std=gnu11 -Wall -Wextra -o "$floor_bin" "$here/jansson_floor.c" \
	$(pkg-config --cflags --libs jansson)

# Which sources the program was built from: the build's srcdir, and its
# commit when that is a git checkout.
srcdir=$(cd "$build" && sed -n "s/^srcdir='\(.*\)'$/\1/p" config.status 2>/dev/null || true)
srcdir=$(cd "$build" && cd "${srcdir:-.}" 2>/dev/null && pwd || echo "?")
commit=$(git -C "$srcdir" describe --always --dirty 2>/dev/null || echo "not a git checkout")
{
	echo
	echo "# modelfuse bench, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo
	echo "Host: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)," \
		"$(uname -sr). Program: $program, built from $srcdir ($commit)," \
		"CFLAGS $(sed -n "s/^CFLAGS = //p" "$build/Makefile" 2>/dev/null || echo '?')."
} | tee -a "$work/results.md"

common=(--program "$program" --plugin-dir "$plugins" --work "$work" --jobs "$jobs")
rc=0
case ",$only," in *,floor,*)
	python3 "$here/bench.py" floor "${common[@]}" --floor-bin "$floor_bin" \
		--realdata "$realdata" --runs "${runs:-11}" || rc=1 ;;
esac
case ",$only," in *,scale,*)
	python3 "$here/bench.py" scale "${common[@]}" --sizes "$sizes" --runs "${runs:-3}" \
		--runs-1m "$runs_1m" "${perf_flag[@]}" || rc=1 ;;
esac
case ",$only," in *,profile,*)
	if [ ${#perf_flag[@]} -eq 0 ]; then
		biggest=${sizes##*,}
		python3 "$here/bench.py" profile "${common[@]}" --realdata "$realdata" \
			--size "$biggest" || rc=1
	fi ;;
esac
echo
echo "tables appended to $work/results.md"
exit $rc
