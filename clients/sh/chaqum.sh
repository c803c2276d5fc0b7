# chaqum.sh: the POSIX sh client library of the chaqum job manager.
#
# Source it from a job script (dash, bash, any POSIX sh):
#
#     . "$CHAQUM_LIBDIR/sh/chaqum.sh"
#
# A job talks to the daemon by writing one command line to fd 3 and reading one
# reply line from fd 4 (docs/protocol.md). Every function here sends one
# command; its result is printed on stdout (so "$(...)" works) and also left in
# $chaqum_result (so a caller can redirect stdout to /dev/null and skip the fork
# of a command substitution). See README.md next to this file for the API.
#
# Return codes, the same for every function:
#   0  success
#   1  the answer is "no": a job failed / is unknown (wait), a message unknown
#      (waitrecv), a plan failed or was cancelled (waitplan)
#   2  error: the daemon refused the command (its reason is on stderr as
#      "chaqum: REASON" and in $chaqum_error), bad usage, or not inside a job
#   3  not yet: a job still pending (wait, kill), recvmsg timed out,
#      a message not received (waitrecv), a plan still running (waitplan)
#
# Nothing on the command path forks: words are quoted with parameter expansion,
# sent with printf and read back with read, all shell builtins. Only message
# bodies need external tools (head -c, wc -c), because sh variables cannot hold
# NUL bytes; so do plans read from a file or stdin (wc -c, head -c, cat).
#
# Public names start with chaqum_, private ones with _chaqum_. Functions keep
# their state in _chaqum_ globals (POSIX sh has no local variables).

# --- characters -------------------------------------------------------------

# Every control character (0x01-0x1f, 0x7f), in code order: a word containing
# one is sent as $'...'. One command substitution, once, when the library is
# sourced.
_chaqum_ctl=$(printf '\001\002\003\004\005\006\007\010\011\012\013\014\015\016\017\020\021\022\023\024\025\026\027\030\031\032\033\034\035\036\037\177')

# _chaqum_hex2 N: the two lowercase hex digits of 0 <= N < 256 in $_chaqum_h.
_chaqum_hex2() {
    _chaqum_h=
    _chaqum_digit "$(( $1 / 16 ))"
    _chaqum_digit "$(( $1 % 16 ))"
}
_chaqum_digit() {
    case $1 in
        10) _chaqum_h=${_chaqum_h}a ;; 11) _chaqum_h=${_chaqum_h}b ;;
        12) _chaqum_h=${_chaqum_h}c ;; 13) _chaqum_h=${_chaqum_h}d ;;
        14) _chaqum_h=${_chaqum_h}e ;; 15) _chaqum_h=${_chaqum_h}f ;;
        *) _chaqum_h=$_chaqum_h$1 ;;
    esac
}

# One variable per control character, _chaqum_x01 .. _chaqum_x1f and
# _chaqum_x7f, to decode \xHH in replies without forking.
_chaqum_s=$_chaqum_ctl
_chaqum_n=1
while [ -n "$_chaqum_s" ]; do
    _chaqum_r=${_chaqum_s#?}
    _chaqum_c=${_chaqum_s%"$_chaqum_r"}
    _chaqum_s=$_chaqum_r
    [ "$_chaqum_n" -eq 32 ] && _chaqum_n=127
    _chaqum_hex2 "$_chaqum_n"
    eval "_chaqum_x$_chaqum_h=\$_chaqum_c"
    _chaqum_n=$(( _chaqum_n + 1 ))
done
_chaqum_nl=$_chaqum_x0a
_chaqum_tab=$_chaqum_x09
unset _chaqum_s _chaqum_r _chaqum_c _chaqum_n

# --- quoting ----------------------------------------------------------------

# _chaqum_quote WORD: WORD quoted for a command line, in $_chaqum_q.
# Safe words go bare, words with a control character as $'...', anything else
# in single quotes ('"'"' for a quote, as Python's shlex.join does).
_chaqum_quote() {
    case $1 in
        '')
            _chaqum_q="''"
            return 0 ;;
        *[!ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789@%+=:,./_-]*)
            ;;
        *)
            _chaqum_q=$1
            return 0 ;;
    esac
    case $1 in
        *[$_chaqum_ctl]*)
            _chaqum_dollar_quote "$1"
            return 0 ;;
    esac
    _chaqum_s=$1
    _chaqum_q=
    while :; do
        case $_chaqum_s in
            *\'*)
                _chaqum_q=$_chaqum_q${_chaqum_s%%\'*}\'\"\'\"\'
                _chaqum_s=${_chaqum_s#*\'} ;;
            *)
                _chaqum_q=\'$_chaqum_q$_chaqum_s\'
                return 0 ;;
        esac
    done
}

