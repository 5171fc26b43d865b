"""Exit codes of the command line, so scripts can tell failures apart."""

OK = 0
FAILURE = 1
INVALID_INPUT = 2
AUDIT_CHAIN_BROKEN = 1
