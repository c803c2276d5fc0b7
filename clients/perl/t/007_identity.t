# The job's identity comes from the environment the daemon sets.
use strict;
use warnings;

use Test::More;

use Chaqum;

{
    local $ENV{CHAQUM_IDENT}   = 'convert/12';
    local $ENV{CHAQUM_PARENT}  = 'init';
    local $ENV{CHAQUM_TREE}    = '/srv/tree';
    local $ENV{CHAQUM_GROUP}   = 'convert';
    local $ENV{CHAQUM_SLOT}    = '1';
    local $ENV{CHAQUM_ATTEMPT} = '3';
    is Chaqum::ident, 'convert/12', 'ident';
    isa_ok Chaqum::parent, 'Chaqum::Job', 'parent';
    is Chaqum::parent->id, 'init', 'parent id';
    is Chaqum::tree, '/srv/tree', 'tree';
    is Chaqum::job_group, 'convert', 'group';
    is Chaqum::slot, 1, 'slot';
    is Chaqum::attempt, 3, 'attempt';
    is Chaqum::parent // 'none', 'init', 'parses without parentheses before //';
}

{
    delete local $ENV{CHAQUM_PARENT};
    delete local $ENV{CHAQUM_GROUP};
    delete local $ENV{CHAQUM_SLOT};
    delete local $ENV{CHAQUM_ATTEMPT};
    is Chaqum::parent, undef, 'no parent for the entry job';
    is Chaqum::job_group, undef, 'no group';
    is Chaqum::slot, undef, 'no slot';
    is Chaqum::attempt, 1, 'attempt 1 by default';
}

{
    use Chaqum qw(:identity);
    local $ENV{CHAQUM_IDENT} = 'x/1';
    is ident(), 'x/1', 'importable';
}

done_testing;
