# Unit tests of chaqum.sh, run by ./run under each shell (dash, bash...).
# No daemon: fd 3 goes to a file the tests read back, fd 4 comes from a pipe
# fed with canned replies, exactly like the daemon's reply pipe.
# Output: one "ok"/"not ok" line per check; the exit status says if all passed.

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../chaqum.sh"

T=$(mktemp -d) || exit 2
trap 'rm -rf "$T"' EXIT
: > "$T/failed"
nl='
'
tab='	'
CHAQUM_IDENT=test/1

pass() { printf 'ok - %s\n' "$1"; }
fail() { printf 'not ok - %s\n' "$1"; echo x >> "$T/failed"; }

# same NAME EXPECTED ACTUAL
same() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: expected [$2], got [$3]"; fi
}

# same_file NAME EXPECTED_FILE ACTUAL_FILE (byte for byte)
same_file() {
    if cmp -s "$2" "$3"; then pass "$1"; else fail "$1: $(od -c "$3" | head -5)"; fi
}

# replies LINE...: the canned replies, one per line, for the reply pipe.
replies() { for r in "$@"; do printf '%s\n' "$r"; done; }

# sent: what the library wrote on fd 3, in $sent.
sent() { sent=$(cat "$T/cmd"); }

# --- quoting ----------------------------------------------------------------

# What the daemon's codec (ShellWords.Quote, Python's shlex.join) gives.
q() {
    chaqum_quote "$1" > /dev/null
    same "quote [$1]" "$2" "$chaqum_result"
}
q plain plain
q '' "''"
q 'a b' "'a b'"
q "it's" "'it'\"'\"'s'"
q 'say "hi"' "'say \"hi\"'"
q 'back\slash' "'back\\slash'"
q '$HOME and $(id) and `id`' "'\$HOME and \$(id) and \`id\`'"
q "new${nl}line" "\$'new\\nline'"
q "tab${tab}here" "\$'tab\\there'"
q 'ünïcödé €' "'ünïcödé €'"
q -g -g
q -- --
q '*?[]{};|&<>()!#~' "'*?[]{};|&<>()!#~'"
q '  leading and trailing  ' "'  leading and trailing  '"
q 'A-Za-z0-9@%+=:,./_-' 'A-Za-z0-9@%+=:,./_-'
q "it's${nl}a \\ b" "\$'it\\'s\\na \\\\ b'"
q "$(printf 'a\001b\033c\177d\rE')" "\$'a\\x01b\\x1bc\\x7fd\\rE'"
q "${nl}" "\$'\\n'"
q "'" "''\"'\"''"

chaqum_quote a 'b c' '' d > /dev/null
same "quote several words" "a 'b c' '' d" "$chaqum_result"

# Every control character: quoted on one line, and read back whole.
all="x${_chaqum_ctl}y'\\\"z"
chaqum_quote "$all" > /dev/null
case $chaqum_result in
    *"$nl"*) fail "a quoted word holds a newline" ;;
    *) pass "a quoted word is one line" ;;
esac
_chaqum_rest=$chaqum_result
_chaqum_next
same "control characters round trip through the reply reader" "$all" "$_chaqum_w"

# bash implements $'...' and the POSIX quotes: an independent reader.
if command -v bash > /dev/null 2>&1; then
    for w in plain '' 'a b' "it's" 'say "hi"' 'back\slash' '$HOME $(id) `id`' "new${nl}line${nl}" \
        "tab${tab}here" 'ünïcödé €' '*?[]{};|&<>()!#~' "$all" "  x  "; do
        chaqum_quote "$w" > /dev/null
        got=$(bash -c 'eval "set -- $1"; [ $# -eq 1 ] && printf "%s." "$1"' _ "$chaqum_result")
        same "bash reads back [$w]" "$w." "$got"
    done
fi

# --- reading replies --------------------------------------------------------

