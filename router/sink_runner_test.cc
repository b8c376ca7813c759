#include "router/sink_runner.h"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sinks/message/message_batch.h"

namespace metlog {
namespace {

// A sink that records what it is given and can be made slow or failing.
class RecordingSink : public Sink {
 public:
  struct State {
    absl::Mutex mu;
    std::vector<std::string> payloads ABSL_GUARDED_BY(mu);
    std::vector<size_t> batch_sizes ABSL_GUARDED_BY(mu);
    int transient_failures ABSL_GUARDED_BY(mu) = 0;
    bool permanent_failure ABSL_GUARDED_BY(mu) = false;
    absl::Duration delay ABSL_GUARDED_BY(mu);
    bool stopped ABSL_GUARDED_BY(mu) = false;
    // When each Write had to return by.
    std::vector<absl::Duration> time_allowed ABSL_GUARDED_BY(mu);
    // When each Write was called.
    std::vector<absl::Time> called_at ABSL_GUARDED_BY(mu);
    // The wait the transient failures ask for (as Sentry's 429 does).
    absl::Duration retry_delay ABSL_GUARDED_BY(mu);
  };

  explicit RecordingSink(std::shared_ptr<State> state) : state_(state) {}

  absl::Status Write(absl::Span<const MessageView> batch,
                     absl::Time deadline) override {
    absl::Duration delay;
    {
      absl::MutexLock lock(&state_->mu);
      state_->time_allowed.push_back(deadline - absl::Now());
      state_->called_at.push_back(absl::Now());
      delay = state_->delay;
      if (state_->permanent_failure) {
        return absl::InvalidArgumentError("rejected");
      }
      if (state_->transient_failures > 0) {
        --state_->transient_failures;
        return TransientError("busy", state_->retry_delay);
      }
    }
    absl::SleepFor(delay);
    absl::MutexLock lock(&state_->mu);
    state_->batch_sizes.push_back(batch.size());
    for (const MessageView& m : batch)
      state_->payloads.push_back(m.message().payload());
    return absl::OkStatus();
  }

  void Stop() override {
    absl::MutexLock lock(&state_->mu);
    state_->stopped = true;
  }

