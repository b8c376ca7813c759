// The Admin service in process, over a real gRPC server on 127.0.0.1.
#include "router/admin_service.h"

#include <memory>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/text_proto.h"

namespace metlog {
namespace {

constexpr char kPublishOnAdminPort[] =
    "inputs { options { "
    "[type.googleapis.com/metlog.v1.GrpcPublishInputConfig] {} } }\n";

class AdminServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { Serve(kPublishOnAdminPort); }

  // Runs a router with `inputs` and a null sink, and its Admin service on
  // a free loopback port.
  void Serve(const std::string& inputs) {
    TearDown();
    v1::RouterConfig config;
    ASSERT_TRUE(
        ParseTextProto(
            absl::StrCat("stats_interval_ms: 0\n", inputs,
                         "sinks { name: \"null\" options { "
                         "[type.googleapis.com/metlog.sinks.NullOptions] {} } "
                         "}\n"),
            "test", &config)
            .ok());
    auto router = Router::Create(config);
    ASSERT_TRUE(router.ok()) << router.status();
    router_ = *std::move(router);
    service_ = std::make_unique<AdminService>(router_.get(),
                                              [] { return absl::OkStatus(); });
    int port = 0;
    auto server =
        StartAdminServer("127.0.0.1:0", grpc::InsecureServerCredentials(),
                         service_.get(), &port);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = Stub(absl::StrCat("127.0.0.1:", port));
  }

  static std::unique_ptr<v1::Admin::Stub> Stub(const std::string& address) {
    return v1::Admin::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  }

  // Publishes one message; the call's status, and its Ack in *ack.
  static grpc::Status PublishOne(v1::Admin::Stub& stub, v1::Ack* ack) {
    v1::Batch batch;
    batch.add_messages()->set_type("published");
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    return stub.Publish(&context, batch, ack);
  }

  void TearDown() override {
    if (service_ != nullptr) service_->SetDraining();
    if (server_ != nullptr) server_->Shutdown();
    if (router_ != nullptr) router_->Stop();
    server_.reset();
    service_.reset();
    router_.reset();
  }

  // Waits (up to a minute) until the router has `n` tails open.
  bool WaitForTails(int n) {
    const absl::Time give_up = absl::Now() + absl::Minutes(1);
    while (router_->Stats().tails_size() != n) {
      if (absl::Now() > give_up) return false;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return true;
  }

  struct OpenTail {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReader<v1::Message>> reader;
  };

  std::unique_ptr<OpenTail> StartTail() {
    auto tail = std::make_unique<OpenTail>();
    // Bounds the test if the server keeps a tail it should have refused.
    tail->context.set_deadline(
        absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    v1::TailRequest request;
    tail->reader = stub_->Tail(&tail->context, request);
    return tail;
  }

  std::unique_ptr<Router> router_;
  std::unique_ptr<AdminService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Admin::Stub> stub_;
};

TEST_F(AdminServiceTest, RefusesTailsBeyondTheLimitUntilOneCloses) {
  // Twelve stalled tails held 600 MB of backlogs.
  std::vector<std::unique_ptr<OpenTail>> tails;
  for (size_t i = 0; i < AdminService::kMaxTails; ++i) {
    tails.push_back(StartTail());
  }
  ASSERT_TRUE(WaitForTails(AdminService::kMaxTails));

  std::unique_ptr<OpenTail> extra = StartTail();
  v1::Message message;
  EXPECT_FALSE(extra->reader->Read(&message));
  EXPECT_EQ(extra->reader->Finish().error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);

  // A closed tail makes room for another.
  tails.back()->context.TryCancel();
  tails.back()->reader->Finish();
  tails.pop_back();
  ASSERT_TRUE(WaitForTails(AdminService::kMaxTails - 1));
  tails.push_back(StartTail());
  EXPECT_TRUE(WaitForTails(AdminService::kMaxTails));

  for (auto& tail : tails) {
    tail->context.TryCancel();
    tail->reader->Finish();
  }
}

TEST_F(AdminServiceTest, PublishGoesToTheInputServingItOnTheAdminPort) {
  v1::Ack ack;
  ASSERT_TRUE(PublishOne(*stub_, &ack).ok());
  EXPECT_EQ(ack.accepted(), 1u);
  const v1::StatsResponse stats = router_->Stats();
  ASSERT_EQ(stats.inputs_size(), 1);
  EXPECT_EQ(stats.inputs(0).name(), "grpc");
  EXPECT_EQ(stats.inputs(0).messages_accepted(), 1u);
}

TEST_F(AdminServiceTest, PublishIsUnimplementedWithoutAnInputServingIt) {
  Serve(
      "inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] { "
      "endpoint: 'tcp://127.0.0.1:*' } } }\n");
  v1::Ack ack;
  EXPECT_EQ(PublishOne(*stub_, &ack).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  grpc::ClientContext context;
  v1::HealthResponse health;
  EXPECT_TRUE(stub_->Health(&context, v1::HealthRequest(), &health).ok());
}

TEST_F(AdminServiceTest, PublishOnAPortOfItsOwnServesPublishAlone) {
  Serve(
      "inputs { name: 'public' options { "
      "[type.googleapis.com/metlog.v1.GrpcPublishInputConfig] { "
      "listen_address: '127.0.0.1:0' } } }\n");
  std::string address;
  for (const std::string& line : router_->InputAddresses()) {
    if (absl::StartsWith(line, "public ")) address = line.substr(7);
  }
  ASSERT_TRUE(absl::StartsWith(address, "127.0.0.1:")) << address;
  std::unique_ptr<v1::Admin::Stub> own = Stub(address);
  v1::Ack ack;
  ASSERT_TRUE(PublishOne(*own, &ack).ok());
  EXPECT_EQ(ack.accepted(), 1u);
  EXPECT_EQ(router_->Stats().inputs(0).messages_accepted(), 1u);
  // Reload, Tail, Stats and Health stay on the admin port only.
  grpc::ClientContext context;
  v1::HealthResponse health;
  EXPECT_EQ(own->Health(&context, v1::HealthRequest(), &health).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(PublishOne(*stub_, &ack).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(AdminServiceTest, PublishOnAPortInUseFailsTheRouter) {
  int port = 0;
  auto taken = StartAdminServer(
      "127.0.0.1:0", grpc::InsecureServerCredentials(), service_.get(), &port);
  ASSERT_TRUE(taken.ok()) << taken.status();
  v1::RouterConfig config;
  ASSERT_TRUE(
      ParseTextProto(absl::StrCat("inputs { options { "
                                  "[type.googleapis.com/metlog.v1."
                                  "GrpcPublishInputConfig] { listen_address: "
                                  "'127.0.0.1:",
                                  port, "' } } }"),
                     "test", &config)
          .ok());
  const auto router = Router::Create(config);
  EXPECT_FALSE(router.ok());
  EXPECT_THAT(std::string(router.status().message()),
              ::testing::HasSubstr("gRPC Publish cannot listen on"));
  (*taken)->Shutdown();
}

TEST_F(AdminServiceTest, PublishIsUnavailableOnceTheRouterStops) {
  router_->Stop();
  v1::Ack ack;
  EXPECT_EQ(PublishOne(*stub_, &ack).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace metlog