# _chaqum_dollar_quote WORD: WORD as $'...' in $_chaqum_q; runs of ordinary
# characters are copied whole, only \, ' and control characters are escaped.
_chaqum_dollar_quote() {
    _chaqum_s=$1
    _chaqum_q=
    while [ -n "$_chaqum_s" ]; do
        _chaqum_run=${_chaqum_s%%[\\\'$_chaqum_ctl]*}
        if [ -n "$_chaqum_run" ]; then
            _chaqum_q=$_chaqum_q$_chaqum_run
            _chaqum_s=${_chaqum_s#"$_chaqum_run"}
            continue
        fi
        _chaqum_r=${_chaqum_s#?}
        _chaqum_c=${_chaqum_s%"$_chaqum_r"}
        _chaqum_s=$_chaqum_r
        case $_chaqum_c in
            "$_chaqum_nl") _chaqum_q=$_chaqum_q'\n' ;;
            "$_chaqum_tab") _chaqum_q=$_chaqum_q'\t' ;;
            "$_chaqum_x0d") _chaqum_q=$_chaqum_q'\r' ;;
            \\) _chaqum_q=$_chaqum_q'\\' ;;
            \') _chaqum_q=$_chaqum_q"\\'" ;;
            *)
                # Its code is its position in $_chaqum_ctl (the last one is 0x7f).
                _chaqum_r=${_chaqum_ctl%%"$_chaqum_c"*}
                _chaqum_n=$(( ${#_chaqum_r} + 1 ))
                [ "$_chaqum_n" -eq 32 ] && _chaqum_n=127
                _chaqum_hex2 "$_chaqum_n"
                _chaqum_q=$_chaqum_q'\x'$_chaqum_h ;;
        esac
    done
    _chaqum_q=\$\'$_chaqum_q\'
}

# chaqum_quote WORD...: prints the words quoted and joined as the library sends
# them (one line). For debugging and for building raw command lines.
chaqum_quote() {
    _chaqum_line=
    for _chaqum_a in "$@"; do
        _chaqum_quote "$_chaqum_a"
        _chaqum_line=${_chaqum_line:+$_chaqum_line }$_chaqum_q
    done
    chaqum_result=$_chaqum_line
    printf '%s\n' "$chaqum_result"
}

# --- reply words ------------------------------------------------------------

# _chaqum_next: takes the next word of $_chaqum_rest (a reply, quoted like a
# command) into $_chaqum_w. Returns 1 at the end, 2 (with $_chaqum_bad set) on
# quoting the library cannot read. Handles bare words, '...', "...", \x and
# $'...', the forms the daemon's quoting produces.
_chaqum_next() {
    while :; do
        case $_chaqum_rest in
            ' '*|"$_chaqum_tab"*) _chaqum_rest=${_chaqum_rest#?} ;;
            *) break ;;
        esac
    done
    [ -n "$_chaqum_rest" ] || return 1
    _chaqum_w=
    while [ -n "$_chaqum_rest" ]; do
        case $_chaqum_rest in
            ' '*|"$_chaqum_tab"*)
                return 0 ;;
            \'*)
                _chaqum_rest=${_chaqum_rest#?}
                case $_chaqum_rest in
                    *\'*) ;;
                    *) _chaqum_bad=1; return 2 ;;
                esac
                _chaqum_w=$_chaqum_w${_chaqum_rest%%\'*}
                _chaqum_rest=${_chaqum_rest#*\'} ;;
            \"*)
                _chaqum_rest=${_chaqum_rest#?}
                _chaqum_unquote_double || return 2 ;;
            \$\'*)
                _chaqum_rest=${_chaqum_rest#??}
                _chaqum_unquote_dollar || return 2 ;;
            \\*)
                _chaqum_rest=${_chaqum_rest#?}
                [ -n "$_chaqum_rest" ] || { _chaqum_bad=1; return 2; }
                _chaqum_r=${_chaqum_rest#?}
                _chaqum_w=$_chaqum_w${_chaqum_rest%"$_chaqum_r"}
                _chaqum_rest=$_chaqum_r ;;
            \$*)
                _chaqum_w=$_chaqum_w\$
                _chaqum_rest=${_chaqum_rest#?} ;;
            *)
                _chaqum_run=${_chaqum_rest%%[\ \'\"\\\$"$_chaqum_tab"]*}
                _chaqum_w=$_chaqum_w$_chaqum_run
                _chaqum_rest=${_chaqum_rest#"$_chaqum_run"} ;;
        esac
    done
    return 0
}

# The inside of "...", up to and including the closing quote.
_chaqum_unquote_double() {
    while :; do
        case $_chaqum_rest in
            '') _chaqum_bad=1; return 2 ;;
            \"*) _chaqum_rest=${_chaqum_rest#?}; return 0 ;;
            \\[\"\\\$\`]*)
                _chaqum_rest=${_chaqum_rest#?}
                _chaqum_r=${_chaqum_rest#?}
                _chaqum_w=$_chaqum_w${_chaqum_rest%"$_chaqum_r"}
                _chaqum_rest=$_chaqum_r ;;
            \\*)
                _chaqum_w=$_chaqum_w\\
                _chaqum_rest=${_chaqum_rest#?} ;;
            *)
                _chaqum_run=${_chaqum_rest%%[\"\\]*}
                _chaqum_w=$_chaqum_w$_chaqum_run
                _chaqum_rest=${_chaqum_rest#"$_chaqum_run"} ;;
        esac
    done
}

# The inside of $'...', up to and including the closing quote. Decodes the
# escapes the daemon writes (\n \t \r \\ \' \xHH for control characters) and
# the other C escapes of control characters.
_chaqum_unquote_dollar() {
    while :; do
        case $_chaqum_rest in
            '') _chaqum_bad=1; return 2 ;;
            \'*) _chaqum_rest=${_chaqum_rest#?}; return 0 ;;
            \\*)
                _chaqum_rest=${_chaqum_rest#?}
                _chaqum_r=${_chaqum_rest#?}
                _chaqum_c=${_chaqum_rest%"$_chaqum_r"}
                _chaqum_rest=$_chaqum_r
                case $_chaqum_c in
                    n) _chaqum_w=$_chaqum_w$_chaqum_nl ;;
                    t) _chaqum_w=$_chaqum_w$_chaqum_tab ;;
                    r) _chaqum_w=$_chaqum_w$_chaqum_x0d ;;
                    a) _chaqum_w=$_chaqum_w$_chaqum_x07 ;;
                    b) _chaqum_w=$_chaqum_w$_chaqum_x08 ;;
                    e|E) _chaqum_w=$_chaqum_w$_chaqum_x1b ;;
                    f) _chaqum_w=$_chaqum_w$_chaqum_x0c ;;
                    v) _chaqum_w=$_chaqum_w$_chaqum_x0b ;;
                    [\\\'\"?]) _chaqum_w=$_chaqum_w$_chaqum_c ;;
                    x)
                        case $_chaqum_rest in
                            [01][0-9a-fA-F]*|7[fF]*) ;;
                            *) _chaqum_bad=1; return 2 ;;
                        esac
                        _chaqum_r=${_chaqum_rest#??}
                        _chaqum_h=${_chaqum_rest%"$_chaqum_r"}
                        _chaqum_rest=$_chaqum_r
                        case $_chaqum_h in
                            ?A) _chaqum_h=${_chaqum_h%?}a ;; ?B) _chaqum_h=${_chaqum_h%?}b ;;
                            ?C) _chaqum_h=${_chaqum_h%?}c ;; ?D) _chaqum_h=${_chaqum_h%?}d ;;
                            ?E) _chaqum_h=${_chaqum_h%?}e ;; ?F) _chaqum_h=${_chaqum_h%?}f ;;
                        esac
                        case $_chaqum_h in
                            00) _chaqum_bad=1; return 2 ;;
                        esac
                        eval "_chaqum_w=\$_chaqum_w\$_chaqum_x$_chaqum_h" ;;
                    *) _chaqum_bad=1; return 2 ;;
                esac ;;
            *)
                _chaqum_run=${_chaqum_rest%%[\\\']*}
                _chaqum_w=$_chaqum_w$_chaqum_run
                _chaqum_rest=${_chaqum_rest#"$_chaqum_run"} ;;
        esac
    done
}

# --- talking to the daemon --------------------------------------------------

_chaqum_fail() {
    chaqum_error=$1
    printf 'chaqum: %s\n' "$1" >&2
    return 2
}

# Only a job started by the daemon has fds 3 and 4 (and CHAQUM_IDENT); anywhere
# else they are closed, or something else entirely, and must not be touched.
_chaqum_connected() {
    if [ -z "${CHAQUM_IDENT-}" ]; then
        _chaqum_fail "not inside a chaqum job (CHAQUM_IDENT is not set): the library talks to the daemon over fds 3 and 4, which only a job started by chaqum has"
        return 2
    fi
    if ! { true >&3 && true <&4; } 2>/dev/null; then
        _chaqum_fail "fds 3 and 4 are not open: the library works only inside a job started by chaqum (and its fds 3 and 4 must stay open)"
        return 2
    fi
}

# _chaqum_call VERB WORD...: sends the command and reads the reply's first line.
# Returns 0 on S (the words after S in $_chaqum_rest), 2 on E or trouble, 3 on T.
_chaqum_call() {
    chaqum_error=
    chaqum_result=
    _chaqum_connected || return 2
    _chaqum_line=
    for _chaqum_a in "$@"; do
        _chaqum_quote "$_chaqum_a"
        _chaqum_line="${_chaqum_line:+$_chaqum_line }$_chaqum_q"
    done
    printf '%s\n' "$_chaqum_line" >&3 || { _chaqum_fail "cannot write the command to fd 3"; return 2; }
    _chaqum_answer
}

# Reads one reply line from fd 4 and sorts it out.
_chaqum_answer() {
    _chaqum_bad=
    if ! IFS= read -r _chaqum_line <&4; then
        _chaqum_fail "no reply from the daemon (fd 4 was closed)"
        return 2
    fi
    case $_chaqum_line in
        S)
            _chaqum_rest=
            return 0 ;;
        S\ *)
            _chaqum_rest=${_chaqum_line#S }
            return 0 ;;
        E|E\ *)
            _chaqum_line=${_chaqum_line#E}
            _chaqum_fail "${_chaqum_line# }"
            return 2 ;;
        T)
            return 3 ;;
        *)
            _chaqum_fail "unexpected reply from the daemon: $_chaqum_line"
            return 2 ;;
    esac
}

