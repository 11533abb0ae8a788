#!/bin/sh
# pkey-run.sh LOADER CA GUESTS ATTACKS: run the example guests and the
# pkey attack guests (ATTACKS/attackN.tar, tests/guest/pkey-attack.c) under
# pvsub-loader, one line per run on standard output:
#   KIND NAME BACKEND STATUS LINES [LAST]
# STATUS as the shell reports it (128 + the signal for a death by signal),
# LINES the number of lines the loader said itself (neither the guest's
# log nor a warning or note): 0 for a death by signal, which tells SIGILL
# (132) from the rescan's refusal (132 and one line).  Attack lines add
# LAST, the guest's last log line (its message, blanks as _; - for none):
# an attack that logs a line right before its system call shows that the
# SIGSYS came from that call.  Plain POSIX sh, so
# that it runs on the host (tests/integration/loader-pkey-hw.sh) and under
# busybox in a QEMU guest (tests/qemu/loader-pkey.sh).  The first line is
# "probe pkey STATUS LINES": 129 and 1 where there are no protection keys,
# and nothing else is run then.
set -u
loader=$1 ca=$2 guests=$3 attacks=$4
err=${TMPDIR:-/tmp}/pkey-run.$$.err

# run KIND NAME BACKEND BUNDLE ("default": no --backend); its variables
# start with _ (sh has no local ones)
run() {
	if [ "$3" = default ]; then
		"$loader" --ca "$ca" --loopback "$4" >/dev/null 2>"$err"
	else
		"$loader" --backend "$3" --ca "$ca" --loopback "$4" >/dev/null 2>"$err"
	fi
	_st=$?
	_lines=$(grep '^pvsub-loader: ' "$err" |
		grep -c -v -e '^pvsub-loader: guest: ' -e '^pvsub-loader: warning: ' \
			-e '^pvsub-loader: note: ')
	if [ "$1" = attack ]; then
		_last=$(grep '^pvsub-loader: guest: ' "$err" | tail -n 1 |
			sed -e 's/^pvsub-loader: guest: //' -e 's/[[:space:]]/_/g')
		echo "$1 $2 $3 $_st $_lines ${_last:--}"
	else
		echo "$1 $2 $3 $_st $_lines"
	fi
}

run probe loopback pkey "$guests/loopback.tar" > "$err.probe"
cat "$err.probe"
case $(cat "$err.probe") in
"probe loopback pkey 129 1") rm -f "$err" "$err.probe"; exit 0 ;;
esac
for g in loopback pktgen sink echo; do
	run guest $g pkey "$guests/$g.tar"
done
run guest loopback default "$guests/loopback.tar"
for n in 1 2 3 4 5 6 7 8 9; do
	for be in pkey mprotect none; do
		run attack "$n" $be "$attacks/attack$n.tar"
	done
done
rm -f "$err" "$err.probe"
