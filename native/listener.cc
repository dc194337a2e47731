#include "listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace wr {

namespace {

bool ParseAddress(const std::string& host, int port, sockaddr_storage* addr, socklen_t* len) {
  std::memset(addr, 0, sizeof(*addr));
  auto* v4 = reinterpret_cast<sockaddr_in*>(addr);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    *len = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(addr);
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    *len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

ListenResult Fail(int fd, const char* step) {
  ListenResult r;
  r.err = errno;
  r.step = step;
  if (fd >= 0) close(fd);
  return r;
}

}  // namespace

ListenResult OpenListener(const ListenOptions& o) {
  sockaddr_storage addr;
  socklen_t len = 0;
  if (!ParseAddress(o.host, o.port, &addr, &len)) {
    errno = EINVAL;
    return Fail(-1, "parse address");
  }
  int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail(fd, "socket");
  int one = 1;
  // SO_REUSEADDR lets a restarted server bind while old connections sit in TIME_WAIT.
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) return Fail(fd, "setsockopt");
  if (o.reusePort && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
    return Fail(fd, "setsockopt(SO_REUSEPORT)");
  }
  if (addr.ss_family == AF_INET6) {
    int v6only = o.ipv6Only ? 1 : 0;  // "::" serves IPv4 too, as node:net does
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only) < 0) return Fail(fd, "setsockopt");
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) < 0) return Fail(fd, "bind");
  // The kernel caps the backlog at net.core.somaxconn; SOMAXCONN asks for that cap.
  if (listen(fd, o.backlog > 0 ? o.backlog : SOMAXCONN) < 0) return Fail(fd, "listen");
  sockaddr_storage bound;
  socklen_t boundLen = sizeof bound;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &boundLen) < 0) return Fail(fd, "getsockname");
  ListenResult r;
  r.fd = fd;
  r.port = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                            : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  return r;
}

SpareFd::SpareFd() : fd_(open("/dev/null", O_RDONLY | O_CLOEXEC)) {}

SpareFd::~SpareFd() {
  if (fd_ >= 0) close(fd_);
}

bool SpareFd::Shed(int listenFd) {
  if (fd_ < 0) return false;
  close(fd_);
  int fd = accept4(listenFd, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd >= 0) close(fd);
  fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
  return true;
}

}  // namespace wr
