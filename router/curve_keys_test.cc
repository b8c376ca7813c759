#include "router/curve_keys.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "zmq.h"

namespace metlog {
namespace {

using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  return std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
}

std::string Contents(const std::string& path) {
  std::ifstream file(path);
  return std::string(std::istreambuf_iterator<char>(file), {});
}

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

struct KeyPair {
  std::string public_key, secret_key;
};

KeyPair NewKeyPair() {
  char public_key[41], secret_key[41];
  EXPECT_EQ(zmq_curve_keypair(public_key, secret_key), 0);
  return {public_key, secret_key};
}

TEST(CurveKeysTest, WrittenKeyPairLoadsWithTheMatchingPublicKey) {
  const std::string public_path = TempPath("written.pub");
  const std::string secret_path = TempPath("written.key");
  ASSERT_TRUE(WriteCurveKeyPair(public_path, secret_path).ok());
  struct stat secret_stat;
  ASSERT_EQ(stat(secret_path.c_str(), &secret_stat), 0);
  EXPECT_EQ(secret_stat.st_mode & 0777, 0600u);
  const std::string public_text = Contents(public_path);
  ASSERT_EQ(public_text.size(), kZ85KeyLength + 1);  // with its newline

  const KeyPair client = NewKeyPair();
  v1::CurveServerConfig config;
  config.set_secret_key_file(secret_path);
  config.add_allowed_client_keys(client.public_key);
  absl::StatusOr<CurveServerKeys> keys = LoadCurveServerKeys(config);
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->public_key, public_text.substr(0, kZ85KeyLength));
  EXPECT_EQ(keys->secret_key, Contents(secret_path).substr(0, kZ85KeyLength));
  ASSERT_EQ(keys->allowed_clients.size(), 1u);
  EXPECT_TRUE(keys->allowed_clients.contains(
      *DecodeZ85Key("client", client.public_key)));

  // A second run must not destroy the first key pair.
  EXPECT_FALSE(WriteCurveKeyPair(public_path, secret_path).ok());
  EXPECT_EQ(Contents(public_path), public_text);
}

TEST(CurveKeysTest, AllowListFileSkipsCommentsAndBlankLines) {
  const KeyPair server = NewKeyPair(), a = NewKeyPair(), b = NewKeyPair();
  Write(TempPath("list.key"), server.secret_key + "\n");
  Write(TempPath("allowed.txt"),
        "# billing hosts\n\n" + a.public_key + "\n  " + b.public_key + "  \n");
  v1::CurveServerConfig config;
  config.set_secret_key_file(TempPath("list.key"));
  config.set_allowed_clients_file(TempPath("allowed.txt"));
  absl::StatusOr<CurveServerKeys> keys = LoadCurveServerKeys(config);
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->public_key, server.public_key);
  EXPECT_EQ(keys->allowed_clients.size(), 2u);
  EXPECT_TRUE(keys->allowed_clients.contains(*DecodeZ85Key("b", b.public_key)));
}

TEST(CurveKeysTest, WrongKeysAndFilesAreNamed) {
  const KeyPair server = NewKeyPair(), client = NewKeyPair();
  Write(TempPath("good.key"), server.secret_key);
  Write(TempPath("short.key"), "abc");
  Write(TempPath("bad_list.txt"), client.public_key + "\nnot a key\n");

  v1::CurveServerConfig config;
  config.set_secret_key_file(TempPath("missing.key"));
  config.add_allowed_client_keys(client.public_key);
  EXPECT_THAT(LoadCurveServerKeys(config).status().message(),
              HasSubstr("missing.key"));

  config.set_secret_key_file(TempPath("short.key"));
  EXPECT_THAT(LoadCurveServerKeys(config).status().message(),
              HasSubstr("40 characters, not 3"));

  config.set_secret_key_file(TempPath("good.key"));
  config.set_allowed_clients_file(TempPath("bad_list.txt"));
  EXPECT_THAT(LoadCurveServerKeys(config).status().message(),
              HasSubstr("bad_list.txt:2"));

  config.clear_allowed_clients_file();
  config.clear_allowed_client_keys();
  EXPECT_THAT(LoadCurveServerKeys(config).status().message(),
              HasSubstr("no client key is allowed"));

  // Z85's alphabet has no '"' or ','.
  config.add_allowed_client_keys(std::string(39, 'a') + "\"");
  EXPECT_FALSE(LoadCurveServerKeys(config).ok());
}

}  // namespace
}  // namespace metlog