words() {
    _chaqum_rest=$1
    _chaqum_bad=
    got=
    while _chaqum_next; do got="$got<$_chaqum_w>"; done
    [ -z "$_chaqum_bad" ] || got="$got BAD"
}
words 'a b  c' ; same "bare words" "<a><b><c>" "$got"
words "'my job/5' 0" ; same "single quotes" "<my job/5><0>" "$got"
words "'it'\"'\"'s' x" ; same "quote in quotes" "<it's><x>" "$got"
words '"say \"hi\" \\ \$ \`" y' ; same "double quotes" '<say "hi" \ $ `><y>' "$got"
words 'a\ b c\\d' ; same "backslashes" '<a b><c\d>' "$got"
words "\$'a\\nb\\tc\\x01\\\\\\''" ; same "dollar quotes" "<a${nl}b${tab}c$(printf '\001')\\'>" "$got"
words "a\$b" ; same "a bare dollar" "<a\$b>" "$got"
words "''" ; same "an empty word" "<>" "$got"
words "'open" ; same "an unterminated quote is refused" " BAD" "$got"
words "\$'\\q'" ; same "an unknown escape is refused" " BAD" "$got"

# --- the command path, against canned replies -------------------------------

# enqueue sends the words quoted on one line, prints the id and keeps it.
replies 'S convert/7' | {
    exec 4<&0 3> "$T/cmd"
    out=$(chaqum_enqueue -g convert -m 2 -c 0.8 -k "in box/a'b.png" -- convert "in box/a'b.png" '')
    same "enqueue prints the id" convert/7 "$out"
}
sent
same "enqueue's command" "enqueue -g convert -m 2 -c 0.8 -k 'in box/a'\"'\"'b.png' -- convert 'in box/a'\"'\"'b.png' ''" "$sent"

# The options of delayed, held and urgent jobs travel as they are.
replies 'S tick/9' | {
    exec 4<&0 3> "$T/cmd"
    chaqum_enqueue -d 10m -A '2026-12-24T18:00' -HUR -- tick > /dev/null
}
sent
same "enqueue's timing options" "enqueue -d 10m -A 2026-12-24T18:00 -HUR -- tick" "$sent"

replies 'S convert/8' 'S' | {
    exec 4<&0 3> "$T/cmd"
    chaqum_enqueue -- convert > /dev/null
    same "enqueue leaves the id in chaqum_result" convert/8 "$chaqum_result"
    chaqum_wait --
    same "wait for nothing answers at once" 0 $?
}

replies "S 'my job/9'" | {
    exec 4<&0 3> "$T/cmd"
    chaqum_enqueue -- 'my job' > /dev/null
    same "a quoted id is unquoted" "my job/9" "$chaqum_result"
}

# An E reply: the reason on stderr and in chaqum_error, return 2, still in sync.
replies "E enqueue: no such script: 'nosuch'" 'S exiter/3' | {
    exec 4<&0 3> "$T/cmd"
    chaqum_enqueue -- nosuch > "$T/out" 2> "$T/err"
    same "a refusal returns 2" 2 $?
    same "a refusal says the reason" "chaqum: enqueue: no such script: 'nosuch'" "$(cat "$T/err")"
    same "a refusal prints nothing on stdout" "" "$(cat "$T/out")"
    same "a refusal leaves the reason in chaqum_error" "enqueue: no such script: 'nosuch'" "$chaqum_error"
    chaqum_enqueue -- exiter 0 > /dev/null
    same "the next call works" exiter/3 "$chaqum_result"
    same "chaqum_error is cleared" "" "$chaqum_error"
}

replies 'X what' | {
    exec 4<&0 3> "$T/cmd"
    chaqum_group -m 2 -- g 2> "$T/err"
    same "an unexpected reply returns 2" 2 $?
}