# Takes the reply's single word into $chaqum_result and prints it.
_chaqum_one_word() {
    if ! _chaqum_next; then
        _chaqum_fail "cannot read the daemon's reply: ${_chaqum_line}"
        return 2
    fi
    chaqum_result=$_chaqum_w
    printf '%s\n' "$chaqum_result"
}

# Takes the reply's ID STATE pairs: prints "ID STATE" lines, leaves them in
# $chaqum_result and in the table chaqum_status reads, counts them in
# _chaqum_npairs and sets _chaqum_failed (a state other than 0, R and T) and
# _chaqum_pending (T).
_chaqum_pairs() {
    _chaqum_failed=
    _chaqum_pending=
    _chaqum_npairs=0
    chaqum_result=
    case $_chaqum_rest in
        *[\'\"\\\$]*)
            # Some word is quoted: read them one at a time.
            while _chaqum_next; do
                _chaqum_id=$_chaqum_w
                _chaqum_next || { _chaqum_bad=1; break; }
                case $_chaqum_w in
                    0|R) ;;
                    T) _chaqum_pending=1 ;;
                    *) _chaqum_failed=1 ;;
                esac
                _chaqum_npairs=$(( _chaqum_npairs + 1 ))
                chaqum_result="${chaqum_result:+$chaqum_result$_chaqum_nl}$_chaqum_id $_chaqum_w"
            done ;;
        *)
            # Bare words only, the usual case: the shell's own field splitting
            # takes one pass where a word at a time would take one per word.
            _chaqum_ifs=${IFS-}
            _chaqum_ifsset=${IFS+set}
            case $- in *f*) _chaqum_noglob=1 ;; *) _chaqum_noglob= ;; esac
            IFS=" $_chaqum_tab"
            set -f
            set -- $_chaqum_rest
            [ -n "$_chaqum_noglob" ] || set +f
            if [ -n "$_chaqum_ifsset" ]; then IFS=$_chaqum_ifs; else unset IFS; fi
            [ $(( $# % 2 )) -eq 0 ] || _chaqum_bad=1
            while [ $# -ge 2 ]; do
                case $2 in
                    0|R) ;;
                    T) _chaqum_pending=1 ;;
                    *) _chaqum_failed=1 ;;
                esac
                _chaqum_npairs=$(( _chaqum_npairs + 1 ))
                chaqum_result="${chaqum_result:+$chaqum_result$_chaqum_nl}$1 $2"
                shift 2
            done ;;
    esac
    _chaqum_table=$_chaqum_nl$chaqum_result$_chaqum_nl
    if [ -n "$_chaqum_bad" ]; then
        _chaqum_fail "cannot read the daemon's reply: $_chaqum_line"
        return 2
    fi
    [ -z "$chaqum_result" ] || printf '%s\n' "$chaqum_result"
}

