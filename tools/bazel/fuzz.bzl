"""libFuzzer targets, and a bounded run of each as a test.

A fuzzer links only under --config=fuzz (libFuzzer supplies main), so both
rules are tagged "manual" and `bazel test //...` skips them. CI runs
`bazel test --config=fuzz` on the tests tagged "fuzz"; tools/run_fuzzers.sh
runs every fuzzer for longer, by hand.
"""

def metlog_fuzzer(name, srcs, deps = [], seconds = 20):
    """Defines `name` (the libFuzzer binary) and `name + "_run"` (a test).

    The test runs the fuzzer for `seconds` on a copy of the seed corpus in
    testdata/<name>_corpus/ (with testdata/<name>.dict if there is one) and
    fails on any crash, leak or sanitizer report.

    Args:
      name: ends in "_fuzzer".
      srcs: define LLVMFuzzerTestOneInput.
      deps: what they test.
      seconds: how long the CI run fuzzes.
    """
    native.cc_binary(
        name = name,
        srcs = srcs,
        deps = deps,
        tags = ["manual"],
    )
    corpus = native.glob(["testdata/%s_corpus/**" % name])
    dicts = native.glob(["testdata/%s.dict" % name])
    native.sh_test(
        name = name + "_run",
        srcs = ["//tools/bazel:run_fuzzer.sh"],
        args = [
            "$(location :%s)" % name,
            native.package_name() + "/testdata/%s_corpus" % name,
            str(seconds),
        ] + ["$(location %s)" % d for d in dicts],
        data = [":" + name] + corpus + dicts,
        size = "medium",
        tags = ["manual", "fuzz"],
    )
