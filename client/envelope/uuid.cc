#include "client/envelope/uuid.h"

#include <cstdint>

#include "absl/random/distributions.h"

namespace metlog {

std::array<char, 16> RandomUuidBytes(absl::BitGenRef random) {
  std::array<char, 16> uuid;
  const uint64_t high = absl::Uniform<uint64_t>(random);
  const uint64_t low = absl::Uniform<uint64_t>(random);
  for (int i = 0; i < 8; ++i) {
    uuid[i] = static_cast<char>(high >> (56 - 8 * i));
    uuid[8 + i] = static_cast<char>(low >> (56 - 8 * i));
  }
  uuid[6] = static_cast<char>((uuid[6] & 0x0f) | 0x40);  // version 4
  uuid[8] = static_cast<char>((uuid[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return uuid;
}

std::string RandomUuid(absl::BitGenRef random) {
  const std::array<char, 16> uuid = RandomUuidBytes(random);
  return std::string(uuid.data(), uuid.size());
}

}  // namespace metlog
