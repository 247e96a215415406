# Sourced by bin/run and bin/serve: run long-lived children and stop them all, once, on Ctrl-C/TERM.
#
# Why each child gets its own session (setsid): Ctrl-C makes the terminal send SIGINT to the whole
# foreground process group. qcluster's sentinel and workers, gunicorn's workers and make itself
# would each get it at the same moment as their parents, and a second signal from us on top: the
# qcluster master then re-enters its stop handler (it can deadlock on its own event lock) while its
# sentinel waits for workers that are already gone, and make, signalled twice, fails its wait() with
# "No child processes". Out of the terminal's group, every child gets exactly one SIGTERM, from us,
# and stops its own children the way it was written to; whatever is still alive after the grace
# period is killed with its whole group.
#
# Why each child is tied to this script (setpriv --pdeathsig TERM, the kernel's parent-death signal):
# if this script dies without stopping them (killed with SIGKILL, out of memory, its terminal gone),
# the kernel sends each child the same SIGTERM we would have, so no server is left holding the port
# and no cluster keeps working in the background.

CHILD_GROUPS=()
STOPPING=0

# start_child CMD ARGS...: run in the background as the leader of a new session (and process group),
# receiving SIGTERM if this shell dies.
start_child() {
    setsid setpriv --pdeathsig TERM -- "$@" &
    CHILD_GROUPS+=("$!")  # setsid and setpriv exec in place (a background job is not a group leader): $! is the leader
}
groups_alive() {
    local pgid
    for pgid in "${CHILD_GROUPS[@]}"; do
        kill -0 -- "-$pgid" 2>/dev/null && return 0
    done
    return 1
}

# stop_children GRACE_SECONDS: SIGTERM each child once, wait up to GRACE for every process of their
# groups to end, then SIGKILL the groups that remain. Safe to call twice (signal, then EXIT).
stop_children() {
    local grace_tenths=$(( ${1:-4} * 10 )) pid i
    [ "$STOPPING" = 1 ] && return 0
    STOPPING=1
    # `jobs -p` also knows a child forked a moment before the signal, before CHILD_GROUPS had it.
    for pid in $(jobs -p) "${CHILD_GROUPS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in $(jobs -p); do [[ " ${CHILD_GROUPS[*]} " == *" $pid "* ]] || CHILD_GROUPS+=("$pid"); done
    for (( i = 0; i < grace_tenths; i++ )); do
        groups_alive || break
        sleep 0.1
    done
    for pid in "${CHILD_GROUPS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}

# supervise GRACE_SECONDS: wait until a child exits (then stop the others and exit with its status)
# or until INT/TERM/HUP (then stop them all and exit 0: a requested stop is not an error, and make
# prints nothing for it).
supervise() {
    local grace="$1" status=0
    trap "stop_children $grace; exit 0" INT TERM HUP
    wait -n || status=$?
    stop_children "$grace"
    exit "$status"
}