 private:
  std::shared_ptr<State> state_;
};

v1::Message Message(int i) {
  v1::Message m;
  m.set_payload(absl::StrCat(i));
  return m;
}

// Hands the runner these messages as the router does: one packet
// reference each.
uint64_t Enqueue(SinkRunner& runner, absl::Span<const MessageView> messages) {
  for (const MessageView& message : messages)
    SharedPacket::Of(message)->Retain(1);
  return runner.Enqueue(messages);
}

// The same for messages made here, as one packet.
uint64_t Enqueue(SinkRunner& runner, const std::vector<v1::Message>& messages) {
  return Enqueue(runner, MessageBatch(messages).views());
}

// A packet of `size` messages.
MessageBatch Packet(int size) {
  std::vector<v1::Message> messages;
  for (int i = 0; i < size; ++i) messages.push_back(Message(i));
  return MessageBatch(messages);
}

v1::QueueConfig Queue(uint32_t capacity, v1::QueueConfig::Overflow overflow) {
  v1::QueueConfig queue;
  queue.set_capacity_messages(capacity);
  queue.set_overflow(overflow);
  queue.set_max_batch_messages(10);
  queue.set_flush_interval_ms(1);
  return queue;
}

RetryPolicy FastRetry() {
  RetryPolicy retry;
  retry.initial_backoff = absl::Milliseconds(1);
  retry.max_backoff = absl::Milliseconds(5);
  return retry;
}

void ExpectBalanced(const SinkRunnerStats& s) {
  EXPECT_EQ(s.received,
            s.delivered + s.dropped_total() + s.queued + s.in_flight)
      << "received " << s.received << " delivered " << s.delivered
      << " dropped " << s.dropped_total() << " queued " << s.queued
      << " in flight " << s.in_flight;
}

// A runner whose sink is stuck writing a first message for `stuck`, so
// what is enqueued next stays queued while the test looks.
std::unique_ptr<SinkRunner> StuckRunner(uint64_t capacity_bytes,
                                        v1::QueueConfig::Overflow overflow,
                                        absl::Duration stuck) {
  auto state = std::make_shared<RecordingSink::State>();
  {
    absl::MutexLock lock(&state->mu);
    state->delay = stuck;
  }
  v1::QueueConfig queue = Queue(100000, overflow);
  queue.set_capacity_bytes(capacity_bytes);
  auto runner = std::make_unique<SinkRunner>(
      "stuck", std::make_unique<RecordingSink>(state), queue, FastRetry());
  if (!runner->Start().ok()) std::abort();
  Enqueue(*runner, {Message(0)});
  while (runner->Stats().in_flight == 0) absl::SleepFor(absl::Milliseconds(1));
  return runner;
}

TEST(SinkRunnerTest, CapacityBytesChargesEachPacketOnceForAllItHolds) {
  const MessageBatch sizing = Packet(100);
  const uint64_t footprint = SharedPacket::Of(sizing[0])->footprint();
  ASSERT_GT(footprint, 100 * sizing[0].wire().bytes.size());
  auto runner = StuckRunner(footprint * 5 / 2, v1::QueueConfig::DROP_NEWEST,
                            absl::Milliseconds(300));
  // One message from each of four packets: each pins its whole packet, so
  // only two fit in two and a half packets' worth.
  std::vector<MessageBatch> packets;
  for (int i = 0; i < 4; ++i) packets.push_back(Packet(100));
  uint64_t dropped = 0;
  for (const MessageBatch& packet : packets) {
    dropped += Enqueue(*runner, packet.views().subspan(0, 1));
  }
  EXPECT_EQ(dropped, 2u);
  EXPECT_EQ(runner->Stats().queued, 2u);
  EXPECT_EQ(runner->Stats().queued_bytes, 2 * footprint);
  runner->Stop(absl::Now() + absl::Seconds(5));
  ExpectBalanced(runner->Stats());
}

TEST(SinkRunnerTest, AWholePacketIsChargedOnceAndUntilItsLastMessageGoes) {
  const MessageBatch first = Packet(100), second = Packet(100);
  const uint64_t footprint = SharedPacket::Of(first[0])->footprint();
  auto runner = StuckRunner(footprint * 3 / 2, v1::QueueConfig::DROP_OLDEST,
                            absl::Milliseconds(300));
  EXPECT_EQ(Enqueue(*runner, first.views()), 0u);
  EXPECT_EQ(runner->Stats().queued_bytes, footprint);
  // Room for the second packet comes only once all of the first is gone.
  EXPECT_EQ(Enqueue(*runner, second.views().subspan(0, 1)), 100u);
  const SinkRunnerStats stats = runner->Stats();
  EXPECT_EQ(stats.dropped.at("overwritten"), 100u);
  EXPECT_EQ(stats.queued, 1u);
  EXPECT_EQ(stats.queued_bytes, SharedPacket::Of(second[0])->footprint());
  runner->Stop(absl::Now() + absl::Seconds(5));
  ExpectBalanced(runner->Stats());
}

TEST(SinkRunnerTest, DeliversEverythingInOrderInBoundedBatches) {
  auto state = std::make_shared<RecordingSink::State>();
  SinkRunner runner("rec", std::make_unique<RecordingSink>(state),
                    Queue(1000, v1::QueueConfig::DROP_NEWEST), FastRetry());
  ASSERT_TRUE(runner.Start().ok());
  for (int i = 0; i < 95; ++i) Enqueue(runner, {Message(i)});
  EXPECT_EQ(runner.Stop(absl::Now() + absl::Seconds(5)), 0u);
  const SinkRunnerStats stats = runner.Stats();
  EXPECT_EQ(stats.received, 95u);
  EXPECT_EQ(stats.delivered, 95u);
  absl::MutexLock lock(&state->mu);
  ASSERT_EQ(state->payloads.size(), 95u);
  for (int i = 0; i < 95; ++i) EXPECT_EQ(state->payloads[i], absl::StrCat(i));
  for (size_t size : state->batch_sizes) EXPECT_LE(size, 10u);
  EXPECT_TRUE(state->stopped);
}

TEST(SinkRunnerTest, DropNewestUnderOverloadBalancesAtEveryMoment) {
  auto state = std::make_shared<RecordingSink::State>();
  {
    absl::MutexLock lock(&state->mu);
    state->delay = absl::Milliseconds(2);
  }
  SinkRunner runner("slow", std::make_unique<RecordingSink>(state),
                    Queue(50, v1::QueueConfig::DROP_NEWEST), FastRetry());
  ASSERT_TRUE(runner.Start().ok());
  uint64_t dropped_by_enqueue = 0;
  for (int i = 0; i < 5000; ++i) {
    dropped_by_enqueue += Enqueue(runner, {Message(i)});
    if (i % 100 == 0) ExpectBalanced(runner.Stats());
  }
  const SinkRunnerStats during = runner.Stats();
  EXPECT_LE(during.queued, 50u);
  EXPECT_GT(during.dropped.at("queue_full"), 0u);
  EXPECT_EQ(during.dropped.at("queue_full"), dropped_by_enqueue);
  runner.Stop(absl::Now() + absl::Seconds(10));
  const SinkRunnerStats after = runner.Stats();
  ExpectBalanced(after);
  EXPECT_EQ(after.received, 5000u);
  EXPECT_EQ(after.delivered + after.dropped_total(), 5000u);
  absl::MutexLock lock(&state->mu);
  EXPECT_EQ(state->payloads.size(), after.delivered);
  EXPECT_EQ(state->payloads.front(), "0");  // the oldest survive
}

TEST(SinkRunnerTest, DropOldestKeepsTheNewest) {
  auto state = std::make_shared<RecordingSink::State>();
  {
    absl::MutexLock lock(&state->mu);
    state->delay = absl::Milliseconds(2);
  }
  SinkRunner runner("slow", std::make_unique<RecordingSink>(state),
                    Queue(20, v1::QueueConfig::DROP_OLDEST), FastRetry());
  ASSERT_TRUE(runner.Start().ok());
  for (int i = 0; i < 2000; ++i) Enqueue(runner, {Message(i)});
  runner.Stop(absl::Now() + absl::Seconds(10));
  const SinkRunnerStats stats = runner.Stats();
  ExpectBalanced(stats);
  EXPECT_GT(stats.dropped.at("overwritten"), 0u);
  absl::MutexLock lock(&state->mu);
  EXPECT_EQ(state->payloads.back(), "1999");
}

TEST(SinkRunnerTest, BlockLosesNothingAndHoldsTheProducer) {
  auto state = std::make_shared<RecordingSink::State>();
  {
    absl::MutexLock lock(&state->mu);
    state->delay = absl::Milliseconds(1);
  }
  SinkRunner runner("slow", std::make_unique<RecordingSink>(state),
                    Queue(10, v1::QueueConfig::BLOCK), FastRetry());
  ASSERT_TRUE(runner.Start().ok());
  uint64_t dropped = 0;
  for (int i = 0; i < 500; ++i) {
    dropped += Enqueue(runner, {Message(i)});
    EXPECT_LE(runner.Stats().queued, 10u);
  }
  EXPECT_EQ(dropped, 0u);
  runner.Stop(absl::Now() + absl::Seconds(10));
  EXPECT_EQ(runner.Stats().delivered, 500u);
}

TEST(SinkRunnerTest, TransientErrorsAreRetriedUntilDelivered) {
  auto state = std::make_shared<RecordingSink::State>();
  {
    absl::MutexLock lock(&state->mu);
    state->transient_failures = 3;
  }
  SinkRunner runner("flaky", std::make_unique<RecordingSink>(state),
                    Queue(100, v1::QueueConfig::DROP_NEWEST), FastRetry());
  ASSERT_TRUE(runner.Start().ok());
  Enqueue(runner, {Message(1), Message(2)});
  runner.Stop(absl::Now() + absl::Seconds(5));
  const SinkRunnerStats stats = runner.Stats();
  EXPECT_EQ(stats.delivered, 2u);
  EXPECT_EQ(stats.write_errors, 3u);
  EXPECT_EQ(stats.dropped_total(), 0u);
}

TEST(SinkRunnerTest, ARetryWaitsAtLeastTheDelayTheSinkAskedFor) {
  auto state = std::make_shared<RecordingSink::State>();
  {
    absl::MutexLock lock(&state->mu);
    state->transient_failures = 1;
    state->retry_delay = absl::Milliseconds(300);
  }
  SinkRunner runner("rate_limited", std::make_unique<RecordingSink>(state),
                    Queue(100, v1::QueueConfig::DROP_NEWEST), FastRetry());
  ASSERT_TRUE(runner.Start().ok());
  Enqueue(runner, {Message(1)});
  runner.Stop(absl::Now() + absl::Seconds(5));
  EXPECT_EQ(runner.Stats().delivered, 1u);
  absl::MutexLock lock(&state->mu);
  ASSERT_EQ(state->called_at.size(), 2u);
  EXPECT_GE(state->called_at[1] - state->called_at[0], absl::Milliseconds(300));
}

TEST(SinkRunnerTest, PermanentErrorsDropTheBatchWithAReason) {
  auto state = std::make_shared<RecordingSink::State>();
  {
    absl::MutexLock lock(&state->mu);
    state->permanent_failure = true;
  }
  SinkRunner runner("broken", std::make_unique<RecordingSink>(state),
                    Queue(100, v1::QueueConfig::DROP_NEWEST), FastRetry());
  ASSERT_TRUE(runner.Start().ok());
  Enqueue(runner, {Message(1), Message(2), Message(3)});
  runner.Stop(absl::Now() + absl::Seconds(5));
  const SinkRunnerStats stats = runner.Stats();
  EXPECT_EQ(stats.dropped.at("permanent_error"), 3u);
  ExpectBalanced(stats);
}

TEST(SinkRunnerTest, ShutdownDeadlineCountsWhatIsLeft) {
  auto state = std::make_shared<RecordingSink::State>();
  {
    absl::MutexLock lock(&state->mu);
    state->transient_failures = 1000000;  // the back end never recovers
  }
  SinkRunner runner("down", std::make_unique<RecordingSink>(state),
                    Queue(100, v1::QueueConfig::DROP_NEWEST), FastRetry());
  ASSERT_TRUE(runner.Start().ok());
  for (int i = 0; i < 30; ++i) Enqueue(runner, {Message(i)});
  const uint64_t lost = runner.Stop(absl::Now() + absl::Milliseconds(200));
  EXPECT_EQ(lost, 30u);
  const SinkRunnerStats stats = runner.Stats();
  EXPECT_EQ(stats.dropped.at("shutdown"), 30u);
  ExpectBalanced(stats);
  // After Stop nothing more is accepted, and that is counted too.
  EXPECT_EQ(Enqueue(runner, {Message(99)}), 1u);
  ExpectBalanced(runner.Stats());
}

// A sink whose writes wait until the test lets them through, or until
// Cancel; counting what it is given without keeping it.
class GatedSink : public Sink {
 public:
  struct State {
    absl::Mutex mu;
    int allowed ABSL_GUARDED_BY(mu) = 0;  // writes that may complete
    int started ABSL_GUARDED_BY(mu) = 0;
    bool cancelled ABSL_GUARDED_BY(mu) = false;
    uint64_t written ABSL_GUARDED_BY(mu) = 0;
  };
  explicit GatedSink(std::shared_ptr<State> state) : state_(state) {}

