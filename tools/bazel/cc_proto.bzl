"""Turns .proto files into a C++ (and optionally gRPC) cc_library.

Bazel 4.2's native proto rules want @com_google_protobuf, which would be a
download; this macro runs Debian's protoc and grpc_cpp_plugin instead.
"""

def _strip_proto(src):
    return src[:-len(".proto")].split(":")[-1]

def metlog_cc_proto(name, srcs, deps = [], grpc = False, visibility = None):
    """Generates `name`, a cc_library of the messages (and services) in srcs.

    Args:
      name: the cc_library's name; `name + "_protos"` is a filegroup of the
        .proto files and those of every dep, which importers need as inputs.
      srcs: .proto files in this package, imported by their workspace path.
      deps: other metlog_cc_proto targets whose files srcs import.
      grpc: also generate gRPC service stubs.
      visibility: of the cc_library and the filegroup.
    """
    native.filegroup(
        name = name + "_protos",
        srcs = srcs + [dep + "_protos" for dep in deps],
        visibility = visibility,
    )
    bases = [_strip_proto(src) for src in srcs]
    outs = [b + ".pb.h" for b in bases] + [b + ".pb.cc" for b in bases]
    plugin = ""
    if grpc:
        outs += [b + ".grpc.pb.h" for b in bases] + [b + ".grpc.pb.cc" for b in bases]
        plugin = ("--grpc_out=$(GENDIR) " +
                  "--plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin ")
    native.genrule(
        name = name + "_gen",
        srcs = srcs + [name + "_protos"],
        outs = outs,
        cmd = ("/usr/bin/protoc -I. -I/usr/include --cpp_out=$(GENDIR) " + plugin +
               " ".join(["$(location %s)" % src for src in srcs])),
    )
    sys_deps = ["//third_party/sys:protobuf"]
    if grpc:
        sys_deps.append("//third_party/sys:grpc")
    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        deps = deps + sys_deps,
        visibility = visibility,
    )
