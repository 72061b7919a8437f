#!/usr/bin/env python3
"""Summarise the subunit v2 stream of a Tempest run.

usage: tempest-subunit-summary.py RUN.subunit OUTDIR [ALL_TESTS.txt]

Writes into OUTDIR, one test id per line, sorted, attribute suffix such as
"[id-...,smoke]" removed:
  passed.txt  failed.txt  skipped.txt
  failures.txt      the traceback / reason of every failed test
  skip-reasons.txt  "test.id: reason"
and prints the line "N passed, M failed, K skipped".

With ALL_TESTS.txt (the output of `stestr list REGEX`) the counts are per
selected test: a class-level result ("setUpClass (pkg.mod.Class)" skipped or
failed) is given to each test of that class without a result of its own, a
passing tearDownClass is dropped, and a selected test with no result at all
counts as failed (it never ran).  Then passed + failed + skipped equals the
number of selected tests and runs can be compared test by test.

Run it with the Tempest venv's python (needs python-subunit and testtools).
"""
import os
import re
import sys

import subunit
import testtools

ATTRIBUTES = re.compile(r"\[[^\]]*\]$")
FIXTURE = re.compile(r"^(setUpClass|tearDownClass) \((.+)\)$")
PASSED = ("success", "xfail")
FAILED = ("fail", "uxsuccess", "exists", "inprogress", None)


def plain(test_id):
    return ATTRIBUTES.sub("", test_id)


def read_stream(path):
    tests = {}
    result = testtools.StreamToDict(lambda t: tests.__setitem__(t["id"], t))
    with open(path, "rb") as f:
        stream = subunit.ByteStreamToStreamResult(f, non_subunit_name="stdout")
        result.startTestRun()
        try:
            stream.run(result)
        finally:
            result.stopTestRun()
    return {plain(tid): dict(t, id=plain(tid)) for tid, t in tests.items()}


def spread_class_results(tests, selected):
    have = set(tests)
    for tid in [t for t in tests if FIXTURE.match(t)]:
        kind, cls = FIXTURE.match(tid).groups()
        result = tests.pop(tid)
        if kind == "tearDownClass" and result["status"] != "fail":
            continue
        members = [t for t in selected if t.startswith(cls + ".") and t not in have]
        if not members:
            tests[tid] = result  # keep a failure that belongs to no selected test
            continue
        for t in members:
            tests[t] = dict(result, id=t)
            have.add(t)
    for t in selected:
        if t not in have:
            tests[t] = {"id": t, "status": None, "details": {}}
            have.add(t)


def detail_text(test, keys):
    parts = []
    for key, value in sorted(test["details"].items()):
        if key not in keys:
            continue
        try:
            text = value.as_text()
        except Exception:
            continue
        if text.strip():
            parts.append((key, text.rstrip()))
    return parts


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    tests = read_stream(sys.argv[1])
    outdir = sys.argv[2]
    if len(sys.argv) == 4:
        with open(sys.argv[3]) as f:
            selected = [plain(l.strip()) for l in f if l.strip()]
        spread_class_results(tests, selected)

    groups = {"passed": {}, "failed": {}, "skipped": {}}
    for tid, t in tests.items():
        if t["status"] in PASSED:
            groups["passed"][tid] = t
        elif t["status"] == "skip":
            groups["skipped"][tid] = t
        elif t["status"] in FAILED:
            groups["failed"][tid] = t

    os.makedirs(outdir, exist_ok=True)
    for name, group in groups.items():
        with open(os.path.join(outdir, name + ".txt"), "w") as f:
            f.writelines(t + "\n" for t in sorted(group))
    with open(os.path.join(outdir, "failures.txt"), "w") as f:
        for tid in sorted(groups["failed"]):
            t = groups["failed"][tid]
            f.write("=" * 70 + "\nFAIL: %s\n" % tid)
            if t["status"] is None:
                f.write("(no result: the test never ran)\n")
            for key, text in detail_text(t, ("traceback", "reason")):
                f.write("--- %s ---\n%s\n" % (key, text))
    with open(os.path.join(outdir, "skip-reasons.txt"), "w") as f:
        for tid in sorted(groups["skipped"]):
            reason = " ".join(text for _, text in
                              detail_text(groups["skipped"][tid], ("reason",)))
            f.write("%s: %s\n" % (tid, reason.replace("\n", " ").strip()))
    print("%d passed, %d failed, %d skipped" % tuple(
        len(groups[k]) for k in ("passed", "failed", "skipped")))


if __name__ == "__main__":
    main()
