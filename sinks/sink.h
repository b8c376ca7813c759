// The interface every sink implements, and the registry the router creates
// sinks through. The router core includes only this header: a sink is linked
// in (alwayslink) and found by the full name of its options message, which is
// the type inside SinkConfig.options.
#ifndef METLOG_SINKS_SINK_H_
#define METLOG_SINKS_SINK_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/message.h"
#include "proto/metlog.pb.h"
#include "sinks/message/message_view.h"

namespace metlog {

// Errors a sink returns tell the runner what to do with the batch:
// transient ones (the back end is down or busy) are retried with backoff
// for at most the queue's max_retry_duration_ms, anything else is permanent
// and the batch is dropped and counted.
absl::Status TransientError(absl::string_view message);
bool IsTransient(const absl::Status& status);

// A transient error carrying how long the back end asked to be left alone
// (an HTTP Retry-After, say): the runner should wait at least that long, still
// bounded by max_retry_duration_ms, before retrying. RetryDelay reads it back
// (zero when the status carries none).
absl::Status TransientError(absl::string_view message,
                            absl::Duration retry_delay);
absl::Duration RetryDelay(const absl::Status& status);

// Whether a failed system call may succeed if retried later: a refused or
// reset connection, a timeout, a full buffer or disk are transient; a
// datagram over the size limit (EMSGSIZE), a path that is a directory, a
// permission or an argument the call will never accept are not. The one
// place sinks classify errno values.
bool IsTransientErrno(int error_number);

// `context` and strerror(error_number) as a transient or a permanent error
// (FailedPrecondition), as IsTransientErrno says.
absl::Status ErrnoError(int error_number, absl::string_view context);

// A back end. The router's SinkRunner owns one, calls it from a single thread,
// and does the queueing, batching, retrying and accounting; a sink only turns
// a batch into output.
class Sink {
 public:
  virtual ~Sink() = default;

  // Connects or opens whatever the sink writes to. Called once before Write.
  virtual absl::Status Start() { return absl::OkStatus(); }

  // Delivers every message of the batch, or none: on an error the runner
  // retries or drops the whole batch. The messages are lent for the call
  // (copy what must outlive it); `message.message()` parses one, once for
  // all sinks, so a sink that needs only routing data should not ask for it.
  // The runner owns time: the call, reconnecting included, returns by
  // `deadline` (the queue's write_timeout_ms, or the shutdown deadline if
  // nearer), failing with a transient error if it must.
  virtual absl::Status Write(absl::Span<const MessageView> batch,
                             absl::Time deadline) = 0;

  // Makes a Write in progress on the runner's thread return soon: called
  // from another thread when the shutdown deadline passes during a write
  // that began earlier with a later deadline. Thread-safe. Sinks whose
  // writes cannot block past their deadline need not implement it.
  virtual void Cancel() {}

  // Whether Write reads messages whole (`message.message()`, which parses
  // them). The router then parses a packet this sink matched on the decoding
  // thread, which just read its bytes and can be scaled (decode_threads),
  // rather than late on this sink's thread. Sinks that read only the wire
  // view (message.wire(), message.fields()) return false and cost no parse.
  virtual bool ReadsMessages() const { return true; }

  // Messages of the last successful Write that the sink could not use (a
  // statsd sink given a log line, say) and left out; the runner counts them
  // as dropped ("unusable") rather than delivered. Reset by the call.
  virtual uint64_t TakeUnusable() { return 0; }

  // Pushes out anything the sink buffers itself.
  virtual absl::Status Flush() { return absl::OkStatus(); }

  // Closes and reopens files after an outside rotation (logrotate), on
  // SIGHUP. Sinks without files ignore it.
  virtual absl::Status Reopen() { return absl::OkStatus(); }

  // Releases connections and files. No call follows.
  virtual void Stop() {}
};

// Creates sinks from their options, keyed by the options' full message name
// (e.g. "metlog.sinks.ConsoleOptions"). Registration happens at static
// initialisation through SinkRegistration; lookups after main() starts are
// read-only and thread-safe.
class SinkRegistry {
 public:
  using CreateFn = std::function<absl::StatusOr<std::unique_ptr<Sink>>(
      const google::protobuf::Message& options)>;

  static SinkRegistry& Global();

  void Register(const google::protobuf::Message& default_options,
                CreateFn create);

  // Unpacks `options` into its registered type and creates the sink. An
  // unknown type, or options that do not parse, is an InvalidArgument error
  // that names the type and lists the known ones.
  absl::StatusOr<std::unique_ptr<Sink>> Create(
      const google::protobuf::Any& options) const;

  // Full names of every registered options type, sorted.
  std::vector<std::string> KnownTypes() const;

 private:
  struct Entry {
    const google::protobuf::Message* default_options;
    CreateFn create;
  };
  std::vector<std::pair<std::string, Entry>> entries_;
};

// Registers a sink at static initialisation:
//   const SinkRegistration<FileOptions> kRegistration(
//       [](const FileOptions& o) -> absl::StatusOr<std::unique_ptr<Sink>> {
//         ... check o, then return std::make_unique<FileSink>(o);
//       });
template <typename Options>
class SinkRegistration {
 public:
  using TypedCreateFn =
      std::function<absl::StatusOr<std::unique_ptr<Sink>>(const Options&)>;

  explicit SinkRegistration(TypedCreateFn create) {
    SinkRegistry::Global().Register(
        Options::default_instance(),
        [create](const google::protobuf::Message& options) {
          return create(static_cast<const Options&>(options));
        });
  }
};

// The common case, a sink made from its options alone:
//   const SinkRegistrationOf<ConsoleOptions, ConsoleSink> kRegistration;
template <typename Options, typename SinkType>
class SinkRegistrationOf : public SinkRegistration<Options> {
 public:
  SinkRegistrationOf()
      : SinkRegistration<Options>([](const Options& options)
                                      -> absl::StatusOr<std::unique_ptr<Sink>> {
          return std::make_unique<SinkType>(options);
        }) {}
};

}  // namespace metlog

#endif  // METLOG_SINKS_SINK_H_