# _chaqum_unknown VALUEOPTS WORD...: sets _chaqum_failed if an operand of the
# command (a word after its options) is missing from the reply's table.
# VALUEOPTS are the option letters that take a value.
_chaqum_unknown() {
    _chaqum_vo=$1
    shift
    # Unknown ids are left out of the reply, and so are duplicates: as many
    # pairs as operands means nothing is missing (one pass, the usual case).
    # Otherwise each operand is looked up.
    _chaqum_check=
    while :; do
        _chaqum_opts=1
        _chaqum_skip=
        _chaqum_nops=0
        for _chaqum_a in "$@"; do
            if [ -n "$_chaqum_skip" ]; then
                _chaqum_skip=
                continue
            fi
            if [ -n "$_chaqum_opts" ]; then
                case $_chaqum_a in
                    --) _chaqum_opts=; continue ;;
                    -?*)
                        # A cluster like -ft5: a letter taking a value takes
                        # the rest of the word, or the next word.
                        _chaqum_s=${_chaqum_a#-}
                        while [ -n "$_chaqum_s" ]; do
                            _chaqum_r=${_chaqum_s#?}
                            _chaqum_c=${_chaqum_s%"$_chaqum_r"}
                            case $_chaqum_vo in
                                *"$_chaqum_c"*)
                                    [ -n "$_chaqum_r" ] || _chaqum_skip=1
                                    break ;;
                            esac
                            _chaqum_s=$_chaqum_r
                        done
                        continue ;;
                    *) _chaqum_opts= ;;
                esac
            fi
            _chaqum_nops=$(( _chaqum_nops + 1 ))
            [ -n "$_chaqum_check" ] || continue
            case $_chaqum_table in
                *"$_chaqum_nl$_chaqum_a "*) ;;
                *) _chaqum_failed=1; return 0 ;;
            esac
        done
        [ -z "$_chaqum_check" ] && [ "$_chaqum_nops" -ne "$_chaqum_npairs" ] || return 0
        _chaqum_check=1
    done
}

