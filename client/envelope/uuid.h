#ifndef METLOG_CLIENT_ENVELOPE_UUID_H_
#define METLOG_CLIENT_ENVELOPE_UUID_H_

#include <array>
#include <string>

#include "absl/random/bit_gen_ref.h"

namespace metlog {

// A random (version 4, RFC 4122) UUID as 16 raw bytes, the envelope's form.
std::array<char, 16> RandomUuidBytes(absl::BitGenRef random);
std::string RandomUuid(absl::BitGenRef random);

}  // namespace metlog

#endif  // METLOG_CLIENT_ENVELOPE_UUID_H_
