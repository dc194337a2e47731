#include "demux.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace wr {

Demux::Demux() { wakeFd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

Demux::~Demux() {
  if (wakeFd_ >= 0) close(wakeFd_);
}

void Demux::Put(const Memory& m, const Layout& L, uint32_t i, uint32_t op, uint32_t conn, uint32_t a, uint32_t b) {
  Record r{op, conn, a, b};
  std::memcpy(m.base + L.evRing + size_t(i) * sizeof(Record), &r, sizeof r);
}

Record Demux::RecordAt(const Memory& m, uint32_t ring, uint32_t i) {
  Record r;
  std::memcpy(&r, m.base + ring + size_t(i) * sizeof(Record), sizeof r);
  return r;
}

void Demux::Wake() {
  uint64_t one = 1;
  (void)!write(wakeFd_, &one, sizeof one);
}

Demux::FdState* Demux::Live(uint32_t id) {
  uint32_t fd = id & kSlotMask;
  if (fd >= fds_.size()) return nullptr;
  FdState* s = &fds_[fd];
  return s->open && s->gen == (id >> kSlotBits) ? s : nullptr;
}

void Demux::CloseFd(int fd) {
  close(fd);  // also removes it from an epoll set
  fds_[fd].open = 0;
  stats_.open--;
}

void Demux::CloseOpenFds() {
  {
    std::lock_guard<std::mutex> lock(adoptMutex_);  // handed over, never registered
    for (int fd : adopted_) close(fd);
    adopted_.clear();
  }
  for (size_t fd = 0; fd < fds_.size(); fd++) {
    if (fds_[fd].open) CloseFd(static_cast<int>(fd));
  }
}

void Demux::ShedOne(int listenFd) {
  if (spare_.Shed(listenFd)) stats_.shed++;
}

// The ACCEPT record's words (docs/ABI.md): listener | peer port << 16, and the peer's
// IPv4 address as its bytes in order (an IPv4-mapped IPv6 peer too; 0 for other IPv6).
static uint32_t PeerWords(int fd, uint32_t listener, uint32_t* address) {
  sockaddr_storage peer{};
  socklen_t len = sizeof peer;
  *address = 0;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) return listener;
  uint16_t port = 0;
  if (peer.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&peer);
    memcpy(address, &in->sin_addr, 4);
    port = ntohs(in->sin_port);
  } else if (peer.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&peer);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) memcpy(address, in6->sin6_addr.s6_addr + 12, 4);
    port = ntohs(in6->sin6_port);
  }
  return (listener & 0xffff) | uint32_t(port) << 16;
}

uint32_t Demux::Register(const Memory& m, const Layout& L, uint32_t n, int fd, uint32_t listener) {
  // Over the connection limit, or an fd a connection id cannot name: a clean close (FIN).
  if (static_cast<uint32_t>(fd) > kSlotMask || (maxConnections_ != 0 && stats_.open >= maxConnections_)) {
    close(fd);
    stats_.shed++;
    return n;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (static_cast<size_t>(fd) >= fds_.size()) fds_.resize(std::max<size_t>(fd + 1, fds_.size() * 2));
  FdState& s = fds_[fd];
  s.gen = static_cast<uint16_t>((s.gen + 1) & kGenMask);
  s.open = 1;
  s.interest = kInterestIn;
  Watch(fd);
  uint32_t peerAddress = 0;
  uint32_t listenerAndPort = PeerWords(fd, listener, &peerAddress);
  Put(m, L, n++, kEvAccept, IdOf(fd, s), listenerAndPort, peerAddress);
  stats_.accepted++;
  stats_.open++;
  return n;
}

void Demux::Adopt(int fd) {
  {
    std::lock_guard<std::mutex> lock(adoptMutex_);
    adopted_.push_back(fd);
  }
  Wake();
}

uint32_t Demux::TakeAdopted(const Memory& m, const Layout& L, uint32_t n) {
  std::vector<int> taken;
  {
    std::lock_guard<std::mutex> lock(adoptMutex_);
    if (adopted_.empty()) return n;
    size_t room = n + 2 < L.evCap ? L.evCap - n - 2 : 0;  // keep room for one read's records
    size_t take = std::min(room, adopted_.size());
    taken.assign(adopted_.begin(), adopted_.begin() + static_cast<std::ptrdiff_t>(take));
    adopted_.erase(adopted_.begin(), adopted_.begin() + static_cast<std::ptrdiff_t>(take));
    if (!adopted_.empty()) Wake();  // the rest next batch
  }
  for (int fd : taken) n = Register(m, L, n, fd, 0);
  return n;
}

}  // namespace wr
