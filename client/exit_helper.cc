// For shutdown_test: a program whose busy thread keeps calling the default
// client while main queues 1000 log messages and calls exit(0). The test
// sets METLOG_ENDPOINT and, to flush at exit, METLOG_FLUSH_AT_EXIT_MS.
#include <cstdlib>
#include <thread>

#include "client/default_client.h"

int main() {
  metlog::Client& client = metlog::DefaultClient();
  if (!client.status().ok()) return 2;
  std::thread busy([&client] {
    for (;;) client.Incr("busy");
  });
  busy.detach();
  for (int i = 0; i < 1000; ++i) client.Info("queued before exit");
  std::exit(0);
}
