"""Builds the fuzzed job tree: the fuzzer's own jobs, harmless scripts that fuzzed
commands may start, things that must be refused (directories, non-executables, symlink
loops) and an `outside` directory next to the tree whose script records any escape."""
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
JOBS = os.path.join(os.path.dirname(HERE), 'jobs')

SH_SCRIPTS = {
    't/ok': 'exit 0\n',
    't/fail': 'exit 3\n',
    't/args': 'exit $#\n',
    't/sleep': 'exec sleep 0.3\n',
    't/stubborn': "trap '' TERM\nsleep 0.5\n",
    't/sibling': 'exec sleep 100000\n',
    't/chatty': ("printf 'plain line\\n'\n"
                 "printf 'I\\037info\\nW\\037warn\\nD\\037debug\\n'\n"
                 "printf 'bad utf8 \\377\\376 and a CR\\r\\n' >&2\n"
                 "head -c 40000 /dev/zero | tr '\\0' x\n"
                 "printf 'no final newline'\n"),
}


def write(path, text, mode=0o755):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)
    os.chmod(path, mode)


def build(work):
    """Creates WORK/tree and WORK/outside; returns (tree, outside spellings)."""
    tree = os.path.join(work, 'tree')
    outside = os.path.join(work, 'outside')
    os.makedirs(tree)
    os.makedirs(outside)
    python = sys.executable
    for name in ('init', 'fuzzjob', 'canary'):
        with open(os.path.join(JOBS, name + '.py')) as f:
            write(os.path.join(tree, name), '#!%s\n' % python + f.read())
    for name, body in SH_SCRIPTS.items():
        write(os.path.join(tree, name), '#!/bin/sh\n' + body)
    os.makedirs(os.path.join(tree, 'lib'))
    for name in ('model.py', 'grammar.py', 'shwords.py', 'proto.py'):
        shutil.copy(os.path.join(HERE, name), os.path.join(tree, 'lib', name))
    os.makedirs(os.path.join(tree, 't', 'dir'))
    write(os.path.join(tree, 't', 'noexec'), '#!/bin/sh\nexit 0\n', 0o644)
    os.symlink('ok', os.path.join(tree, 't', 'link-in'))
    os.symlink('loop', os.path.join(tree, 't', 'loop'))
    os.symlink('../../outside/evil', os.path.join(tree, 't', 'link-out'))
    os.symlink('../../outside', os.path.join(tree, 't', 'dirlink-out'))
    # If a fuzzed command ever runs this, the harness finds the marker and fails the run.
    write(os.path.join(outside, 'evil'), '#!/bin/sh\ntouch "$FUZZ_RESULTS/ESCAPED-$$"\n')

    scripts = sorted(list(SH_SCRIPTS) + ['init', 'fuzzjob', 'canary'])
    with open(os.path.join(tree, 'lib', 'scripts.txt'), 'w') as f:
        f.write('\n'.join(scripts) + '\n')
    spellings = [
        '../outside/evil', outside + '/evil', 't/link-out', 't/dirlink-out/evil',
        't/../../outside/evil', 'lib/../../outside/evil', '/bin/true', '//' + outside.lstrip('/') + '/evil',
        tree + '/../outside/evil', 't/dir/../../../outside/evil', '/proc/self/root' + outside + '/evil',
        '../' + os.path.basename(work) + '/../' + os.path.basename(work) + '/outside/evil',
        '/dev/null', '/proc/self/exe', tree, tree + '/', '/' + 'x' * 5000,
    ]
    with open(os.path.join(tree, 'lib', 'outside.txt'), 'w') as f:
        f.write('\n'.join(spellings) + '\n')
    return tree, spellings
