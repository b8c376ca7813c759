#include "router/input_exposure.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "router/inputs/grpc/publish/publish_input.pb.h"
#include "router/inputs/heka/heka_input.pb.h"
#include "router/inputs/statsd/statsd_input.pb.h"
#include "router/inputs/udp/udp_input.pb.h"
#include "router/inputs/zmq/zmq_input.pb.h"

namespace metlog {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

v1::InputConfig* AddInput(v1::RouterConfig* config,
                          const google::protobuf::Message& options) {
  v1::InputConfig* input = config->add_inputs();
  input->mutable_options()->PackFrom(options);
  return input;
}

v1::ZmqInputConfig Zmq(const std::string& endpoint, bool bind = true) {
  v1::ZmqInputConfig zmq;
  zmq.set_endpoint(endpoint);
  zmq.set_bind(bind);
  return zmq;
}

TEST(InputExposureTest, OnlyUnprotectedInputsBeyondLoopbackAreNamed) {
  v1::RouterConfig config;
  AddInput(&config, Zmq("tcp://127.0.0.1:5565"));
  v1::UdpInputConfig udp;
  udp.set_address("[::1]:5565");
  AddInput(&config, udp);
  AddInput(&config, Zmq("tcp://0.0.0.0:5565"))->set_require_signature(true);
  v1::ZmqInputConfig curve = Zmq("tcp://0.0.0.0:5568");
  curve.mutable_curve()->set_secret_key_file("k");
  AddInput(&config, curve);
  config.mutable_admin()->set_listen_address("0.0.0.0:5566");
  config.mutable_admin()->mutable_tls()->set_require_client_cert(true);
  AddInput(&config, Zmq("tcp://10.0.0.1:5565", /*bind=*/false));
  // On the admin port: no listener of its own.
  AddInput(&config, v1::GrpcPublishInputConfig());
  EXPECT_THAT(ExposedInputWarnings(config), IsEmpty());

  v1::HekaInputConfig heka;
  heka.set_address("0.0.0.0:5567");
  AddInput(&config, heka)->set_name("open");
  v1::StatsdInputConfig statsd;
  statsd.set_address("10.1.2.3:8125");
  // statsd lines carry no signature.
  AddInput(&config, statsd)->set_require_signature(true);
  v1::GrpcPublishInputConfig publish;
  publish.set_listen_address("0.0.0.0:5568");
  AddInput(&config, publish);
  EXPECT_THAT(ExposedInputWarnings(config),
              ElementsAre(HasSubstr("input \"open\" listens on 0.0.0.0:5567"),
                          HasSubstr("input \"statsd\""),
                          HasSubstr("input \"grpc\" listens on 0.0.0.0:5568")));
}

TEST(InputExposureTest, GrpcServerBeyondLoopbackNeedsRequiredClientCerts) {
  v1::RouterConfig config;
  EXPECT_THAT(ExposedInputWarnings(config), IsEmpty());  // 127.0.0.1:5566

  config.mutable_admin()->set_listen_address("[::]:5566");
  EXPECT_THAT(ExposedInputWarnings(config),
              ElementsAre(HasSubstr("admin listens on [::]:5566")));
  // TLS alone encrypts; it does not decide who may publish.
  config.mutable_admin()->mutable_tls()->set_cert_file("c.pem");
  EXPECT_THAT(ExposedInputWarnings(config), ElementsAre(HasSubstr("admin")));
  config.mutable_admin()->mutable_tls()->set_require_client_cert(true);
  EXPECT_THAT(ExposedInputWarnings(config), IsEmpty());

  AddInput(&config, Zmq("tcp://*:5565"))->set_name("open_zmq");
  EXPECT_THAT(ExposedInputWarnings(config),
              ElementsAre(HasSubstr("(set curve to allow listed clients")));
}

}  // namespace
}  // namespace metlog