: | {
    exec 4<&0 3> "$T/cmd"
    chaqum_unrepeat repeat:1 2> "$T/err"
    same "no reply (fd 4 at its end) returns 2" 2 $?
    case $(cat "$T/err") in *"no reply"*) pass "no reply is said" ;; *) fail "no reply is said" ;; esac
}

# wait: lines and return codes.
replies 'S a/1 0 b/2 0' | {
    exec 4<&0 3> "$T/cmd"
    out=$(chaqum_wait -t 5 -- a/1 b/2); rc=$?
    same "wait: all exited 0 returns 0" 0 $rc
    same "wait prints ID STATUS lines" "a/1 0${nl}b/2 0" "$out"
}
sent
same "wait's command" "wait -t 5 -- a/1 b/2" "$sent"

wait_rc() { # NAME EXPECTED_RC REPLY ARG...
    name=$1 expected=$2 reply=$3
    shift 3
    replies "$reply" | {
        exec 4<&0 3> "$T/cmd"
        chaqum_wait "$@" > /dev/null
        same "wait: $name" "$expected" $?
    }
}
wait_rc "a failure returns 1" 1 'S a/1 0 b/2 3' -- a/1 b/2
wait_rc "a signal returns 1" 1 'S a/1 -9' -- a/1
wait_rc "never-ran returns 1" 1 'S a/1 N' a/1
wait_rc "pending returns 3" 3 'S a/1 0 b/2 T' -- a/1 b/2
wait_rc "a failure wins over pending" 1 'S a/1 T b/2 1' -- a/1 b/2
wait_rc "an unknown id returns 1" 1 'S a/1 0' -- a/1 nosuch/5
wait_rc "duplicates are fine" 0 'S a/1 0' -- a/1 a/1
wait_rc "options with values are not ids" 0 'S a/1 0' -f -t 5 -- a/1
wait_rc "clustered options are not ids" 0 'S a/1 0' -ft5 a/1
wait_rc "a clustered value in the next word" 0 'S a/1 0' -ft 5 a/1
wait_rc "ids without --" 0 'S a/1 0 b/2 0' -t 1 a/1 b/2
wait_rc "duplicates and an unknown id returns 1" 1 'S a/1 0' -- a/1 a/1 x/1
wait_rc "an odd id" 3 "S 'my job/1' 0 b/2 T" -- 'my job/1' b/2
wait_rc "an odd unknown id" 1 "S 'my job/1' 0" -- 'my job/1' 'my job/2'

# Reading a reply leaves the caller's IFS and noglob setting as they were.
replies 'S a/1 0' 'S a/1 0' | {
    exec 4<&0 3> "$T/cmd"
    IFS=:
    set -f
    chaqum_wait -- a/1 > /dev/null
    case $- in *f*) pass "noglob stays on" ;; *) fail "noglob stays on" ;; esac
    same "IFS stays" : "$IFS"
    set +f
    unset IFS
    chaqum_wait -- a/1 > /dev/null
    case $- in *f*) fail "noglob stays off" ;; *) pass "noglob stays off" ;; esac
    same "IFS stays unset" "" "${IFS+set}"
}

# status and describe read the last wait.
replies 'S a/1 0 b/2 -15 c/3 N d/4 T e/5 255' | {
    exec 4<&0 3> "$T/cmd"
    chaqum_wait -- a/1 b/2 c/3 d/4 e/5 x/6 > /dev/null
    for pair in "a/1:exit 0" "b/2:signal 15" "c/3:never-ran" "d/4:pending" "e/5:exit 255" "x/6:unknown"; do
        chaqum_status "${pair%%:*}" > /dev/null
        chaqum_describe "$chaqum_result" > /dev/null
        same "status of ${pair%%:*}" "${pair#*:}" "$chaqum_result"
    done
    out=$(chaqum_status b/2)
    same "status prints the wire status" -15 "$out"
    chaqum_status x/6 > /dev/null
    same "status of an unknown job returns 1" 1 $?
}

