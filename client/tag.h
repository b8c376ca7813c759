// Fields on metric calls, cheap enough for the hot path:
//   metlog.Incr("requests", 1, {{"method", "GET"}, {"status", 200}});
// A Tag only refers to its name and value, so it lives for the call; the
// client copies what it keeps, already in protobuf wire format.
#ifndef METLOG_CLIENT_TAG_H_
#define METLOG_CLIENT_TAG_H_

#include <cstdint>
#include <string>
#include <type_traits>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace metlog {

class Tag {
 public:
  enum class Kind : uint8_t { kString, kInteger, kDouble, kBool };

  Tag(absl::string_view name, absl::string_view value)
      : name_(name), kind_(Kind::kString), string_(value) {}
  Tag(absl::string_view name, const char* value)
      : Tag(name, absl::string_view(value)) {}
  Tag(absl::string_view name, const std::string& value)
      : Tag(name, absl::string_view(value)) {}
  template <typename Int,
            std::enable_if_t<
                std::is_integral_v<Int> && !std::is_same_v<Int, bool>, int> = 0>
  Tag(absl::string_view name, Int value)
      : name_(name),
        kind_(Kind::kInteger),
        integer_(static_cast<int64_t>(value)) {}
  Tag(absl::string_view name, double value)
      : name_(name), kind_(Kind::kDouble), double_(value) {}
  Tag(absl::string_view name, bool value)
      : name_(name), kind_(Kind::kBool), bool_(value) {}

  absl::string_view name() const { return name_; }
  Kind kind() const { return kind_; }
  absl::string_view string_value() const { return string_; }
  int64_t integer_value() const { return integer_; }
  double double_value() const { return double_; }
  bool bool_value() const { return bool_; }

 private:
  absl::string_view name_;
  Kind kind_;
  absl::string_view string_;
  union {
    int64_t integer_ = 0;
    double double_;
    bool bool_;
  };
};

// Each tag as a Message.fields entry (field 10) in protobuf wire format,
// typed STRING, INTEGER, DOUBLE or BOOL. Tags named "name" or "rate" are
// skipped: on metrics those fields are the metric's own.
//
// The bytes EncodeTagsAsFields writes for `tags`.
size_t EncodedTagsSize(absl::Span<const Tag> tags);
// Writes EncodedTagsSize(tags) bytes at `out`.
void EncodeTagsAsFields(absl::Span<const Tag> tags, char* out);
// Appends them to `wire`.
void AppendTagsAsFields(absl::Span<const Tag> tags, std::string* wire);

}  // namespace metlog

#endif  // METLOG_CLIENT_TAG_H_
