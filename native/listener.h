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

// A file descriptor held in reserve so that EMFILE can be survived: when accept fails
// for want of descriptors, the spare is freed, the waiting connection accepted and
// closed at once (instead of staying in the backlog and waking epoll forever), and the
// spare taken again.
class SpareFd {
 public:
  SpareFd();
  ~SpareFd();
  SpareFd(const SpareFd&) = delete;
  SpareFd& operator=(const SpareFd&) = delete;
  // Sheds one pending connection of listenFd; false if there was no spare to free.
  bool Shed(int listenFd);

 private:
  int fd_ = -1;
};

}  // namespace wr
