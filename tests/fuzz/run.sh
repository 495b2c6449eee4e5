#!/bin/sh
# Build the libFuzzer targets with clang (address and undefined sanitizers)
# and run each for a while, seeded from the test fixtures and the crashes
# found so far (tests/fuzz/regressions/TARGET/).
#
#   tests/fuzz/run.sh [-t SECONDS] [-j JOBS] [-b BUILDDIR] [-w WORKDIR] [TARGET...]
#
# -t  seconds per target (default 10: the CI smoke run; give 120 or more
#     for a real session)
# -j  targets fuzzed at once (default: the number of CPUs)
# -b  a configured build tree, for mf_build_config.h (default: the source
#     tree itself, as scripts/build leaves it)
# -w  where binaries, corpora and crashes go (default BUILDDIR/fuzz-work; a
#     corpus grows from run to run)
# Needs clang and its runtimes (Debian: clang, libclang-rt-14-dev). Prints
# one line per target with its executions, and exits 1 when a target
# crashed (the input is kept in WORKDIR/crashes/TARGET/: add it to
# tests/fuzz/regressions/TARGET/ once fixed).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
seconds=10
jobs=$(nproc 2>/dev/null || echo 2)
build=$top
work=
while getopts t:j:b:w: opt; do
	case $opt in
	t) seconds=$OPTARG ;;
	j) jobs=$OPTARG ;;
	b) build=$(cd "$OPTARG" && pwd) ;;
	w) work=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ -n "$work" ] || work=$build/fuzz-work