  absl::Status Write(absl::Span<const MessageView> batch,
                     absl::Time /*deadline*/) override {
    absl::MutexLock lock(&state_->mu);
    ++state_->started;
    auto open = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_->mu) {
      return state_->allowed > 0 || state_->cancelled;
    };
    state_->mu.Await(absl::Condition(&open));
    if (state_->cancelled) return TransientError("cancelled");
    --state_->allowed;
    state_->written += batch.size();
    return absl::OkStatus();
  }
  void Cancel() override {
    absl::MutexLock lock(&state_->mu);
    state_->cancelled = true;
  }

 private:
  std::shared_ptr<State> state_;
};

void Allow(GatedSink::State& state, int writes) {
  absl::MutexLock lock(&state.mu);
  state.allowed += writes;
}

void AwaitWritesStarted(GatedSink::State& state, int writes) {
  absl::MutexLock lock(&state.mu);
  auto started = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state.mu) {
    return state.started >= writes;
  };
  state.mu.Await(absl::Condition(&started));
}

// Waits (up to a minute) until `done` holds for the runner's stats.
template <typename Predicate>
SinkRunnerStats AwaitStats(const SinkRunner& runner, Predicate done) {
  const absl::Time give_up = absl::Now() + absl::Minutes(1);
  SinkRunnerStats stats = runner.Stats();
  while (!done(stats) && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
    stats = runner.Stats();
  }
  return stats;
}