# --- commands ---------------------------------------------------------------

# chaqum_call VERB WORD...: any command; prints the reply's words, one a line.
# The escape hatch for commands this library does not wrap.
chaqum_call() {
    _chaqum_call "$@" || return
    _chaqum_out=
    while _chaqum_next; do
        _chaqum_out="${_chaqum_out:+$_chaqum_out$_chaqum_nl}$_chaqum_w"
    done
    if [ -n "$_chaqum_bad" ]; then
        _chaqum_fail "cannot read the daemon's reply: $_chaqum_line"
        return 2
    fi
    chaqum_result=$_chaqum_out
    [ -z "$chaqum_result" ] || printf '%s\n' "$chaqum_result"
}

# chaqum_enqueue [OPTION...] -- SCRIPT [ARG...]: prints the new job's id.
# OPTIONs go to the daemon as they are: -g -m -c -l -M -P -t -p -k -a -r -F,
# and -d DELAY / -A TIME (scheduled until then), -H (held), -U (urgent), -R.
chaqum_enqueue() {
    _chaqum_call enqueue "$@" || return
    _chaqum_one_word
}

# chaqum_repeat (-i INTERVAL | -c CRON [-z ZONE]) [OPTION...] -- SCRIPT [ARG...]:
# prints the repeat's id.
chaqum_repeat() {
    _chaqum_call repeat "$@" || return
    _chaqum_one_word
}

# chaqum_unrepeat [--] REPEATID...
chaqum_unrepeat() {
    _chaqum_call unrepeat "$@"
}

# chaqum_group [OPTION...] [--] GROUP: creates GROUP, sets its limits.
chaqum_group() {
    _chaqum_call group "$@"
}

