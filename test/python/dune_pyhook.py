# SPDX-License-Identifier: MIT
"""Run Python's regression test driver (python -m test) and record the
outcome of every test case, one line per case as it ends, in a file:

    python3.11 -m test.dune_pyhook RESULTS [regrtest options] SUITE...

Each line of RESULTS is "OUTCOME TEST-ID" with OUTCOME one of pass, fail,
error, skip, xfail (expected failure), xpass (unexpected success).  A
test whose subtests failed is "fail" even when the test method returned.
Lines are written and flushed as each case ends, so a crash keeps what
ran before it.  Only the process that started the suite writes: forked
children inherit the hook but not the right to report.

Staged into the emulated machine as test/dune_pyhook.py (test/python/stage).
"""
import os
import sys

from test.support import testresult


def install(path):
    owner = os.getpid()
    out = open(path, "a", encoding="utf-8")
    base = testresult.RegressionTestResult
    state = {}

    def record(test, outcome):
        if os.getpid() != owner:
            return
        tid = base._RegressionTestResult__getId(test)
        if outcome == "pass" and state.pop(tid, None) == "subfail":
            outcome = "fail"
        state.pop(tid, None)
        out.write(f"{outcome} {tid}\n")
        out.flush()

    class Recording(base):
        def addSuccess(self, test):
            record(test, "pass")
            super().addSuccess(test)

        def addFailure(self, test, err):
            record(test, "fail")
            super().addFailure(test, err)

        def addError(self, test, err):
            # class and module fixtures fail with a _ErrorHolder "test"
            record(test, "error")
            super().addError(test, err)

        def addSkip(self, test, reason):
            record(test, "skip")
            super().addSkip(test, reason)

        def addExpectedFailure(self, test, err):
            record(test, "xfail")
            super().addExpectedFailure(test, err)

        def addUnexpectedSuccess(self, test):
            record(test, "xpass")
            super().addUnexpectedSuccess(test)

        def addSubTest(self, test, subtest, err):
            if err is not None and os.getpid() == owner:
                state[base._RegressionTestResult__getId(test)] = "subfail"
            super().addSubTest(test, subtest, err)

        def stopTest(self, test):
            # a test whose subtests failed gets no addSuccess/addFailure
            tid = base._RegressionTestResult__getId(test)
            if state.get(tid) == "subfail":
                record(test, "fail")
            super().stopTest(test)

    testresult.RegressionTestResult = Recording


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: python3.11 -m test.dune_pyhook RESULTS [OPTIONS] SUITE...")
    install(sys.argv[1])
    sys.argv = [sys.argv[0]] + sys.argv[2:]
    from test.libregrtest import main as regrtest_main
    regrtest_main()


if __name__ == "__main__":
    main()