TEST(SinkRunnerTest, AByteCappedQueueWritesBeforeItFillsAndDropsNothing) {
  // The shape: capacity_bytes 16 MiB, 20 KB messages arriving at
  // 100 MB/s, an idle sink, default batching (1000 messages, 100 ms). 1000
  // such messages can never fit, so the runner must not wait for them.
  auto state = std::make_shared<GatedSink::State>();
  Allow(*state, 1 << 30);
  v1::QueueConfig queue;
  queue.set_capacity_bytes(16 << 20);
  SinkRunner runner("bytes", std::make_unique<GatedSink>(state), queue,
                    FastRetry());
  ASSERT_TRUE(runner.Start().ok());
  v1::Message big;
  big.set_payload(std::string(20000, 'x'));
  constexpr int kMessages = 5000;
  uint64_t dropped = 0;
  for (int i = 0; i < kMessages; ++i) {
    dropped += Enqueue(runner, {big});
    absl::SleepFor(absl::Microseconds(200));  // 100 MB/s
  }
  EXPECT_EQ(dropped, 0u);
  runner.Stop(absl::Now() + absl::Seconds(10));
  const SinkRunnerStats stats = runner.Stats();
  EXPECT_EQ(stats.delivered, kMessages);
  ExpectBalanced(stats);
}

TEST(SinkRunnerTest, StatsBalanceWhileAnInputWaitsOnABlockQueue) {
  auto state = std::make_shared<GatedSink::State>();
  v1::QueueConfig queue = Queue(2, v1::QueueConfig::BLOCK);
  SinkRunner runner("block", std::make_unique<GatedSink>(state), queue,
                    FastRetry());
  ASSERT_TRUE(runner.Start().ok());
  Enqueue(runner, {Message(0)});
  AwaitWritesStarted(*state, 1);  // the sink holds the first message
  std::thread input([&runner] {
    for (int i = 1; i <= 5; ++i) Enqueue(runner, {Message(i)});
  });
  // Whether or not the input is waiting yet, the stats must balance.
  AwaitStats(runner, [](const SinkRunnerStats& s) { return s.queued == 2; });
  absl::SleepFor(absl::Milliseconds(100));
  ExpectBalanced(runner.Stats());
  EXPECT_EQ(runner.Stats().received, 3u);  // the waiting one is not yet
  Allow(*state, 100);
  input.join();
  runner.Stop(absl::Now() + absl::Seconds(10));
  EXPECT_EQ(runner.Stats().delivered, 6u);
  ExpectBalanced(runner.Stats());
}

