#include "sinks/codecs/protobuf_encoder.h"

#include <string>
#include <vector>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "sinks/message/message_batch.h"

namespace metlog {
namespace {

using google::protobuf::io::CodedInputStream;

// Reads length-delimited records as protobuf's parseDelimitedFrom does.
std::vector<v1::Message> ReadRecords(const std::string& bytes) {
  CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                      static_cast<int>(bytes.size()));
  std::vector<v1::Message> messages;
  uint32_t size = 0;
  while (in.ReadVarint32(&size)) {
    const CodedInputStream::Limit limit = in.PushLimit(size);
    v1::Message m;
    EXPECT_TRUE(m.ParseFromCodedStream(&in));
    EXPECT_TRUE(in.ConsumedEntireMessage());
    in.PopLimit(limit);
    messages.push_back(m);
  }
  EXPECT_EQ(in.CurrentPosition(), static_cast<int>(bytes.size()));
  return messages;
}

TEST(ProtobufEncoderTest, RecordsReadBackAsTheMessagesTheRouterCarries) {
  std::vector<v1::Message> sent(3);
  sent[0].set_payload("sender left uuid and timestamp out");
  sent[1].set_uuid(std::string(16, 'u'));
  sent[1].set_timestamp(1795640450234078150);
  sent[1].set_payload(std::string(300, 'x'));  // a two-byte length
  v1::Field* field = sent[1].add_fields();
  field->set_name("rows");
  field->set_value_type(v1::Field::INTEGER);
  field->add_value_integer(-1);
  sent[2].set_timestamp(-5);  // uuid only generated
  MessageBatch batch(sent);
  ProtobufEncoder encoder;
  std::string out;
  for (const MessageView& message : batch.views())
    encoder.Append(message, &out);
  const std::vector<v1::Message> read = ReadRecords(out);
  ASSERT_EQ(read.size(), 3u);
  for (size_t i = 0; i < read.size(); ++i) {
    // message() is what the router's parse gives, filled-in uuid included.
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
        read[i], batch[i].message()))
        << read[i].DebugString() << " vs " << batch[i].message().DebugString();
    EXPECT_EQ(read[i].uuid().size(), 16u);
  }
  EXPECT_EQ(read[1].uuid(), std::string(16, 'u'));
  EXPECT_EQ(read[2].timestamp(), -5);
}

}  // namespace
}  // namespace metlog
