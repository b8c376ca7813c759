#include "client/message_writer.h"

#include <array>
#include <cstring>

#include "client/envelope/uuid.h"
#include "client/stack_trace.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

namespace metlog {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedOutputStream;

// Message's field numbers (proto/metlog.proto), as one-byte tags.
constexpr uint8_t WireTag(int field, WireFormatLite::WireType type) {
  return static_cast<uint8_t>((field << 3) | type);
}
constexpr auto kDelimited = WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
constexpr auto kVarint = WireFormatLite::WIRETYPE_VARINT;
constexpr uint8_t kUuidTag = WireTag(1, kDelimited);
constexpr uint8_t kTimestampTag = WireTag(2, kVarint);
constexpr uint8_t kTypeTag = WireTag(3, kDelimited);
constexpr uint8_t kLoggerTag = WireTag(4, kDelimited);
constexpr uint8_t kSeverityTag = WireTag(5, kVarint);
constexpr uint8_t kPayloadTag = WireTag(6, kDelimited);
constexpr uint8_t kEnvVersionTag = WireTag(7, kDelimited);
constexpr uint8_t kPidTag = WireTag(8, kVarint);
constexpr uint8_t kHostnameTag = WireTag(9, kDelimited);
constexpr uint8_t kFieldsTag = WireTag(10, kDelimited);
// Field's.
constexpr uint8_t kFieldNameTag = WireTag(1, kDelimited);
constexpr uint8_t kFieldValueTypeTag = WireTag(2, kVarint);
constexpr uint8_t kFieldStringTag = WireTag(4, kDelimited);
constexpr uint8_t kFieldDoubleTag = WireTag(7, kDelimited);  // packed

size_t DelimitedSize(size_t bytes) {
  return 1 + CodedOutputStream::VarintSize32(static_cast<uint32_t>(bytes)) +
         bytes;
}

// int32 and int64 fields are varints of the value sign-extended to 64 bits.
size_t VarintFieldSize(int64_t value) {
  return 1 + CodedOutputStream::VarintSize64(static_cast<uint64_t>(value));
}

uint8_t* WriteDelimited(uint8_t tag, absl::string_view bytes, uint8_t* out) {
  *out++ = tag;
  out = CodedOutputStream::WriteVarint32ToArray(
      static_cast<uint32_t>(bytes.size()), out);
  if (!bytes.empty()) std::memcpy(out, bytes.data(), bytes.size());
  return out + bytes.size();
}

uint8_t* WriteVarintField(uint8_t tag, int64_t value, uint8_t* out) {
  *out++ = tag;
  return CodedOutputStream::WriteVarint64ToArray(static_cast<uint64_t>(value),
                                                 out);
}

// Field { name: "name" value_string: <name> }, as Materialize adds it.
size_t NameFieldBodySize(absl::string_view name) {
  return DelimitedSize(4) + DelimitedSize(name.size());
}

// Field { name: "rate" value_type: DOUBLE value_double: [<rate>] }.
constexpr size_t kRateFieldBodySize = (2 + 4) + 2 + (2 + 8);

// Field { name: "stack" value_string: <text> }.
size_t StackFieldBodySize(absl::string_view text) {
  return DelimitedSize(5) + DelimitedSize(text.size());
}

}  // namespace

size_t MessageWriter::Prepare(PendingMessage& pending, absl::BitGenRef random) {
  pending_ = &pending;
  const v1::Message* message = pending.kind == PendingMessage::Kind::kFull
                                   ? pending.message.get()
                                   : nullptr;
  const MetricExtras* extras = pending.extras.get();
  const Origin* origin = pending.origin;

  if (message != nullptr && message->has_uuid()) {
    uuid_bytes_ = message->uuid();
  } else {
    const std::array<char, 16> uuid = RandomUuidBytes(random);
    std::memcpy(uuid_, uuid.data(), sizeof(uuid_));
    uuid_bytes_ = absl::string_view(uuid_, sizeof(uuid_));
  }
  timestamp_ = {true, message != nullptr && message->has_timestamp()
                          ? message->timestamp()
                          : pending.timestamp_ns};

  type_ = {};
  payload_ = {};
  number_.reset();
  switch (pending.kind) {
    case PendingMessage::Kind::kCounter:
      type_ = {true, "counter"};
      number_.emplace(pending.count);
      break;
    case PendingMessage::Kind::kTimer:
      type_ = {true, "timer"};
      number_.emplace(pending.value);
      break;
    case PendingMessage::Kind::kHistogram:
      type_ = {true, "histogram"};
      number_.emplace(pending.value);
      break;
    case PendingMessage::Kind::kGauge:
      type_ = {true, "gauge"};
      number_.emplace(pending.value);
      break;
    case PendingMessage::Kind::kLog:
      type_ = {true, "log"};
      payload_ = {true, pending.text};
      break;
    case PendingMessage::Kind::kFull:
      if (message != nullptr) {
        type_ = {message->has_type(), message->type()};
        payload_ = {message->has_payload(), message->payload()};
      }
      break;
  }
  if (number_.has_value()) payload_ = {true, number_->Piece()};

  // What the call said, else what the message says, else the origin's.
  if (extras != nullptr && !extras->logger.empty()) {
    logger_ = {true, extras->logger};
  } else if (message != nullptr && message->has_logger()) {
    logger_ = {true, message->logger()};
  } else {
    logger_ = {origin != nullptr,
               origin != nullptr ? origin->logger : absl::string_view()};
  }
  if (extras != nullptr && extras->severity >= 0) {
    severity_ = {true, extras->severity};
  } else if (pending.kind == PendingMessage::Kind::kLog) {
    severity_ = {true, pending.severity};
  } else if (message != nullptr && message->has_severity()) {
    severity_ = {true, message->severity()};
  } else {
    severity_ = {origin != nullptr, origin != nullptr ? origin->severity : 0};
  }
  env_version_ = {true, message != nullptr && message->has_env_version()
                            ? absl::string_view(message->env_version())
                            : absl::string_view("1.0")};
  if (message != nullptr && message->has_pid()) {
    pid_ = {true, message->pid()};
  } else {
    pid_ = {origin != nullptr, origin != nullptr ? origin->pid : 0};
  }
  if (message != nullptr && message->has_hostname()) {
    hostname_ = {true, message->hostname()};
  } else {
    hostname_ = {origin != nullptr,
                 origin != nullptr ? origin->hostname : absl::string_view()};
  }

  message_fields_bytes_ = 0;
  if (message != nullptr) {
    for (const v1::Field& field : message->fields()) {
      message_fields_bytes_ += DelimitedSize(field.ByteSizeLong());
    }
  }
  stack_text_.clear();
  if (message != nullptr && pending.stack != nullptr) {
    AppendStackTraceText(*pending.stack, &stack_text_);
  }
  fields_wire_ =
      extras != nullptr ? extras->fields_wire() : absl::string_view();

  size_t size = DelimitedSize(uuid_bytes_.size()) +
                VarintFieldSize(timestamp_.value) +
                DelimitedSize(env_version_.text.size());
  for (const OptionalText* text : {&type_, &logger_, &payload_, &hostname_}) {
    if (text->present) size += DelimitedSize(text->text.size());
  }
  for (const OptionalNumber* number : {&severity_, &pid_}) {
    if (number->present) size += VarintFieldSize(number->value);
  }
  return size + message_fields_bytes_ + ConventionFieldsSize() +
         fields_wire_.size();
}