TEST(SinkRunnerTest, QueuedBytesChargeThePacketAsTheQueueIsAfterABlockWait) {
  auto state = std::make_shared<GatedSink::State>();
  SinkRunner runner("block", std::make_unique<GatedSink>(state),
                    Queue(1, v1::QueueConfig::BLOCK), FastRetry());
  ASSERT_TRUE(runner.Start().ok());
  Enqueue(runner, {Message(0)});
  AwaitWritesStarted(*state, 1);
  // Two messages of one packet into a queue of one: the second waits until
  // the runner has taken the first, which carried the packet's charge.
  const MessageBatch packet = Packet(2);
  std::thread input([&] { Enqueue(runner, packet.views()); });
  AwaitStats(runner, [](const SinkRunnerStats& s) { return s.queued == 1; });
  Allow(*state, 1);               // the first write ends
  AwaitWritesStarted(*state, 2);  // the second holds the packet's first
  const SinkRunnerStats stats =
      AwaitStats(runner, [](const SinkRunnerStats& s) {
        return s.queued == 1 && s.in_flight == 1;
      });
  input.join();
  EXPECT_EQ(stats.queued, 1u);
  EXPECT_EQ(runner.Stats().queued_bytes,
            SharedPacket::Of(packet[0])->footprint());
  Allow(*state, 100);
  runner.Stop(absl::Now() + absl::Seconds(10));
  ExpectBalanced(runner.Stats());
}

TEST(SinkRunnerTest, DropOldestChargesThePacketOnceItHasMadeRoom) {
  auto state = std::make_shared<GatedSink::State>();
  SinkRunner runner("oldest", std::make_unique<GatedSink>(state),
                    Queue(1, v1::QueueConfig::DROP_OLDEST), FastRetry());
  ASSERT_TRUE(runner.Start().ok());
  Enqueue(runner, {Message(0)});
  AwaitWritesStarted(*state, 1);
  // The second message pops the first, which carried the packet's charge.
  const MessageBatch packet = Packet(2);
  EXPECT_EQ(Enqueue(runner, packet.views()), 1u);
  const SinkRunnerStats stats = runner.Stats();
  EXPECT_EQ(stats.queued, 1u);
  EXPECT_EQ(stats.queued_bytes, SharedPacket::Of(packet[0])->footprint());
  Allow(*state, 100);
  runner.Stop(absl::Now() + absl::Seconds(10));
  ExpectBalanced(runner.Stats());
}

TEST(SinkRunnerTest, TransientErrorsAreRetriedForMaxRetryDurationThenDropped) {
  auto state = std::make_shared<RecordingSink::State>();
  {
    absl::MutexLock lock(&state->mu);
    state->transient_failures = 1 << 30;  // the back end never recovers
  }
  v1::QueueConfig queue = Queue(100, v1::QueueConfig::DROP_NEWEST);
  queue.set_max_retry_duration_ms(50);
  SinkRunner runner("down", std::make_unique<RecordingSink>(state), queue,
                    FastRetry());
  ASSERT_TRUE(runner.Start().ok());
  Enqueue(runner, {Message(1), Message(2), Message(3)});
  const SinkRunnerStats stats = AwaitStats(runner, [](const auto& s) {
    return s.dropped.count("retry_exhausted") > 0;
  });
  ASSERT_EQ(stats.dropped.count("retry_exhausted"), 1u);
  EXPECT_EQ(stats.dropped.at("retry_exhausted"), 3u);
  EXPECT_GT(stats.write_errors, 1u);  // it did retry
  // The sink is not stalled: once the back end is back, new messages go.
  {
    absl::MutexLock lock(&state->mu);
    state->transient_failures = 0;
  }
  Enqueue(runner, {Message(4)});
  runner.Stop(absl::Now() + absl::Seconds(10));
  EXPECT_EQ(runner.Stats().delivered, 1u);
  ExpectBalanced(runner.Stats());
}

TEST(SinkRunnerTest, EachWriteIsGivenTheWriteTimeout) {
  auto state = std::make_shared<RecordingSink::State>();
  v1::QueueConfig queue = Queue(100, v1::QueueConfig::DROP_NEWEST);
  queue.set_write_timeout_ms(1500);
  SinkRunner runner("timed", std::make_unique<RecordingSink>(state), queue,
                    FastRetry());
  ASSERT_TRUE(runner.Start().ok());
  Enqueue(runner, {Message(1)});
  runner.Stop(absl::Now() + absl::Seconds(10));
  absl::MutexLock lock(&state->mu);
  ASSERT_EQ(state->time_allowed.size(), 1u);
  EXPECT_LE(state->time_allowed[0], absl::Milliseconds(1500));
  EXPECT_GT(state->time_allowed[0], absl::ZeroDuration());
}

TEST(SinkRunnerTest, StopCancelsAWriteThatWouldOutliveTheDeadline) {
  // A back end that accepts and never answers: the write began before the
  // shutdown, with the whole write timeout ahead of it.
  auto state = std::make_shared<GatedSink::State>();
  v1::QueueConfig queue = Queue(100, v1::QueueConfig::DROP_NEWEST);
  queue.set_write_timeout_ms(3600 * 1000);
  SinkRunner runner("stuck", std::make_unique<GatedSink>(state), queue,
                    FastRetry());
  ASSERT_TRUE(runner.Start().ok());
  Enqueue(runner, {Message(1), Message(2)});
  AwaitWritesStarted(*state, 1);
  EXPECT_EQ(runner.Stop(absl::Now() + absl::Milliseconds(100)), 2u);
  const SinkRunnerStats stats = runner.Stats();
  EXPECT_EQ(stats.dropped.at("shutdown"), 2u);
  ExpectBalanced(stats);
}

