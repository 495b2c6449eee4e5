# Set-up shared by the real-data checks (make check-realdata), sourced by
# the scripts of the folder above. It lives in a folder of its own so that
# run-all.sh, which runs every *.sh of that folder, never takes it for a
# check.
#
# Every script reads the same environment: REALDATA (the shared realdata
# folder), MF_TEST_PROGRAM (the built modelfuse), MF_TEST_PLUGIN_DIR (the
# built plugins). A check that cannot run is a failure, never a skip: it
# was asked for.

# Say why the check cannot run, count that as one failure, and stop.
fail_setup() {
	echo "check-realdata: $*" >&2
	echo "0 passed, 1 failed"
	exit 1
}

# REALDATA, the program and the plugins are there; with SUBDIR, so is
# $REALDATA/SUBDIR.
rd_check_env() {
	local subdir=${1:-}
	[ -n "${REALDATA:-}" ] ||
		fail_setup "REALDATA is not set (make check-realdata REALDATA=DIR)"
	[ -d "$REALDATA" ] || fail_setup "REALDATA folder $REALDATA does not exist"
	if [ -n "$subdir" ]; then
		[ -d "$REALDATA/$subdir" ] || fail_setup "$REALDATA/$subdir does not exist"
	fi
	[ -n "${MF_TEST_PROGRAM:-}" ] || fail_setup "MF_TEST_PROGRAM is not set"
	[ -x "$MF_TEST_PROGRAM" ] ||
		fail_setup "program $MF_TEST_PROGRAM is missing or not executable"
	[ -n "${MF_TEST_PLUGIN_DIR:-}" ] || fail_setup "MF_TEST_PLUGIN_DIR is not set"
	[ -d "$MF_TEST_PLUGIN_DIR" ] ||
		fail_setup "plugin folder $MF_TEST_PLUGIN_DIR does not exist"
}

# The checkers are Python; WHAT says what for ("read catalog.json").
rd_need_python() {
	command -v python3 >/dev/null 2>&1 ||
		fail_setup "python3 is needed to $1 and was not found"
}

# .ci/run passes REALDATA relative to the build folder; file: URLs and the
# program's -c need absolute paths.
rd_absolute_paths() {
	REALDATA=$(cd "$REALDATA" && pwd) || fail_setup "cannot enter $REALDATA"
	MF_TEST_PLUGIN_DIR=$(cd "$MF_TEST_PLUGIN_DIR" && pwd) ||
		fail_setup "cannot enter $MF_TEST_PLUGIN_DIR"
	case $MF_TEST_PROGRAM in
	/*) ;;
	*) MF_TEST_PROGRAM=$PWD/$MF_TEST_PROGRAM ;;
	esac
}

# The snapshots $REALDATA/SUBDIR/PATTERN, into the array files; none is a
# failure.
rd_snapshots() {
	shopt -s nullglob
	files=("$REALDATA/$1"/$2)
	[ ${#files[@]} -gt 0 ] || fail_setup "no $2 files in $REALDATA/$1"
}

# A temporary folder in $work, removed on exit, named after PREFIX; the
# program's own environment must not leak into the runs.
rd_workdir() {
	work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") ||
		fail_setup "cannot create a temporary folder"
	trap 'rm -rf "$work"' EXIT
	unset MODELFUSE_CONFIG MODELFUSE_PLUGIN_DIR
}

# DIR/modelfuse.ini with a [core] section of its own under DIR, followed by
# the sections read from stdin.
rd_write_ini() {
	local dir=$1
	mkdir -p "$dir"
	{
		printf '[core]\nplugin_dir = %s\ncache_dir = %s/cache\noutput_dir = %s/out\n\n' \
			"$MF_TEST_PLUGIN_DIR" "$dir" "$dir"
		cat
	} >"$dir/modelfuse.ini"
}

# Run the program on DIR/modelfuse.ini (ARGS go before -c) and time it into
# $seconds. Fails, saying why, when it exits non-zero or writes no
# catalog.json.
rd_run_program() {
	local dir=$1
	shift
	local start end status
	start=$EPOCHREALTIME
	"$MF_TEST_PROGRAM" "$@" -c "$dir/modelfuse.ini" run >"$dir/stdout" 2>"$dir/stderr"
	status=$?
	end=$EPOCHREALTIME
	seconds=$(python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" \
		"$start" "$end")

	if [ "$status" -ne 0 ]; then
		echo "  FAIL: modelfuse run exited with status $status after $seconds s; its stderr:"
		sed -e 's/^/    /' "$dir/stderr" | head -n 20
		return 1
	fi
	if [ ! -f "$dir/out/catalog.json" ]; then
		echo "  FAIL: no catalog.json in $dir/out"
		return 1
	fi
}

# The usual set-up of a check over the snapshots $REALDATA/SUBDIR/PATTERN:
# everything is there, paths are absolute, $files holds the snapshots and
# $work a temporary folder.
rd_setup_snapshots() {
	rd_check_env "$1"
	rd_need_python "read catalog.json"
	rd_absolute_paths
	rd_snapshots "$1" "$2"
	rd_workdir mf-realdata
}

# Run the program on every snapshot of $files, each in a folder $dir of its
# own, and count it. The script defines two functions: snapshot_config FILE
# NAME writes $dir/modelfuse.ini (rd_write_ini) and says which snapshot
# runs, or fails when it cannot; snapshot_check FILE judges the catalog
# made from it. program_args go to the program before -c. Ends with the
# line run-all.sh sums, and the matching exit status.
program_args=()
rd_each_snapshot() {
	local file name
	local passed=0 failed=0
	for file in "${files[@]}"; do
		name=$(basename "$file")
		dir=$work/${name%.json}
		if ! snapshot_config "$file" "$name" ||
			! rd_run_program "$dir" "${program_args[@]}"; then
			failed=$((failed + 1))
		elif snapshot_check "$file"; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
		fi
	done
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