# kill: 0 once all ended, however; 3 if some still run.
replies 'S a/1 -15 b/2 N' 'S a/1 T' | {
    exec 4<&0 3> "$T/cmd"
    out=$(chaqum_kill -s KILL -t 3 -- a/1 b/2); rc=$?
    same "kill: all ended returns 0" 0 $rc
    same "kill prints ID STATUS lines" "a/1 -15${nl}b/2 N" "$out"
    chaqum_kill -- a/1 > /dev/null
    same "kill: still running returns 3" 3 $?
}
sent
same "kill's command" "killjobs -s KILL -t 3 -- a/1 b/2${nl}killjobs -- a/1" "$sent"

# repeat, unrepeat, group.
replies 'S repeat:4' 'S repeat:5' 'S' 'S' | {
    exec 4<&0 3> "$T/cmd"
    chaqum_repeat -c '0 2 * * *' -g nightly -c 50 -- report > /dev/null
    same "repeat keeps the repeat id" repeat:4 "$chaqum_result"
    chaqum_repeat -c '30 2 * * *' -z Europe/Berlin -- backup > /dev/null
    same "a repeat in a time zone" repeat:5 "$chaqum_result"
    chaqum_unrepeat -- repeat:4
    same "unrepeat returns 0" 0 $?
    out=$(chaqum_group -m 2 -c 0.8 -M 100M -- convert)
    same "group prints nothing" "" "$out"
}
sent
same "repeat, unrepeat and group commands" \
    "repeat -c '0 2 * * *' -g nightly -c 50 -- report${nl}repeat -c '30 2 * * *' -z Europe/Berlin -- backup${nl}unrepeat -- repeat:4${nl}group -m 2 -c 0.8 -M 100M -- convert" "$sent"

# chaqum_call: any command, its reply words one a line.
replies "S a 'b c'" | {
    exec 4<&0 3> "$T/cmd"
    out=$(chaqum_call waitjobs -- x/1)
    same "call prints the reply's words" "a${nl}b c" "$out"
}
sent
same "call's command" "waitjobs -- x/1" "$sent"

# --- messages ---------------------------------------------------------------

# Text: its length is counted in bytes, whatever the locale.
replies 'S msg:1' | {
    exec 4<&0 3> "$T/cmd"
    out=$(chaqum_sendmsg -- parent/1 "héllo \"x\" 'y'${nl}end")
    same "sendmsg prints the message id" msg:1 "$out"
}
printf 'sendmsg -- parent/1 18\nhéllo "x" '"'y'"'\nend\n' > "$T/expected"
same_file "sendmsg sends the text's bytes" "$T/expected" "$T/cmd"

replies 'S msg:2' | {
    exec 4<&0 3> "$T/cmd"
    chaqum_sendmsg parent/1 '' > /dev/null
}
printf 'sendmsg -- parent/1 0\n\n' > "$T/expected"
same_file "an empty message" "$T/expected" "$T/cmd"

# Bytes, NUL included, from a file.
printf '\000\001\012\377\177\015\012\040' > "$T/bytes"
replies 'S msg:3' | {
    exec 4<&0 3> "$T/cmd"
    chaqum_sendmsg -f "$T/bytes" -- parent/1 > /dev/null
    same "sendmsg -f keeps the id" msg:3 "$chaqum_result"
}
{ printf 'sendmsg -- parent/1 8\n'; cat "$T/bytes"; printf '\n'; } > "$T/expected"
same_file "sendmsg -f sends the file's bytes" "$T/expected" "$T/cmd"

: | {
    exec 4<&0 3> "$T/cmd"
    chaqum_sendmsg -f "$T/missing" -- parent/1 2> /dev/null
    same "sendmsg -f of a missing file returns 2" 2 $?
    chaqum_sendmsg parent/1 2> /dev/null
    same "sendmsg without text returns 2" 2 $?
}
same "nothing was sent for them" "" "$(cat "$T/cmd")"