TEST(SinkRunnerTest, ABlockedInputIsReleasedByTheShutdownDeadline) {
  // A BLOCK sink whose back end is down: an input waits for room that the
  // runner, retrying, does not make.
  auto state = std::make_shared<RecordingSink::State>();
  {
    absl::MutexLock lock(&state->mu);
    state->transient_failures = 1 << 30;
  }
  SinkRunner runner("down", std::make_unique<RecordingSink>(state),
                    Queue(2, v1::QueueConfig::BLOCK), FastRetry());
  ASSERT_TRUE(runner.Start().ok());
  std::atomic<bool> input_done{false};
  std::thread input([&] {
    for (int i = 0; i < 10; ++i) Enqueue(runner, {Message(i)});
    input_done = true;
  });
  AwaitStats(runner, [](const SinkRunnerStats& s) {
    return s.queued == 2 && s.in_flight > 0;
  });
  EXPECT_FALSE(input_done);
  // What Router::Stop does before it joins its inputs.
  runner.BeginShutdown(absl::Now() + absl::Milliseconds(200));
  input.join();
  runner.Stop(absl::Now());
  const SinkRunnerStats stats = runner.Stats();
  EXPECT_EQ(stats.received, 10u);
  EXPECT_EQ(stats.dropped.at("shutdown"), 10u - stats.delivered);
  ExpectBalanced(stats);
}

// Overflow DISK: a fresh buffer directory under the test's temporary one.
v1::QueueConfig DiskQueue(const std::string& name, uint32_t capacity) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir =
      absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/disk_", name);
  std::filesystem::remove_all(dir);
  v1::QueueConfig queue = Queue(capacity, v1::QueueConfig::DISK);
  queue.mutable_disk()->set_dir(dir);
  queue.mutable_disk()->set_max_segment_bytes(4096);
  queue.mutable_disk()->set_max_total_bytes(1 << 20);
  queue.mutable_disk()->set_fsync(v1::DiskBufferConfig::NEVER);
  return queue;
}

// Waits (bounded) until the sink has been given `count` messages.
void AwaitPayloads(RecordingSink::State& state, size_t count) {
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (absl::Now() < give_up) {
    {
      absl::MutexLock lock(&state.mu);
      if (state.payloads.size() >= count) return;
    }
    absl::SleepFor(absl::Milliseconds(2));
  }
}

std::vector<std::string> Numbers(int count) {
  std::vector<std::string> numbers;
  for (int i = 0; i < count; ++i) numbers.push_back(absl::StrCat(i));
  return numbers;
}

TEST(SinkRunnerDiskTest, OverflowGoesToDiskAndIsDeliveredInOrder) {
  auto state = std::make_shared<RecordingSink::State>();
  {
    absl::MutexLock lock(&state->mu);
    state->delay = absl::Milliseconds(5);
  }
  SinkRunner runner("disk", std::make_unique<RecordingSink>(state),
                    DiskQueue("in_order", 5));
  ASSERT_TRUE(runner.Start().ok());
  uint64_t dropped = 0;
  for (int i = 0; i < 300; ++i) dropped += Enqueue(runner, {Message(i)});
  EXPECT_EQ(dropped, 0u);
  SinkRunnerStats stats = runner.Stats();
  ExpectBalanced(stats);
  EXPECT_TRUE(stats.has_disk);
  EXPECT_GT(stats.disk.records_on_disk, 0u);  // a 5-message memory queue

  AwaitPayloads(*state, 300);
  runner.Stop(absl::Now() + absl::Seconds(5));
  stats = runner.Stats();
  EXPECT_EQ(stats.delivered, 300u);
  EXPECT_EQ(stats.dropped_total(), 0u);
  ExpectBalanced(stats);
  EXPECT_EQ(stats.disk.records_on_disk, 0u);
  absl::MutexLock lock(&state->mu);
  EXPECT_THAT(state->payloads, ::testing::ElementsAreArray(Numbers(300)));
}

