// Writes a queued message as the protobuf wire bytes of a v1::Message, the
// same message Materialize() builds (pending_message.h), without building
// one: the sender's thread writes each message straight into its packet,
// with no allocation per message (the names of an exception's stack frames
// aside, which go to a buffer reused from message to message).
//
// Two steps, so the caller can check the size before it decides where the
// bytes go:
//   const size_t size = writer.Prepare(pending, random);
//   uint8_t* end = writer.Write(buffer);  // exactly `size` bytes
// Fields are written in field-number order, each message field once, as
// protobuf's serializer writes them.
#ifndef METLOG_CLIENT_MESSAGE_WRITER_H_
#define METLOG_CLIENT_MESSAGE_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/random/bit_gen_ref.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "client/pending_message.h"

namespace metlog {

class MessageWriter {
 public:
  // Reads `pending` and returns the size of its message's bytes: the
  // metric conventions for metric kinds, and a random v4 uuid, the
  // timestamp, env_version "1.0" and the origin's logger, severity, hostname
  // and pid wherever the caller left them unset; an exception's stack is
  // symbolized here. `pending` must stay unchanged until Write().
  size_t Prepare(PendingMessage& pending, absl::BitGenRef random);

  // Writes the prepared message at `out` (Prepare()'s size) and returns the
  // end of what it wrote.
  uint8_t* Write(uint8_t* out) const;

 private:
  // A string field the message carries, or none.
  struct OptionalText {
    bool present = false;
    absl::string_view text;
  };
  struct OptionalNumber {
    bool present = false;
    int64_t value = 0;
  };

  // Bytes of Message.fields entries after the caller's: a metric's "name"
  // and "rate", or an exception's "stack".
  size_t ConventionFieldsSize() const;
  uint8_t* WriteConventionFields(uint8_t* out) const;

  const PendingMessage* pending_ = nullptr;
  char uuid_[16];
  absl::string_view uuid_bytes_;
  OptionalNumber timestamp_;
  OptionalText type_;
  OptionalText logger_;
  OptionalNumber severity_;
  OptionalText payload_;
  OptionalText env_version_;
  OptionalNumber pid_;
  OptionalText hostname_;
  // Fields as encoded by the caller's thread (metric tags), and the
  // kFull message's own fields, whose sizes Prepare() caches.
  absl::string_view fields_wire_;
  size_t message_fields_bytes_ = 0;
  // A metric's payload, formatted as absl::StrCat formats it, in place.
  std::optional<absl::AlphaNum> number_;
  std::string stack_text_;
};

}  // namespace metlog

#endif  // METLOG_CLIENT_MESSAGE_WRITER_H_
