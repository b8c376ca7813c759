#include "router/curve_keys.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "router/key_file.h"
#include "zmq.h"

namespace metlog {
namespace {

// Creates `path` (which must not exist) with `mode` and writes `text`.
absl::Status WriteNewFile(const std::string& path, absl::string_view text,
                          mode_t mode) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, mode);
  if (fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  const ssize_t written = write(fd, text.data(), text.size());
  const bool ok = written == static_cast<ssize_t>(text.size());
  if (close(fd) != 0 || !ok) {
    return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> DecodeZ85Key(absl::string_view what,
                                         absl::string_view z85) {
  if (z85.size() != kZ85KeyLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": a Z85 key is ", kZ85KeyLength,
                     " characters, not ", z85.size()));
  }
  const std::string text(z85);
  std::string key(kCurveKeyBytes, '\0');
  if (zmq_z85_decode(reinterpret_cast<uint8_t*>(key.data()), text.c_str()) ==
      nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": \"", z85, "\" is not Z85"));
  }
  return key;
}

absl::StatusOr<CurveServerKeys> LoadCurveServerKeys(
    const v1::CurveServerConfig& config) {
  CurveServerKeys keys;
  absl::StatusOr<std::string> secret =
      ReadKeyFile("curve secret_key_file", config.secret_key_file());
  if (!secret.ok()) return secret.status();
  keys.secret_key = std::string(absl::StripAsciiWhitespace(*secret));
  const std::string what =
      absl::StrCat("curve secret_key_file \"", config.secret_key_file(), "\"");
  if (absl::Status status = DecodeZ85Key(what, keys.secret_key).status();
      !status.ok()) {
    return status;
  }
  char public_key[kZ85KeyLength + 1] = {};
  if (zmq_curve_public(public_key, keys.secret_key.c_str()) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", zmq_strerror(zmq_errno())));
  }
  keys.public_key = public_key;

  auto allow = [&keys](const std::string& what_key,
                       absl::string_view z85) -> absl::Status {
    absl::StatusOr<std::string> key = DecodeZ85Key(what_key, z85);
    if (!key.ok()) return key.status();
    keys.allowed_clients.insert(*std::move(key));
    return absl::OkStatus();
  };
  for (int i = 0; i < config.allowed_client_keys_size(); ++i) {
    if (absl::Status status =
            allow(absl::StrCat("curve allowed_client_keys[", i, "]"),
                  absl::StripAsciiWhitespace(config.allowed_client_keys(i)));
        !status.ok()) {
      return status;
    }
  }
  if (config.has_allowed_clients_file()) {
    absl::StatusOr<std::string> list = ReadKeyFile(
        "curve allowed_clients_file", config.allowed_clients_file());
    if (!list.ok()) return list.status();
    int line_number = 0;
    for (absl::string_view line : absl::StrSplit(*list, '\n')) {
      ++line_number;
      line = absl::StripAsciiWhitespace(line);
      if (line.empty() || line[0] == '#') continue;
      if (absl::Status status = allow(
              absl::StrCat("curve allowed_clients_file ",
                           config.allowed_clients_file(), ":", line_number),
              line);
          !status.ok()) {
        return status;
      }
    }
  }
  if (keys.allowed_clients.empty()) {
    return absl::InvalidArgumentError(
        "curve: no client key is allowed (allowed_client_keys, "
        "allowed_clients_file), so every client would be refused");
  }
  return keys;
}

absl::Status WriteCurveKeyPair(const std::string& public_key_path,
                               const std::string& secret_key_path) {
  char public_key[kZ85KeyLength + 1] = {};
  char secret_key[kZ85KeyLength + 1] = {};
  if (zmq_curve_keypair(public_key, secret_key) != 0) {
    return absl::InternalError(absl::StrCat("cannot make a CURVE key pair: ",
                                            zmq_strerror(zmq_errno())));
  }
  if (absl::Status status =
          WriteNewFile(secret_key_path, absl::StrCat(secret_key, "\n"), 0600);
      !status.ok()) {
    return status;
  }
  return WriteNewFile(public_key_path, absl::StrCat(public_key, "\n"), 0644);
}

}  // namespace metlog