size_t MessageWriter::ConventionFieldsSize() const {
  switch (pending_->kind) {
    case PendingMessage::Kind::kCounter:
    case PendingMessage::Kind::kTimer:
    case PendingMessage::Kind::kHistogram:
      return DelimitedSize(NameFieldBodySize(pending_->text)) +
             DelimitedSize(kRateFieldBodySize);
    case PendingMessage::Kind::kGauge:
      return DelimitedSize(NameFieldBodySize(pending_->text));
    case PendingMessage::Kind::kLog:
      return 0;
    case PendingMessage::Kind::kFull:
      break;
  }
  return pending_->stack != nullptr && pending_->message != nullptr
             ? DelimitedSize(StackFieldBodySize(stack_text_))
             : 0;
}

uint8_t* MessageWriter::WriteConventionFields(uint8_t* out) const {
  switch (pending_->kind) {
    case PendingMessage::Kind::kCounter:
    case PendingMessage::Kind::kTimer:
    case PendingMessage::Kind::kHistogram:
    case PendingMessage::Kind::kGauge: {
      *out++ = kFieldsTag;
      out = CodedOutputStream::WriteVarint32ToArray(
          static_cast<uint32_t>(NameFieldBodySize(pending_->text)), out);
      out = WriteDelimited(kFieldNameTag, "name", out);
      out = WriteDelimited(kFieldStringTag, pending_->text, out);
      if (pending_->kind == PendingMessage::Kind::kGauge) return out;
      *out++ = kFieldsTag;
      *out++ = static_cast<uint8_t>(kRateFieldBodySize);
      out = WriteDelimited(kFieldNameTag, "rate", out);
      *out++ = kFieldValueTypeTag;
      *out++ = v1::Field::DOUBLE;
      *out++ = kFieldDoubleTag;
      *out++ = 8;
      return WireFormatLite::WriteDoubleNoTagToArray(pending_->rate, out);
    }
    case PendingMessage::Kind::kLog:
      return out;
    case PendingMessage::Kind::kFull:
      break;
  }
  if (pending_->stack == nullptr || pending_->message == nullptr) return out;
  *out++ = kFieldsTag;
  out = CodedOutputStream::WriteVarint32ToArray(
      static_cast<uint32_t>(StackFieldBodySize(stack_text_)), out);
  out = WriteDelimited(kFieldNameTag, "stack", out);
  return WriteDelimited(kFieldStringTag, stack_text_, out);
}

uint8_t* MessageWriter::Write(uint8_t* out) const {
  out = WriteDelimited(kUuidTag, uuid_bytes_, out);
  out = WriteVarintField(kTimestampTag, timestamp_.value, out);
  if (type_.present) out = WriteDelimited(kTypeTag, type_.text, out);
  if (logger_.present) out = WriteDelimited(kLoggerTag, logger_.text, out);
  if (severity_.present) {
    out = WriteVarintField(kSeverityTag, severity_.value, out);
  }
  if (payload_.present) out = WriteDelimited(kPayloadTag, payload_.text, out);
  out = WriteDelimited(kEnvVersionTag, env_version_.text, out);
  if (pid_.present) out = WriteVarintField(kPidTag, pid_.value, out);
  if (hostname_.present) {
    out = WriteDelimited(kHostnameTag, hostname_.text, out);
  }
  if (message_fields_bytes_ > 0) {
    for (const v1::Field& field : pending_->message->fields()) {
      *out++ = kFieldsTag;
      out = CodedOutputStream::WriteVarint32ToArray(
          static_cast<uint32_t>(field.GetCachedSize()), out);
      out = field.SerializeWithCachedSizesToArray(out);
    }
  }
  out = WriteConventionFields(out);
  if (!fields_wire_.empty()) {
    std::memcpy(out, fields_wire_.data(), fields_wire_.size());
    out += fields_wire_.size();
  }
  return out;
}

}  // namespace metlog
