#include "router/message_pool.h"

#include <utility>

namespace metlog {
namespace {

// Each thread keeps a few messages of its own and trades them with the
// shared list a chunk at a time, so the lock is taken once per chunk rather
// than once per message: decoding threads take, sink threads give back.
constexpr size_t kChunk = 128;

}  // namespace

// A thread's own free messages; handed back to the pool when it ends.
struct MessagePool::LocalCache {
  std::vector<v1::Message*> messages;
  ~LocalCache() { MessagePool::Global().Give(messages); }
};

MessagePool& MessagePool::Global() {
  static auto* pool = new MessagePool();
  return *pool;
}

MessagePool::LocalCache& MessagePool::Local() {
  thread_local LocalCache cache;
  return cache;
}

std::shared_ptr<v1::Message> MessagePool::Acquire() {
  std::vector<v1::Message*>& local = Local().messages;
  if (local.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    const size_t take = std::min(kChunk, free_.size());
    local.assign(free_.end() - take, free_.end());
    free_.resize(free_.size() - take);
  }
  v1::Message* message = nullptr;
  if (!local.empty()) {
    message = local.back();
    local.pop_back();
  } else {
    message = new v1::Message();
  }
  return std::shared_ptr<v1::Message>(
      message, [this](v1::Message* done) { Release(done); });
}

void MessagePool::Release(v1::Message* message) {
  message->Clear();
  std::vector<v1::Message*>& local = Local().messages;
  local.push_back(message);
  if (local.size() >= 2 * kChunk) {
    std::vector<v1::Message*> chunk(local.end() - kChunk, local.end());
    local.resize(local.size() - kChunk);
    Give(chunk);
  }
}

void MessagePool::Give(std::vector<v1::Message*>& messages) {
  std::lock_guard<std::mutex> lock(mu_);
  for (v1::Message* message : messages) {
    if (free_.size() < kMaxFree) {
      free_.push_back(message);
    } else {
      delete message;
    }
  }
  messages.clear();
}

}  // namespace metlog