# chaqum_wait [-a | -f] [-t SECONDS] [--] JOBID...: prints "ID STATUS" per job.
# 0: every job exited 0; 1: a job failed, never ran or is unknown;
# 3: none failed but some are still pending (T).
chaqum_wait() {
    _chaqum_call wait "$@" || return
    _chaqum_pairs || return
    _chaqum_unknown t "$@"
    [ -z "$_chaqum_failed" ] || return 1
    [ -z "$_chaqum_pending" ] || return 3
    return 0
}

# chaqum_kill [-s SIGNAL] [-t SECONDS] [--] JOBID...: kills the jobs, prints
# "ID STATUS" per job. 0: they have all ended (however); 3: some still run.
chaqum_kill() {
    _chaqum_call killjobs "$@" || return
    _chaqum_pairs || return
    [ -z "$_chaqum_pending" ] || return 3
    return 0
}

# chaqum_status JOBID: the job's STATUS in the last chaqum_wait/chaqum_kill
# reply (0..255, -SIG, N, T), or "unknown" (then returns 1).
chaqum_status() {
    case ${_chaqum_table-} in
        *"$_chaqum_nl$1 "*)
            _chaqum_s=${_chaqum_table#*"$_chaqum_nl$1 "}
            chaqum_result=${_chaqum_s%%"$_chaqum_nl"*}
            printf '%s\n' "$chaqum_result" ;;
        *)
            chaqum_result=unknown
            printf '%s\n' "$chaqum_result"
            return 1 ;;
    esac
}

# chaqum_describe STATUS: in words: "exit N", "signal N", "never-ran",
# "pending" or "unknown".
chaqum_describe() {
    case $1 in
        -[0-9]*) chaqum_result="signal ${1#-}" ;;
        [0-9]*) chaqum_result="exit $1" ;;
        N) chaqum_result=never-ran ;;
        T) chaqum_result=pending ;;
        *) chaqum_result=unknown ;;
    esac
    printf '%s\n' "$chaqum_result"
}

# _chaqum_bytes TEXT: the length of TEXT in bytes in $_chaqum_len. Shells that
# know multibyte characters (bash) count characters in the user's locale, so
# count in the C locale.
_chaqum_bytes() {
    _chaqum_lc=${LC_ALL-}
    _chaqum_lcset=${LC_ALL+set}
    LC_ALL=C
    _chaqum_len=${#1}
    if [ -n "$_chaqum_lcset" ]; then LC_ALL=$_chaqum_lc; else unset LC_ALL; fi
}

# chaqum_sendmsg [--] JOBID TEXT       sends TEXT's bytes as they are
# chaqum_sendmsg -f FILE [--] JOBID    sends FILE's bytes (any bytes, NUL too)
# Prints the message id.
chaqum_sendmsg() {
    _chaqum_file=
    while :; do
        case ${1-} in
            -f) [ $# -ge 2 ] || { _chaqum_fail "sendmsg: -f needs a FILE"; return 2; }
                _chaqum_file=$2; shift 2 ;;
            -f?*) _chaqum_file=${1#-f}; shift ;;
            --) shift; break ;;
            -?*) _chaqum_fail "sendmsg: unknown option $1"; return 2 ;;
            *) break ;;
        esac
    done
    chaqum_error=
    chaqum_result=
    if [ -n "$_chaqum_file" ]; then
        [ $# -eq 1 ] || { _chaqum_fail "usage: chaqum_sendmsg -f FILE [--] JOBID"; return 2; }
        [ -f "$_chaqum_file" ] && [ -r "$_chaqum_file" ] ||
            { _chaqum_fail "sendmsg: cannot read the file '$_chaqum_file'"; return 2; }
        _chaqum_connected || return 2
        # The daemon reads exactly LENGTH bytes: the file must not change meanwhile.
        _chaqum_len=$(wc -c < "$_chaqum_file") || { _chaqum_fail "sendmsg: cannot measure '$_chaqum_file'"; return 2; }
        _chaqum_len=$(( _chaqum_len ))
        _chaqum_quote "$1"
        printf 'sendmsg -- %s %s\n' "$_chaqum_q" "$_chaqum_len" >&3 &&
            { [ "$_chaqum_len" -eq 0 ] || head -c "$_chaqum_len" "$_chaqum_file" >&3; } &&
            printf '\n' >&3 || { _chaqum_fail "cannot write the message to fd 3"; return 2; }
    else
        [ $# -eq 2 ] || { _chaqum_fail "usage: chaqum_sendmsg [--] JOBID TEXT"; return 2; }
        _chaqum_connected || return 2
        _chaqum_bytes "$2"
        _chaqum_quote "$1"
        printf 'sendmsg -- %s %s\n%s\n' "$_chaqum_q" "$_chaqum_len" "$2" >&3 ||
            { _chaqum_fail "cannot write the message to fd 3"; return 2; }
    fi
    _chaqum_answer || return
    _chaqum_one_word
}

# chaqum_recvmsg [-t SECONDS]: writes the oldest message's bytes on stdout;
# $chaqum_result is its length. 3 when nothing came within SECONDS.
chaqum_recvmsg() {
    _chaqum_call recvmsg "$@" || return
    _chaqum_next || { _chaqum_fail "cannot read the daemon's reply: $_chaqum_line"; return 2; }
    chaqum_result=$_chaqum_w
    case $chaqum_result in
        ''|*[!0-9]*) _chaqum_fail "bad message length from the daemon: $_chaqum_line"; return 2 ;;
    esac
    # head reads exactly LENGTH bytes from a pipe (GNU head does not read ahead),
    # then the LF after the body is left for read.
    if [ "$chaqum_result" -gt 0 ]; then
        head -c "$chaqum_result" <&4 || { _chaqum_fail "cannot read the message body"; return 2; }
    fi
    IFS= read -r _chaqum_line <&4 || { _chaqum_fail "no reply from the daemon (fd 4 was closed)"; return 2; }
    return 0
}

