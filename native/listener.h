// Listening sockets: one per (address, port), non-blocking, ready for accept4.
#pragma once
#include <string>

namespace wr {

struct ListenOptions {
  std::string host;  // numeric IPv4 or IPv6 address; "::" listens dual-stack
  int port = 0;      // 0 picks an ephemeral port
  int backlog = 0;   // 0 means SOMAXCONN
  bool reusePort = false;
  bool ipv6Only = false;
};

struct ListenResult {
  int fd = -1;
  int port = 0;
  int err = 0;            // errno when fd < 0
  const char* step = "";  // the call that failed
};

ListenResult OpenListener(const ListenOptions& options);

}  // namespace wr
