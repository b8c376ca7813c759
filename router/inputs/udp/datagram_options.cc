#include "router/inputs/udp/datagram_options.h"

#include "client/net/socket_address.h"
#include "router/input_registry.h"

namespace metlog {

absl::Status CheckDatagramOptions(absl::string_view address,
                                  uint32_t receive_buffer_bytes) {
  if (absl::Status status = CheckListenAddress("address", address, SOCK_DGRAM);
      !status.ok()) {
    return status;
  }
  if (receive_buffer_bytes < 1 ||
      receive_buffer_bytes > kMaxReceiveBufferBytes) {
    return OptionOutOfRange("receive_buffer_bytes", receive_buffer_bytes, 1,
                            kMaxReceiveBufferBytes);
  }
  return absl::OkStatus();
}

}  // namespace metlog