# recvmsg: the body on stdout (bytes exact), then the stream is still in sync.
{ printf 'S 8\n'; cat "$T/bytes"; printf '\nS 0\n\nT\nS a/1 0\n'; } | {
    exec 4<&0 3> "$T/cmd"
    chaqum_recvmsg -t 10 > "$T/body"
    same "recvmsg returns 0" 0 $?
    same "recvmsg leaves the length" 8 "$chaqum_result"
    same_file "recvmsg writes the bytes" "$T/bytes" "$T/body"
    chaqum_recvmsg > "$T/body"
    same "an empty message" "0:" "$chaqum_result:$(cat "$T/body")"
    chaqum_recvmsg -t 0.1 > "$T/body"
    same "recvmsg timing out returns 3" 3 $?
    chaqum_wait -- a/1 > /dev/null
    same "the stream is in sync after messages" 0 $?
}
sent
same "recvmsg's commands" "recvmsg -t 10${nl}recvmsg${nl}recvmsg -t 0.1${nl}wait -- a/1" "$sent"

replies 'S msg:1 R msg:2 R' 'S msg:1 R msg:2 T' 'S msg:1 R' | {
    exec 4<&0 3> "$T/cmd"
    out=$(chaqum_waitrecv -t 10 -- msg:1 msg:2); rc=$?
    same "waitrecv: all received returns 0" 0 $rc
    same "waitrecv prints MSGID STATE lines" "msg:1 R${nl}msg:2 R" "$out"
    chaqum_waitrecv -- msg:1 msg:2 > /dev/null
    same "waitrecv: not received returns 3" 3 $?
    chaqum_waitrecv -- msg:1 msg:9 > /dev/null
    same "waitrecv: an unknown message returns 1" 1 $?
}

# --- plans ------------------------------------------------------------------

plan='{"type": "sequence_group", "work": [{"type": "execute", "command": "greet wörld"}]}'

# Text: framed like sendmsg, its length in bytes whatever the locale.
replies 'S plan/3' | {
    exec 4<&0 3> "$T/cmd"
    out=$(chaqum_plan -- "$plan")
    same "plan prints the plan id" plan/3 "$out"
}
printf 'plan -- %s\n%s\n' 84 "$plan" > "$T/expected"
same_file "plan sends the text's bytes" "$T/expected" "$T/cmd"

# From a file (its bytes exactly) and from stdin.
printf '%s\n\n' "$plan" > "$T/plan.json"
replies 'S plan/4' 'S plan/5' | {
    exec 4<&0 3> "$T/cmd"
    chaqum_plan -f "$T/plan.json" > /dev/null
    same "plan -f keeps the id" plan/4 "$chaqum_result"
    chaqum_plan -f - < "$T/plan.json" > /dev/null
    same "plan -f - keeps the id" plan/5 "$chaqum_result"
}
{ printf 'plan -- 86\n'; cat "$T/plan.json"; printf '\n'; printf 'plan -- 84\n%s\n' "$plan"; } > "$T/expected"
same_file "plan -f sends the file's bytes, -f - stdin's text" "$T/expected" "$T/cmd"

# A bad plan: the reason, 2, and the stream goes on.
replies "E plan: \$.work[0].type: unknown type 'teleport'" 'S plan/6' | {
    exec 4<&0 3> "$T/cmd"
    chaqum_plan '{"type": "teleport"}' > "$T/out" 2> "$T/err"
    same "a bad plan returns 2" 2 $?
    same "a bad plan leaves the reason in chaqum_error" "plan: \$.work[0].type: unknown type 'teleport'" "$chaqum_error"
    same "a bad plan prints nothing on stdout" "" "$(cat "$T/out")"
    chaqum_plan -- '{}' > /dev/null
    same "the next plan works" plan/6 "$chaqum_result"
}

