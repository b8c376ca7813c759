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
