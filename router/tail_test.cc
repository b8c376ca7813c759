#include "router/tail.h"

#include <vector>

#include "gtest/gtest.h"
#include "sinks/message/shared_packet.h"

namespace metlog {
namespace {

// A message of many small fields: its parsed copy holds many times its
// wire size.
PacketRef DensePacket() {
  v1::Message message;
  message.set_type("dense");
  for (int i = 0; i < 5000; ++i) message.add_fields()->set_name("aaaaaaaa");
  absl::StatusOr<PacketRef> packet = SharedPacket::FromMessages({message});
  EXPECT_TRUE(packet.ok()) << packet.status();
  return *std::move(packet);
}

TEST(TailTest, BacklogMemoryStaysWithinMaxBytes) {
  // Charged by wire size, one stalled tail of such messages held 330 MB
  // for a bound of 16 MiB.
  absl::StatusOr<Matcher> matcher = Matcher::Compile("TRUE");
  ASSERT_TRUE(matcher.ok());
  TailBounds bounds;
  bounds.max_bytes = 4 << 20;
  Tail tail("TRUE", *std::move(matcher), bounds);
  const PacketRef packet = DensePacket();
  for (int i = 0; i < 100; ++i) tail.Offer(packet->View(0));

  const v1::TailStats stats = tail.Stats();
  EXPECT_EQ(stats.matched(), 100);
  EXPECT_GT(stats.queued(), 0);
  EXPECT_EQ(stats.queued() + stats.dropped(), 100);
  size_t held = 0;
  for (uint64_t i = 0; i < stats.queued(); ++i) {
    auto message = tail.Next(absl::ZeroDuration());
    ASSERT_TRUE(message.has_value());
    held += (*message)->SpaceUsedLong();
  }
  EXPECT_LE(held, bounds.max_bytes);
}

}  // namespace
}  // namespace metlog
