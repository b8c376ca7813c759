// The Admin service in process, over a real gRPC server on 127.0.0.1.
#include "router/admin_service.h"

#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "proto/text_proto.h"

namespace metlog {
namespace {

class AdminServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    v1::RouterConfig config;
    ASSERT_TRUE(ParseTextProto(
                    "stats_interval_ms: 0\n"
                    "sinks { name: \"null\" options { "
                    "[type.googleapis.com/metlog.sinks.NullOptions] {} } }\n",
                    "test", &config)
                    .ok());
    auto router = Router::Create(config);
    ASSERT_TRUE(router.ok()) << router.status();
    router_ = *std::move(router);
    publish_ = std::make_unique<GrpcInput>(config.limits(), router_.get());
    service_ = std::make_unique<AdminService>(router_.get(), publish_.get(),
                                              [] { return absl::OkStatus(); });
    int port = 0;
    auto server =
        StartAdminServer("127.0.0.1:0", grpc::InsecureServerCredentials(),
                         service_.get(), &port);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = v1::Admin::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (service_ != nullptr) service_->SetDraining();
    if (server_ != nullptr) server_->Shutdown();
    if (router_ != nullptr) router_->Stop();
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
  std::unique_ptr<GrpcInput> publish_;
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

}  // namespace
}  // namespace metlog