TEST(SinkRunnerDiskTest, StopKeepsWhatIsLeftOnDiskAndTheNextStartReplaysIt) {
  const v1::QueueConfig queue = DiskQueue("replay", 5);
  {
    auto down = std::make_shared<RecordingSink::State>();
    {
      absl::MutexLock lock(&down->mu);
      down->transient_failures = 1 << 30;  // a back end that is down
    }
    SinkRunner runner("disk", std::make_unique<RecordingSink>(down), queue,
                      FastRetry());
    ASSERT_TRUE(runner.Start().ok());
    for (int i = 0; i < 50; ++i) EXPECT_EQ(Enqueue(runner, {Message(i)}), 0u);
    EXPECT_EQ(runner.Stop(absl::Now() + absl::Milliseconds(50)), 0u);
    const SinkRunnerStats stats = runner.Stats();
    EXPECT_EQ(stats.dropped_total(), 0u);
    EXPECT_EQ(stats.queued, 50u);  // all of them on disk
    EXPECT_EQ(stats.disk.records_on_disk, 50u);
    ExpectBalanced(stats);
  }
  auto up = std::make_shared<RecordingSink::State>();
  SinkRunner runner("disk", std::make_unique<RecordingSink>(up), queue);
  ASSERT_TRUE(runner.Start().ok());
  AwaitPayloads(*up, 50);
  runner.Stop(absl::Now() + absl::Seconds(5));
  const SinkRunnerStats stats = runner.Stats();
  EXPECT_EQ(stats.received, 50u);
  EXPECT_EQ(stats.delivered, 50u);
  EXPECT_EQ(stats.disk.replayed, 50u);
  ExpectBalanced(stats);
  absl::MutexLock lock(&up->mu);
  EXPECT_THAT(up->payloads, ::testing::UnorderedElementsAreArray(Numbers(50)));
}

TEST(SinkRunnerDiskTest, WriteThroughPutsEveryMessageOnDiskBeforeAccepting) {
  auto state = std::make_shared<RecordingSink::State>();
  {
    absl::MutexLock lock(&state->mu);
    state->transient_failures = 1 << 30;  // nothing leaves the disk
  }
  v1::QueueConfig queue = DiskQueue("write_through", 1000);
  queue.mutable_disk()->set_write_through(true);
  SinkRunner runner("disk", std::make_unique<RecordingSink>(state), queue,
                    FastRetry());
  ASSERT_TRUE(runner.Start().ok());
  EXPECT_EQ(Enqueue(runner, Packet(20).views()), 0u);
  // The memory queue has room, yet every message was written.
  const SinkRunnerStats stats = runner.Stats();
  EXPECT_EQ(stats.disk.records_on_disk, 20u);
  EXPECT_EQ(stats.queued_bytes, 0u);
  ExpectBalanced(stats);
  runner.Stop(absl::Now() + absl::Milliseconds(20));
}