# chaqum_waitrecv [-t SECONDS] [--] MSGID...: prints "MSGID R|T" per message.
# 0: all received; 1: some unknown; 3: some not received (T).
chaqum_waitrecv() {
    _chaqum_call waitrecv "$@" || return
    _chaqum_pairs || return
    _chaqum_unknown t "$@"
    [ -z "$_chaqum_failed" ] || return 1
    [ -z "$_chaqum_pending" ] || return 3
    return 0
}

# --- plans ------------------------------------------------------------------

# chaqum_plan [--] TEXT       submits the plan document TEXT (JSON)
# chaqum_plan -f FILE         submits FILE's bytes; -f - reads the plan from stdin
# Prints the plan's id (plan/N). A bad plan is refused whole (2), and the reason
# names the JSON path of the fault.
chaqum_plan() {
    _chaqum_file=
    while :; do
        case ${1-} in
            -f) [ $# -ge 2 ] || { _chaqum_fail "plan: -f needs a FILE (or - for stdin)"; return 2; }
                _chaqum_file=$2; shift 2 ;;
            -f?*) _chaqum_file=${1#-f}; shift ;;
            --) shift; break ;;
            -?*) _chaqum_fail "plan: unknown option $1"; return 2 ;;
            *) break ;;
        esac
    done
    chaqum_error=
    chaqum_result=
    if [ -n "$_chaqum_file" ]; then
        [ $# -eq 0 ] || { _chaqum_fail "usage: chaqum_plan -f FILE (or: chaqum_plan [--] TEXT)"; return 2; }
    else
        [ $# -eq 1 ] || { _chaqum_fail "usage: chaqum_plan [--] TEXT (or: chaqum_plan -f FILE, -f - for stdin)"; return 2; }
    fi
    if [ "$_chaqum_file" = - ]; then
        _chaqum_connected || return 2
        # Into a variable, to know its length: a plan is JSON text, which has no
        # NUL byte (the only thing a variable cannot hold). Trailing newlines
        # are lost, which JSON does not mind.
        _chaqum_text=$(cat) || { _chaqum_fail "plan: cannot read the plan from stdin"; return 2; }
        _chaqum_bytes "$_chaqum_text"
        printf 'plan -- %s\n%s\n' "$_chaqum_len" "$_chaqum_text" >&3 ||
            { _chaqum_fail "cannot write the plan to fd 3"; return 2; }
    elif [ -n "$_chaqum_file" ]; then
        [ -f "$_chaqum_file" ] && [ -r "$_chaqum_file" ] ||
            { _chaqum_fail "plan: cannot read the file '$_chaqum_file'"; return 2; }
        _chaqum_connected || return 2
        # The daemon reads exactly LENGTH bytes: the file must not change meanwhile.
        _chaqum_len=$(wc -c < "$_chaqum_file") || { _chaqum_fail "plan: cannot measure '$_chaqum_file'"; return 2; }
        _chaqum_len=$(( _chaqum_len ))
        printf 'plan -- %s\n' "$_chaqum_len" >&3 &&
            { [ "$_chaqum_len" -eq 0 ] || head -c "$_chaqum_len" "$_chaqum_file" >&3; } &&
            printf '\n' >&3 || { _chaqum_fail "cannot write the plan to fd 3"; return 2; }
    else
        _chaqum_connected || return 2
        _chaqum_bytes "$1"
        printf 'plan -- %s\n%s\n' "$_chaqum_len" "$1" >&3 ||
            { _chaqum_fail "cannot write the plan to fd 3"; return 2; }
    fi
    _chaqum_answer || return
    _chaqum_one_word
}

# chaqum_waitplan [-t SECONDS] [--] PLANID: waits until the plan has ended and
# prints its state: succeeded (returns 0), failed or cancelled (1); T when
# SECONDS passed first (3). An unknown id is refused (2).
chaqum_waitplan() {
    _chaqum_call waitplan "$@" || return
    if ! { _chaqum_next && _chaqum_next; }; then
        _chaqum_fail "cannot read the daemon's reply: $_chaqum_line"
        return 2
    fi
    chaqum_result=$_chaqum_w
    case $chaqum_result in
        succeeded|failed|cancelled|T) ;;
        *) _chaqum_fail "unexpected plan state from the daemon: $_chaqum_line"; return 2 ;;
    esac
    printf '%s\n' "$chaqum_result"
    case $chaqum_result in
        succeeded) return 0 ;;
        T) return 3 ;;
        *) return 1 ;;
    esac
}