: | {
    exec 4<&0 3> "$T/cmd"
    chaqum_plan -f "$T/missing" 2> /dev/null
    same "plan -f of a missing file returns 2" 2 $?
    chaqum_plan 2> /dev/null
    same "plan without a plan returns 2" 2 $?
    chaqum_plan a b 2> /dev/null
    same "plan with two texts returns 2" 2 $?
    chaqum_plan -f "$T/plan.json" extra 2> /dev/null
    same "plan -f with a text too returns 2" 2 $?
}
same "nothing was sent for them" "" "$(cat "$T/cmd")"

# waitplan: the state, and the return code says which.
replies 'S plan/3 succeeded' 'S plan/3 failed' 'S plan/3 cancelled' 'S plan/3 T' "E waitplan: unknown plan 'plan/99'" 'S plan/3 maybe' | {
    exec 4<&0 3> "$T/cmd"
    out=$(chaqum_waitplan -- plan/3); rc=$?
    same "waitplan prints the state" succeeded "$out"
    same "waitplan: succeeded returns 0" 0 $rc
    chaqum_waitplan -t 5 -- plan/3 > /dev/null
    same "waitplan: failed returns 1" 1:failed "$?:$chaqum_result"
    chaqum_waitplan plan/3 > /dev/null
    same "waitplan: cancelled returns 1" 1:cancelled "$?:$chaqum_result"
    chaqum_waitplan -t 0.2 -- plan/3 > /dev/null
    same "waitplan: still running returns 3" 3:T "$?:$chaqum_result"
    chaqum_waitplan -- plan/99 > /dev/null 2>&1
    same "waitplan: an unknown plan returns 2" "2:waitplan: unknown plan 'plan/99'" "$?:$chaqum_error"
    chaqum_waitplan -- plan/3 > /dev/null 2>&1
    same "waitplan: a state it does not know returns 2" 2 $?
}
sent
same "waitplan's commands" "waitplan -- plan/3${nl}waitplan -t 5 -- plan/3${nl}waitplan plan/3${nl}waitplan -t 0.2 -- plan/3${nl}waitplan -- plan/99${nl}waitplan -- plan/3" "$sent"

# --- logging ----------------------------------------------------------------

chaqum_log_critical c 1 2> "$T/log"
chaqum_log_error e 2>> "$T/log"
chaqum_log_warn "two${nl}lines" 2>> "$T/log"
chaqum_log_info i 2>> "$T/log"
chaqum_log_debug "  spaced  " words 2>> "$T/log"
chaqum_log warning w 2>> "$T/log"
printf 'C\037c 1\nE\037e\nW\037two\nW\037lines\nI\037i\nD\037  spaced   words\nW\037w\n' > "$T/expected"
same_file "log lines carry the level prefix" "$T/expected" "$T/log"
chaqum_log loud x 2> /dev/null
same "an unknown level returns 2" 2 $?

# --- identity ---------------------------------------------------------------

(
    CHAQUM_IDENT=convert/3 CHAQUM_PARENT=init CHAQUM_GROUP=convert CHAQUM_SLOT=1 CHAQUM_ATTEMPT=2
    same "ident" convert/3 "$(chaqum_ident)"
    same "parent" init "$(chaqum_parent)"
    chaqum_group_name > /dev/null
    same "group" convert "$chaqum_result"
    same "slot" 1 "$(chaqum_slot)"
    same "attempt" 2 "$(chaqum_attempt)"
    unset CHAQUM_PARENT CHAQUM_SLOT
    chaqum_parent > /dev/null
    same "no parent returns 1" "1:" "$?:$chaqum_result"
    chaqum_slot > /dev/null
    same "no slot returns 1" 1 $?
)

# --- robustness -------------------------------------------------------------