mkdir -p "$work"
work=$(cd "$work" && pwd)
all="modelsdev openrouter litellm huggingface arena community local benchmarks
artificialanalysis anyllm_openai anyllm_anthropic anyllm_gemini anyllm_mistral stream config"
[ $# -gt 0 ] || set -- $all

if [ ! -f "$build/mf_build_config.h" ]; then
	echo "run.sh: $build/mf_build_config.h not found: configure first (or give -b)" >&2
	exit 2
fi
CC=${FUZZ_CC:-clang}
command -v "$CC" > /dev/null || { echo "run.sh: $CC not found (apt-get install clang)" >&2; exit 2; }

# Per target: the plugin's sources, its anyllm kind, and where seeds are.
plugin_of() {
	case $1 in
	anyllm_*) echo anyllm ;;
	stream | config) echo "" ;;
	*) echo "$1" ;;
	esac
}
sources_of() {
	case $1 in
	anyllm) echo "anyllm.c common.c openai.c anthropic.c gemini.c mistral.c" ;;
	*) echo "$1.c" ;;
	esac
}
seeds_of() {
	f=$top/tests/fixtures
	case $1 in
	anyllm_openai) ls "$f"/anyllm/openai-*.json "$f"/anyllm/groq-*.json "$f"/anyllm/xai-*.json \
		"$f"/anyllm/zenmux-*.json "$f"/anyllm/broken-entries.json "$f"/anyllm/malformed.json ;;
	anyllm_*) ls "$f"/anyllm/"${1#anyllm_}"-*.json ;;
	community) ls "$f"/community/*.json "$top"/data/community.json ;;
	stream) ls "$here"/seeds/stream/* ;;
	config) ls "$f"/config/*.ini "$top"/etc/*.ini ;;
	*) ls "$f/$1"/*.json ;;
	esac
	if [ -d "$here/regressions/$1" ]; then ls "$here/regressions/$1"/* 2> /dev/null || true; fi
}

cflags="-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined"
cflags="$cflags -std=gnu11 -I$build -I$top/include -I$top/engine $(pkg-config --cflags jansson libcurl inih)"
libs="$(pkg-config --libs jansson libcurl inih) -lm"

# The engine once, then each target: its plugin (descriptor renamed) and
# the entry point. String macros go in through headers: no shell quoting.
obj=$work/obj
mkdir -p "$obj" "$work/bin"
defs=$obj/defs.h
[ -f "$defs" ] || {
	echo '#define MF_PLUGIN_DIR "/nowhere"'
	echo '#define MF_SYSCONFDIR "/etc"'
	echo '#define MF_PKGDATADIR "/usr/share/modelfuse"'
	echo '#define MF_LOCALSTATEDIR "/var"'
} > "$defs"
# A header newer than the last build makes every object stale.
if [ ! -f "$obj/stamp" ] || [ -n "$(find "$top/engine" "$top/include" "$top/plugins" "$here" \
	"$build/mf_build_config.h" -name '*.h' -newer "$obj/stamp" 2> /dev/null | head -n 1)" ]; then
	rm -f "$obj"/*.o
fi
touch "$obj/stamp"
engine="record stream host config fetch util log cache"
# An object is rebuilt when its source is newer (a work folder is reused).
stale() { [ ! -f "$2" ] || [ "$1" -nt "$2" ]; }
for f in $engine; do
	stale "$top/engine/$f.c" "$obj/engine-$f.o" || continue
	$CC $cflags -include "$defs" -fsanitize=fuzzer-no-link -c "$top/engine/$f.c" \
		-o "$obj/engine-$f.o"
done
$CC $cflags -fsanitize=fuzzer-no-link -c "$here/fuzz_targets.c" -o "$obj/fuzz_targets.o"

for t in "$@"; do
	p=$(plugin_of "$t")
	objs="$obj/fuzz_targets.o"
	for f in $engine; do objs="$objs $obj/engine-$f.o"; done
	sel=$obj/select-$t.h
	case $t in
	stream) echo '#define MF_FUZZ_STREAM 1' > "$sel" ;;
	config) echo '#define MF_FUZZ_CONFIG 1' > "$sel" ;;
	*)
		echo "#define MF_FUZZ_PLUGIN mf_fuzz_plugin_$p" > "$sel"
		case $t in anyllm_*) echo "#define MF_FUZZ_KIND \"${t#anyllm_}\"" >> "$sel" ;; esac
		for s in $(sources_of "$p"); do
			o=$obj/$p-${s%.c}.o
			objs="$objs $o"
			stale "$top/plugins/$p/$s" "$o" || continue
			$CC $cflags -include "$defs" -fsanitize=fuzzer-no-link \
				-Dmodelfuse_plugin="mf_fuzz_plugin_$p" -c "$top/plugins/$p/$s" -o "$o"
		done
		;;
	esac
	$CC $cflags -include "$sel" -fsanitize=fuzzer -c "$here/fuzz_main.c" -o "$obj/main-$t.o"
	$CC $cflags -fsanitize=fuzzer "$obj/main-$t.o" $objs $libs -o "$work/bin/$t"
done

# Seeds, and a dictionary made of the keys the seeds use.
for t in "$@"; do
	mkdir -p "$work/corpus/$t" "$work/crashes/$t"
	for s in $(seeds_of "$t"); do cp "$s" "$work/corpus/$t/seed-$(basename "$s")"; done
	case $t in
	stream) printf '"MFRS\\x01\\x00\\x00\\x00"\n"R"\n"E"\n"\\x00\\x00\\x00\\x00"\n' \
		> "$work/$t.dict" ;;
	config) printf '"["\n"]"\n"="\n";"\n"[core]"\n"[source "\n"[provider "\n"[mapper]"\n' \
		> "$work/$t.dict"
		for s in $(seeds_of "$t"); do
			sed -n 's/^[;#]* *\([a-z_]*\) *=.*/"\1 = "/p' "$s"
		done | sort -u >> "$work/$t.dict" ;;
	*) printf '"{"\n"}"\n"["\n"]"\n":"\n","\n"null"\n"true"\n"false"\n"\\\\u00"\n' \
		> "$work/$t.dict"
		for s in $(seeds_of "$t"); do
			grep -o '"[A-Za-z0-9_:./-]*" *:' "$s" 2> /dev/null | sed 's/ *:$//' || true
		done | sort -u | sed 's/"/\\"/g; s/.*/"&"/' >> "$work/$t.dict" ;;
	esac
done

# Fuzz, JOBS targets at a time; each prints its executions.
fuzz_one() {
	t=$1
	log=$work/$t.log
	status=0
	"$work/bin/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -print_final_stats=1 -close_fd_mask=2 -dict="$work/$t.dict" \
		-artifact_prefix="$work/crashes/$t/" "$work/corpus/$t" > "$log" 2>&1 || status=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	echo "$t: ${runs:-?} executions in $seconds s, status $status"
	[ "$status" = 0 ] || { tail -n 40 "$log"; return 1; }
}
failed=0
running=0
for t in "$@"; do
	( fuzz_one "$t" ) > "$work/$t.result" 2>&1 &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n 2> /dev/null || wait
		running=$((running - 1))
	fi
done
wait
for t in "$@"; do
	cat "$work/$t.result"
	grep -q ', status 0$' "$work/$t.result" || failed=1
done
exit $failed
