# The Metlog demo image (docker-compose.yml): the router, the demo service,
# metlogctl, and the back ends the demo feeds (carbon, Etsy statsd,
# Prometheus), each started by tools/demo/container_start.sh from the same
# config templates tools/demo/run_local.sh uses.

# Build stage: the same set-up as a developer machine, then an optimized build.
FROM debian:12 AS build
WORKDIR /src
COPY . .
RUN tools/bootstrap.sh --peers \
 && bazel build -c opt //router //tools:demo_app //tools:metlogctl \
 && mkdir -p /out/bin /out/metlog/client/node /out/metlog/proto \
 && cp bazel-bin/router/router bazel-bin/tools/demo_app bazel-bin/tools/metlogctl /out/bin/ \
 && client/python/generate_proto.sh \
 && cp -r client/python /out/metlog/client/ \
 && cp -r client/node/index.js client/node/lib client/node/package.json /out/metlog/client/node/ \
 && cp proto/metlog.proto /out/metlog/proto/

# Runtime stage: the shared libraries the binaries link, the back ends, and
# the Python and Node.js clients for their demo services.
FROM debian:12-slim
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      libabsl20220623 libcpp-httplib0.11 libgoogle-glog0v6 libgrpc++1.51 \
      libprotobuf32 libre2-9 libsodium23 libssl3 libtcmalloc-minimal4 libzmq5 \
      graphite-carbon python3-whisper prometheus nodejs \
      python3-zmq python3-protobuf \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/bin/ /usr/local/bin/
COPY --from=build /opt/metlog-peers/node_modules/ /opt/metlog-peers/node_modules/
COPY --from=build /opt/metlog-peers/metlog-node/node_modules/ /opt/metlog-peers/metlog-node/node_modules/
COPY --from=build /out/metlog/ /opt/metlog/
COPY tools/demo/ /opt/metlog-demo/
ENV METLOG_PEERS_DIR=/opt/metlog-peers DATA_DIR=/data
VOLUME /data
ENTRYPOINT ["/opt/metlog-demo/container_start.sh"]