# set -eu in the caller, an odd IFS and no PATH at all: the command path uses
# shell builtins only, so it still works.
replies 'S a/1' 'S a/1 0' 'S a/1 0' | (
    set -eu
    exec 4<&0 3> "$T/cmd"
    IFS=:/
    saved_path=$PATH
    PATH=/nonexistent
    chaqum_enqueue -g 'x y' -- job 'a:b c' > /dev/null
    chaqum_wait -t 1 -- "$chaqum_result" > /dev/null
    chaqum_status a/1 > /dev/null
    chaqum_kill -- a/1 > /dev/null
    chaqum_sendmsg a/1 text > /dev/null 2>&1 || true
    chaqum_log_info a b 2> /dev/null
    PATH=$saved_path
    echo reached > "$T/reached"
)
same "set -eu, IFS and an empty PATH" reached "$(cat "$T/reached" 2> /dev/null)"
sent
same "IFS does not change the quoting" "enqueue -g 'x y' -- job 'a:b c'${nl}wait -t 1 -- a/1${nl}killjobs -- a/1${nl}sendmsg -- a/1 4${nl}text" "$sent"

# --- outside a job ----------------------------------------------------------

# No CHAQUM_IDENT: even an open fd 3 is not written to.
: > "$T/cmd"
( unset CHAQUM_IDENT; exec 3> "$T/cmd" 4< /dev/null; chaqum_enqueue -- exiter 0 > /dev/null 2> "$T/err"; echo $? > "$T/rc" )
same "outside a job: returns 2" 2 "$(cat "$T/rc")"
case $(cat "$T/err") in *"fds 3 and 4"*) pass "outside a job: says so" ;; *) fail "outside a job: says so: $(cat "$T/err")" ;; esac
same "outside a job: nothing written to fd 3" "" "$(cat "$T/cmd")"

# fds 3 and 4 closed: says so, does not hang.
( exec 3>&- 4<&-; chaqum_wait -- a/1 > /dev/null 2> "$T/err"; echo $? > "$T/rc" )
same "closed fds: returns 2" 2 "$(cat "$T/rc")"
case $(cat "$T/err") in *"fds 3 and 4"*) pass "closed fds: says so" ;; *) fail "closed fds: says so: $(cat "$T/err")" ;; esac

# --- no forks ----------------------------------------------------------------

# Under strace (where ptrace is allowed), the command path makes no process:
# the script below marks the start of the calls with a failed open.
if command -v strace > /dev/null 2>&1 && strace -f -qq -e trace=none true 2> /dev/null; then
    shell=$(readlink "/proc/$$/exe")
    replies 'S a/1' 'S a/1 0' 'S msg:1' 'S' 'S plan/1' 'S plan/1 succeeded' | {
        exec 4<&0 3> "$T/cmd"
        cat > "$T/calls" <<EOF
. "$here/../chaqum.sh"
CHAQUM_IDENT=test/1
odd="job\$(printf 'a\\tb\\001')x"
true 2> /dev/null < "$T/calls-start"
chaqum_enqueue -g 'a b' -- "\$odd" "it's" > /dev/null
chaqum_wait -t 1 -- a/1 > /dev/null
chaqum_status a/1 > /dev/null
chaqum_sendmsg a/1 "héllo" > /dev/null
chaqum_group -m 1 -- g
chaqum_plan '{"type": "execute", "command": "x"}' > /dev/null
chaqum_waitplan -- plan/1 > /dev/null
chaqum_log_info done 2> /dev/null
EOF
        strace -f -qq -e trace=openat,clone,clone3,fork,vfork -o "$T/trace" "$shell" "$T/calls"
    }
    forks=$(sed -n '/calls-start/,$p' "$T/trace" | grep -c -E 'clone|fork')
    same "the command path does not fork ($shell)" 0 "$forks"
else
    printf 'ok - # SKIP no usable strace: fork count not checked\n'
fi

# --- summary ----------------------------------------------------------------

failures=$(wc -l < "$T/failed")
if [ "$failures" -eq 0 ]; then
    echo "# all passed"
else
    echo "# $failures failed"
    exit 1
fi
