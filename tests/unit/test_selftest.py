"""The firmware's interpreter self-test also holds under CPython (the reference)."""
from o3s import selftest


def test_selftest_passes_on_cpython():
    lines = []
    passed, failed = selftest.run(lines.append)
    assert failed == 0, lines
    assert passed == len(selftest.CHECKS)
    assert lines[-1] == "selftest: %d passed, 0 failed" % passed


def test_selftest_reports_a_failing_check():
    def broken():
        raise ValueError("boom")

    saved = selftest.CHECKS
    selftest.CHECKS = saved + (("broken on purpose", broken),)
    try:
        lines = []
        passed, failed = selftest.run(lines.append)
    finally:
        selftest.CHECKS = saved
    assert failed == 1 and "selftest: FAIL broken on purpose: ValueError('boom')" in lines
