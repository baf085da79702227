"""Test harness of the LivePerson pack: platform doubles, the fake LivePerson API, the local runner, soak."""