TEST(SinkRunnerDiskTest, ARetryingSinkStillFsyncsItsBufferOnTheInterval) {
  auto state = std::make_shared<RecordingSink::State>();
  {
    absl::MutexLock lock(&state->mu);
    state->transient_failures = 1 << 30;  // nothing leaves the disk
  }
  v1::QueueConfig queue = DiskQueue("idle_sync", 1000);
  queue.mutable_disk()->set_write_through(true);
  queue.mutable_disk()->set_fsync(v1::DiskBufferConfig::INTERVAL);
  queue.mutable_disk()->set_fsync_interval_ms(200);
  SinkRunner runner("disk", std::make_unique<RecordingSink>(state), queue,
                    FastRetry());
  ASSERT_TRUE(runner.Start().ok());
  EXPECT_EQ(Enqueue(runner, Packet(5).views()), 0u);
  // The append itself synced nothing (the interval had not passed); the
  // runner's timer does, between its retries.
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (runner.Stats().disk.syncs == 0 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_GT(runner.Stats().disk.syncs, 0u);
  runner.Stop(absl::Now() + absl::Milliseconds(20));
}

TEST(SinkRunnerDiskTest, AFullBufferThatRefusesNewCountsWhatItRefused) {
  auto state = std::make_shared<RecordingSink::State>();
  {
    absl::MutexLock lock(&state->mu);
    state->transient_failures = 1 << 30;
  }
  v1::QueueConfig queue = DiskQueue("refuse", 5);
  queue.mutable_disk()->set_max_total_bytes(8192);
  queue.mutable_disk()->set_full_action(v1::DiskBufferConfig::REFUSE_NEW);
  SinkRunner runner("disk", std::make_unique<RecordingSink>(state), queue,
                    FastRetry());
  ASSERT_TRUE(runner.Start().ok());
  v1::Message big = Message(0);
  big.set_payload(std::string(1000, 'x'));
  uint64_t dropped = 0;
  for (int i = 0; i < 30; ++i) dropped += Enqueue(runner, {big});
  const SinkRunnerStats stats = runner.Stats();
  EXPECT_GT(dropped, 0u);
  EXPECT_EQ(stats.dropped.at("disk_full"), dropped);
  ExpectBalanced(stats);
  runner.Stop(absl::Now() + absl::Milliseconds(20));
  ExpectBalanced(runner.Stats());
}

TEST(SinkRunnerDiskTest, AnUnusableDirectoryKeepsTheSinkServingAndIsRetried) {
  const v1::QueueConfig base = DiskQueue("unusable", 5);
  // A file where the buffer's parent directory should be.
  const std::string parent = base.disk().dir();
  std::ofstream(parent) << "x";
  v1::QueueConfig queue = base;
  queue.mutable_disk()->set_dir(parent + "/buffer");
  auto state = std::make_shared<RecordingSink::State>();
  {
    absl::MutexLock lock(&state->mu);
    state->delay = absl::Milliseconds(20);  // the memory queue overflows
  }
  SinkRunner runner("disk", std::make_unique<RecordingSink>(state), queue);
  ASSERT_TRUE(runner.Start().ok());
  SinkRunnerStats stats = runner.Stats();
  EXPECT_THAT(stats.disk_unavailable,
              ::testing::HasSubstr("sink \"disk\": disk buffer"));
  uint64_t dropped = 0;
  for (int i = 0; i < 100; ++i) dropped += Enqueue(runner, {Message(i)});
  stats = runner.Stats();
  // The memory queue kept working; only what would go to disk is dropped.
  EXPECT_GT(dropped, 0u);
  EXPECT_LT(dropped, 100u);
  EXPECT_EQ(stats.dropped.at("disk_unavailable"), dropped);
  ExpectBalanced(stats);

  // The directory becomes usable: the runner's retry opens it, and
  // overflow goes to disk again.
  std::filesystem::remove(parent);
  std::filesystem::create_directory(parent);
  stats = AwaitStats(runner, [](const SinkRunnerStats& s) {
    return s.disk_unavailable.empty();
  });
  ASSERT_TRUE(stats.disk_unavailable.empty());
  for (int i = 100; i < 200; ++i) {
    EXPECT_EQ(Enqueue(runner, {Message(i)}), 0u);
  }
  EXPECT_GT(runner.Stats().disk.appended, 0u);
  AwaitPayloads(*state, 200 - dropped);
  runner.Stop(absl::Now() + absl::Seconds(5));
  stats = runner.Stats();
  EXPECT_EQ(stats.delivered, 200 - dropped);
  ExpectBalanced(stats);

  queue.mutable_disk()->clear_dir();
  SinkRunner no_dir(
      "disk",
      std::make_unique<RecordingSink>(std::make_shared<RecordingSink::State>()),
      queue);
  EXPECT_EQ(no_dir.Start().code(), absl::StatusCode::kInvalidArgument);
  queue.mutable_disk()->set_dir(parent + "/bad_options");
  queue.mutable_disk()->set_max_segment_bytes(1);
  SinkRunner bad_options(
      "disk",
      std::make_unique<RecordingSink>(std::make_shared<RecordingSink::State>()),
      queue);
  EXPECT_EQ(bad_options.Start().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SinkRunnerDiskTest, TransientErrorsAreRetriedPastMaxRetryDuration) {
  auto state = std::make_shared<RecordingSink::State>();
  {
    absl::MutexLock lock(&state->mu);
    state->transient_failures = 200;  // far more tries than 10 ms allows
  }
  v1::QueueConfig queue = DiskQueue("no_give_up", 5);
  queue.set_max_retry_duration_ms(10);
  SinkRunner runner("disk", std::make_unique<RecordingSink>(state), queue,
                    FastRetry());
  ASSERT_TRUE(runner.Start().ok());
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Enqueue(runner, {Message(i)}), 0u);
  AwaitPayloads(*state, 20);
  runner.Stop(absl::Now() + absl::Seconds(5));
  const SinkRunnerStats stats = runner.Stats();
  EXPECT_EQ(stats.delivered, 20u);
  EXPECT_EQ(stats.dropped_total(), 0u);
  EXPECT_GE(stats.write_errors, 200u);
  absl::MutexLock lock(&state->mu);
  EXPECT_THAT(state->payloads, ::testing::ElementsAreArray(Numbers(20)));
}

// A reload replaces a changed sink with a new instance while the old one
// drains: the new one waits for the directory's lock and then replays what
// the old one left.
TEST(SinkRunnerDiskTest, ANewInstanceTakesOverTheBufferWhenTheOldOneStops) {
  const v1::QueueConfig queue = DiskQueue("handover", 5);
  auto down = std::make_shared<RecordingSink::State>();
  {
    absl::MutexLock lock(&down->mu);
    down->transient_failures = 1 << 30;
  }
  SinkRunner old_instance("disk", std::make_unique<RecordingSink>(down), queue,
                          FastRetry());
  ASSERT_TRUE(old_instance.Start().ok());
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(Enqueue(old_instance, {Message(i)}), 0u);
  }
  auto up = std::make_shared<RecordingSink::State>();
  SinkRunner new_instance("disk", std::make_unique<RecordingSink>(up), queue);
  ASSERT_TRUE(new_instance.Start().ok());
  EXPECT_THAT(new_instance.Stats().disk_unavailable,
              ::testing::HasSubstr("in use"));
  EXPECT_EQ(old_instance.Stop(absl::Now() + absl::Milliseconds(50)), 0u);
  AwaitPayloads(*up, 30);
  new_instance.Stop(absl::Now() + absl::Seconds(5));
  const SinkRunnerStats stats = new_instance.Stats();
  EXPECT_EQ(stats.delivered, 30u);
  EXPECT_EQ(stats.disk.replayed, 30u);
  absl::MutexLock lock(&up->mu);
  EXPECT_THAT(up->payloads, ::testing::UnorderedElementsAreArray(Numbers(30)));
}

}  // namespace
}  // namespace metlog
