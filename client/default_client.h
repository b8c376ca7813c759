// The process-wide client, after metlog-py's holder.get_client():
//   metlog::DefaultClient().Incr("orders");
// Made on first use from the configuration given to ConfigureDefaultClient,
// else from METLOG_CONFIG; the METLOG_* environment variables apply on top
// (client_config.h). The logger defaults to the program's name.
//
// It is never destroyed, so threads may call it until the process ends. With
// flush_at_exit_ms > 0 (or METLOG_FLUSH_AT_EXIT_MS) an atexit handler shuts
// it down, sending what is queued for at most that long; calls made after
// that are dropped and counted. It never fails: a configuration that does not
// work gives a client that drops and counts every message, and status() says
// why.
#ifndef METLOG_CLIENT_DEFAULT_CLIENT_H_
#define METLOG_CLIENT_DEFAULT_CLIENT_H_

#include "absl/status/status.h"
#include "client/metlog.h"
#include "proto/client_config.pb.h"

namespace metlog {

Client& DefaultClient();

// Sets the configuration DefaultClient() is made from. FailedPrecondition
// once the default client exists.
absl::Status ConfigureDefaultClient(v1::ClientConfig config);

}  // namespace metlog

#endif  // METLOG_CLIENT_DEFAULT_CLIENT_H_
