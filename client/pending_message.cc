#include "client/pending_message.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "client/envelope/uuid.h"
#include "google/protobuf/io/coded_stream.h"

namespace metlog {
namespace {

void AddStringField(absl::string_view name, absl::string_view value,
                    v1::Message* out) {
  v1::Field* field = out->add_fields();
  field->set_name(std::string(name));
  field->add_value_string(std::string(value));
}

void AddRateField(double rate, v1::Message* out) {
  v1::Field* field = out->add_fields();
  field->set_name("rate");
  field->set_value_type(v1::Field::DOUBLE);
  field->add_value_double(rate);
}

// std::string keeps short strings inline; longer ones are on the heap.
size_t HeapBytes(const std::string& text) {
  return text.capacity() > 15 ? text.capacity() + 1 : 0;
}

// What protobuf allocates for a string field: nothing while unset, then the
// std::string object and its characters when they do not fit inline.
size_t StringSpace(bool set, const std::string& text) {
  return set ? sizeof(std::string) + HeapBytes(text) : 0;
}

template <typename Values>
size_t RepeatedStringSpace(const Values& values) {
  size_t bytes = values.Capacity() * sizeof(void*);
  for (const std::string& value : values) bytes += StringSpace(true, value);
  return bytes;
}

// Message::SpaceUsedLong() without reflection, which costs more than the
// rest of a client call: the objects and their heap, give or take the
// allocator's rounding.
size_t MessageSpace(const v1::Message& m) {
  size_t bytes = sizeof(v1::Message) + StringSpace(m.has_uuid(), m.uuid()) +
                 StringSpace(m.has_type(), m.type()) +
                 StringSpace(m.has_logger(), m.logger()) +
                 StringSpace(m.has_payload(), m.payload()) +
                 StringSpace(m.has_env_version(), m.env_version()) +
                 StringSpace(m.has_hostname(), m.hostname()) +
                 m.fields().Capacity() * sizeof(void*);
  for (const v1::Field& field : m.fields()) {
    bytes += sizeof(v1::Field) + StringSpace(field.has_name(), field.name()) +
             StringSpace(field.has_representation(), field.representation()) +
             RepeatedStringSpace(field.value_string()) +
             RepeatedStringSpace(field.value_bytes()) +
             field.value_integer().Capacity() * sizeof(int64_t) +
             field.value_double().Capacity() * sizeof(double) +
             field.value_bool().Capacity() * sizeof(bool);
  }
  return bytes;
}

}  // namespace

void MetricExtras::SetFields(absl::Span<const Tag> tags) {
  const size_t size = EncodedTagsSize(tags);
  if (size <= kInlineBytes) {
    EncodeTagsAsFields(tags, inline_);
    inline_size_ = static_cast<uint32_t>(size);
    return;
  }
  overflow_.resize(size);
  EncodeTagsAsFields(tags, &overflow_[0]);
}

void MetricExtras::SetFieldsWire(absl::string_view wire) {
  if (wire.size() <= kInlineBytes) {
    if (!wire.empty()) std::memcpy(inline_, wire.data(), wire.size());
    inline_size_ = static_cast<uint32_t>(wire.size());
    return;
  }
  overflow_.assign(wire.data(), wire.size());
}

size_t MetricExtras::HeapBytes() const {
  return metlog::HeapBytes(logger) + metlog::HeapBytes(overflow_);
}

size_t FootprintOfExtras(const PendingMessage& pending) {
  size_t bytes = 0;
  if (pending.extras != nullptr) {
    bytes += sizeof(MetricExtras) + pending.extras->HeapBytes();
  }
  if (pending.message != nullptr) bytes += MessageSpace(*pending.message);
  if (pending.stack != nullptr) bytes += sizeof(RawStackTrace);
  return bytes;
}

void Materialize(PendingMessage& pending, absl::BitGenRef random,
                 v1::Message* out) {
  out->Clear();
  switch (pending.kind) {
    case PendingMessage::Kind::kCounter:
      out->set_type("counter");
      out->set_payload(absl::StrCat(pending.count));
      AddStringField("name", pending.text, out);
      AddRateField(pending.rate, out);
      break;
    case PendingMessage::Kind::kTimer:
      out->set_type("timer");
      out->set_payload(absl::StrCat(pending.value));
      AddStringField("name", pending.text, out);
      AddRateField(pending.rate, out);
      break;
    case PendingMessage::Kind::kHistogram:
      out->set_type("histogram");
      out->set_payload(absl::StrCat(pending.value));
      AddStringField("name", pending.text, out);
      AddRateField(pending.rate, out);
      break;
    case PendingMessage::Kind::kGauge:
      out->set_type("gauge");
      out->set_payload(absl::StrCat(pending.value));
      AddStringField("name", pending.text, out);
      break;
    case PendingMessage::Kind::kLog:
      out->set_type("log");
      out->set_payload(pending.text);
      out->set_severity(pending.severity);
      break;
    case PendingMessage::Kind::kFull:
      if (pending.message != nullptr) out->Swap(pending.message.get());
      if (pending.stack != nullptr) {
        v1::Field* stack = out->add_fields();
        stack->set_name("stack");
        AppendStackTraceText(*pending.stack, stack->add_value_string());
      }
      break;
  }
  if (const MetricExtras* extras = pending.extras.get()) {
    // Written by AppendTagsAsFields, so it parses; a failure would only
    // lose the tags, never the metric.
    const absl::string_view wire = extras->fields_wire();
    google::protobuf::io::CodedInputStream input(
        reinterpret_cast<const uint8_t*>(wire.data()),
        static_cast<int>(wire.size()));
    (void)out->MergeFromCodedStream(&input);
    if (!extras->logger.empty()) out->set_logger(extras->logger);
    if (extras->severity >= 0) out->set_severity(extras->severity);
  }
  if (!out->has_uuid()) out->set_uuid(RandomUuid(random));
  if (!out->has_timestamp()) out->set_timestamp(pending.timestamp_ns);
  if (!out->has_env_version()) out->set_env_version("1.0");
  if (const Origin* origin = pending.origin) {
    if (!out->has_logger()) out->set_logger(origin->logger);
    if (!out->has_severity()) out->set_severity(origin->severity);
    if (!out->has_hostname()) out->set_hostname(origin->hostname);
    if (!out->has_pid()) out->set_pid(origin->pid);
  }
}

}  // namespace metlog
