#include "router/input_exposure.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace metlog {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(InputExposureTest, OnlyUnprotectedInputsBeyondLoopbackAreNamed) {
  v1::RouterConfig config;
  config.add_inputs()->mutable_zmq()->set_endpoint("tcp://127.0.0.1:5565");
  config.add_inputs()->mutable_udp()->set_address("[::1]:5565");
  v1::InputConfig* signed_zmq = config.add_inputs();
  signed_zmq->mutable_zmq()->set_endpoint("tcp://0.0.0.0:5565");
  signed_zmq->set_require_signature(true);
  v1::InputConfig* curve_zmq = config.add_inputs();
  curve_zmq->mutable_zmq()->set_endpoint("tcp://0.0.0.0:5568");
  curve_zmq->mutable_zmq()->mutable_curve()->set_secret_key_file("k");
  config.mutable_admin()->set_listen_address("0.0.0.0:5566");
  config.mutable_admin()->mutable_tls()->set_require_client_cert(true);
  v1::InputConfig* connecting = config.add_inputs();
  connecting->mutable_zmq()->set_endpoint("tcp://10.0.0.1:5565");
  connecting->mutable_zmq()->set_bind(false);
  EXPECT_THAT(ExposedInputWarnings(config), IsEmpty());

  v1::InputConfig* open = config.add_inputs();
  open->set_name("open");
  open->mutable_heka()->set_address("0.0.0.0:5567");
  v1::InputConfig* statsd = config.add_inputs();
  statsd->set_name("statsd");
  statsd->mutable_statsd()->set_address("10.1.2.3:8125");
  statsd->set_require_signature(true);  // statsd lines carry none
  EXPECT_THAT(ExposedInputWarnings(config),
              ElementsAre(HasSubstr("input \"open\" listens on 0.0.0.0:5567"),
                          HasSubstr("input \"statsd\"")));
}

}  // namespace
}  // namespace metlog

namespace metlog {
namespace {

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

  v1::InputConfig* open_zmq = config.add_inputs();
  open_zmq->set_name("open_zmq");
  open_zmq->mutable_zmq()->set_endpoint("tcp://*:5565");
  EXPECT_THAT(ExposedInputWarnings(config),
              ElementsAre(HasSubstr("(set curve to allow listed clients")));
}

}  // namespace
}  // namespace metlog
