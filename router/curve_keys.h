// CURVE keys as the router's config names them: ZeroMQ's Z85 text (40
// characters for 32 bytes), in files and in lists.
#ifndef METLOG_ROUTER_CURVE_KEYS_H_
#define METLOG_ROUTER_CURVE_KEYS_H_

#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/security.pb.h"

namespace metlog {

inline constexpr size_t kCurveKeyBytes = 32;
inline constexpr size_t kZ85KeyLength = 40;

// The 32 bytes a Z85 key stands for, or InvalidArgument naming `what`.
absl::StatusOr<std::string> DecodeZ85Key(absl::string_view what,
                                         absl::string_view z85);

// What a CURVE server needs, checked.
struct CurveServerKeys {
  // Z85, as ZeroMQ's socket options take them.
  std::string secret_key;
  std::string public_key;
  // The allowed clients' public keys, 32 raw bytes each (as ZAP gives them).
  absl::flat_hash_set<std::string> allowed_clients;
};

// Reads the secret key file and the allow-list; InvalidArgument naming the
// file, line or key that is wrong, or when no client is allowed.
absl::StatusOr<CurveServerKeys> LoadCurveServerKeys(
    const v1::CurveServerConfig& config);

// Makes a new key pair and writes each key, Z85 and a newline, to its file:
// the secret one readable by its owner only. Refuses to overwrite a file.
absl::Status WriteCurveKeyPair(const std::string& public_key_path,
                               const std::string& secret_key_path);

}  // namespace metlog

#endif  // METLOG_ROUTER_CURVE_KEYS_H_
