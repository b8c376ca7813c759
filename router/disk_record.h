// How a DISK sink's message is kept on disk: its wire bytes, plus the uuid
// and timestamp the router filled in when the sender left them out, so a
// replayed message is the same message (same uuid) and not a new one.
#ifndef METLOG_ROUTER_DISK_RECORD_H_
#define METLOG_ROUTER_DISK_RECORD_H_

#include <cstdint>
#include <string>

#include "absl/types/span.h"
#include "sinks/message/shared_packet.h"

namespace metlog {

// Appends the record of `message` to `*out`.
void AppendDiskRecord(const MessageView& message, std::string* out);

// One packet holding the messages of `records`, with one reference. A
// record that is not a valid message (it passed its checksum, so another
// version of the router wrote it) is left out and counted in *unreadable.
PacketRef PacketOfDiskRecords(absl::Span<const std::string> records,
                              uint64_t* unreadable);

}  // namespace metlog

#endif  // METLOG_ROUTER_DISK_RECORD_H_