# --- identity ---------------------------------------------------------------

# Each prints its value (and leaves it in $chaqum_result); 1 when it has none.
_chaqum_env() {
    chaqum_result=$1
    [ -n "$1" ] || return 1
    printf '%s\n' "$1"
}
chaqum_ident() { _chaqum_env "${CHAQUM_IDENT-}"; }
chaqum_parent() { _chaqum_env "${CHAQUM_PARENT-}"; }
chaqum_group_name() { _chaqum_env "${CHAQUM_GROUP-}"; }
chaqum_slot() { _chaqum_env "${CHAQUM_SLOT-}"; }
chaqum_attempt() { _chaqum_env "${CHAQUM_ATTEMPT:-1}"; }
chaqum_tree() { _chaqum_env "${CHAQUM_TREE-}"; }

# --- logging ----------------------------------------------------------------

# chaqum_log LEVEL MESSAGE...: one log event per line of the message, at LEVEL
# (critical, error, warn/warning, info, debug, or C E W I D). Written to stderr
# with the unit-separator prefix the daemon reads.
chaqum_log() {
    case ${1-} in
        C|critical|crit) _chaqum_lv=C ;;
        E|error|err) _chaqum_lv=E ;;
        W|warn|warning) _chaqum_lv=W ;;
        I|info) _chaqum_lv=I ;;
        D|debug) _chaqum_lv=D ;;
        *) _chaqum_fail "chaqum_log: unknown level '${1-}'"; return 2 ;;
    esac
    shift
    # The words joined by spaces, whatever IFS is.
    _chaqum_m=
    for _chaqum_a in "$@"; do
        _chaqum_m=${_chaqum_m:+$_chaqum_m }$_chaqum_a
    done
    # Each line gets the prefix, or the daemon would log the rest as warnings.
    while :; do
        case $_chaqum_m in
            *"$_chaqum_nl"*)
                printf '%s\037%s\n' "$_chaqum_lv" "${_chaqum_m%%"$_chaqum_nl"*}" >&2
                _chaqum_m=${_chaqum_m#*"$_chaqum_nl"} ;;
            *)
                printf '%s\037%s\n' "$_chaqum_lv" "$_chaqum_m" >&2
                return 0 ;;
        esac
    done
}
chaqum_log_critical() { chaqum_log C "$@"; }
chaqum_log_error() { chaqum_log E "$@"; }
chaqum_log_warn() { chaqum_log W "$@"; }
chaqum_log_info() { chaqum_log I "$@"; }
chaqum_log_debug() { chaqum_log D "$@"; }
