#include "sinks/codecs/utf8_repair.h"

#include "rapidjson/encodings.h"

namespace metlog {
namespace {

// A bounded input stream for RapidJSON's UTF-8 validator (its own
// StringStream reads up to a NUL, and ours may hold NULs).
class ByteStream {
 public:
  using Ch = char;
  ByteStream(const char* begin, const char* end) : next_(begin), end_(end) {}
  Ch Peek() const { return next_ != end_ ? *next_ : '\0'; }
  Ch Take() { return next_ != end_ ? *next_++ : '\0'; }
  size_t Tell() const { return 0; }
  const char* next() const { return next_; }

 private:
  const char* next_;
  const char* end_;
};

// Collects what the validator copies.
struct AppendStream {
  using Ch = char;
  std::string* out;
  void Put(Ch c) { out->push_back(c); }
};

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace

bool AppendRepairedUtf8(absl::string_view text, std::string* out) {
  bool repaired = false;
  const char* next = text.data();
  const char* const end = text.data() + text.size();
  AppendStream copy{out};
  while (next != end) {
    if (static_cast<unsigned char>(*next) < 0x80) {
      out->push_back(*next++);
      continue;
    }
    ByteStream in(next, end);
    const size_t before = out->size();
    // RapidJSON's validator also refuses overlong forms and surrogates.
    if (rapidjson::UTF8<>::Validate(in, copy)) {
      next = in.next();
    } else {
      out->resize(before);
      out->append(kReplacement);
      repaired = true;
      ++next;
    }
  }
  return repaired;
}

}  // namespace metlog
