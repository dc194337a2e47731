#include "demux.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace wr {

namespace {

// epoll_event.data.u64 = tag << 32 | value.
constexpr uint64_t kTagConn = 0, kTagListener = 1, kTagWake = 2;
// Accepts per listener per batch: keeps one busy port from starving the others.
constexpr int kAcceptBurst = 64;
// One recv may take this much of the arena (large enough for 64 KiB messages in one go);
// below kMinRead of arena left we stop reading until the next batch (level-triggered
// epoll reports the socket again).
constexpr uint32_t kMaxRead = 256 * 1024;
constexpr uint32_t kMinRead = 2048;

uint64_t Tag(uint64_t tag, uint32_t value) { return tag << 32 | value; }

void Put(const Memory& m, const Layout& L, uint32_t i, uint32_t op, uint32_t conn, uint32_t a, uint32_t b) {
  Record r{op, conn, a, b};
  std::memcpy(m.base + L.evRing + size_t(i) * sizeof(Record), &r, sizeof r);
}

uint32_t EpollMask(uint32_t interest) {
  uint32_t e = 0;
  // RDHUP only with input: a paused reader must not be woken by the peer's FIN forever.
  if (interest & kInterestIn) e |= EPOLLIN | EPOLLRDHUP;
  if (interest & kInterestOut) e |= EPOLLOUT;
  return e;
}

}  // namespace

Demux::Demux() {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  wakeFd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epfd_ >= 0 && wakeFd_ >= 0) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = Tag(kTagWake, 0);
    epoll_ctl(epfd_, EPOLL_CTL_ADD, wakeFd_, &ev);
  }
}

Demux::~Demux() {
  CloseListeners();
  CloseConnections();
  for (int fd : {epfd_, wakeFd_}) {
    if (fd >= 0) close(fd);
  }
}

int Demux::AddListener(int fd) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = Tag(kTagListener, static_cast<uint32_t>(listeners_.size()));
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0) return -1;
  listeners_.push_back(fd);
  return static_cast<int>(listeners_.size() - 1);
}

void Demux::CloseListeners() {
  for (int& fd : listeners_) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
}

void Demux::CloseConnections() {
  {
    std::lock_guard<std::mutex> lock(adoptMutex_);  // handed over, never registered
    for (int fd : adopted_) close(fd);
    adopted_.clear();
  }
  for (size_t fd = 0; fd < fds_.size(); fd++) {
    if (fds_[fd].open) CloseFd(static_cast<int>(fd));
  }
}

void Demux::CloseFd(int fd) {
  close(fd);  // also removes it from the epoll set
  fds_[fd].open = 0;
  stats_.open--;
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

uint32_t Demux::Gather(const Memory& m, const Layout& L, uint32_t n, uint32_t half, uint32_t arenaUsed) {
  arenaEnd_ = L.arena + half * L.arenaHalf + L.arenaHalf;
  arenaPos_ = arenaEnd_ - L.arenaHalf + arenaUsed;
  n = TakeAdopted(m, L, n);
  // A ready connection can yield two records (data and writable).
  uint32_t room = (L.evCap - n) / 2;
  if (room == 0) return n;
  ready_.resize(room);
  int k = epoll_wait(epfd_, ready_.data(), static_cast<int>(room), 0);
  for (int i = 0; i < k; i++) {
    const epoll_event& ev = ready_[i];
    uint64_t tag = ev.data.u64 >> 32;
    if (tag == kTagConn) {
      n = ReadReady(m, L, n, ev);
    } else if (tag == kTagListener) {
      n = Accept(m, L, n, static_cast<uint32_t>(ev.data.u64));
    } else {
      // Drain the wake-up first, then take what was handed over: an Adopt() that came
      // after the TakeAdopted() above but before this read would otherwise have its
      // wake-up eaten, and its connection would wait for an unrelated event (a lost
      // wake-up). Anything handed over after this read wakes us again.
      uint64_t drained;
      (void)!read(wakeFd_, &drained, sizeof drained);
      n = TakeAdopted(m, L, n);
    }
  }
  return n;
}

uint32_t Demux::ReadReady(const Memory& m, const Layout& L, uint32_t n, const epoll_event& ev) {
  // Accepts earlier in this batch may have used the room; level-triggered epoll
  // reports this socket again next time.
  if (n + 2 > L.evCap) return n;
  int fd = static_cast<int>(ev.data.u64 & 0xffffffffu);
  FdState& s = fds_[fd];
  uint32_t id = static_cast<uint32_t>(fd) | uint32_t(s.gen) << kSlotBits;
  if (ev.events & EPOLLERR) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    Put(m, L, n++, kEvError, id, err ? err : EIO, 0);
    return n;
  }
  if ((ev.events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) && arenaEnd_ - arenaPos_ >= kMinRead) {
    uint32_t want = std::min(kMaxRead, arenaEnd_ - arenaPos_);
    ssize_t r = recv(fd, m.base + arenaPos_, want, 0);
    if (r > 0) {
      Put(m, L, n++, kEvData, id, arenaPos_, static_cast<uint32_t>(r));
      arenaPos_ += static_cast<uint32_t>(r);
      stats_.bytesIn += static_cast<uint64_t>(r);
    } else if (r == 0) {
      Put(m, L, n++, kEvEof, id, 0, 0);
    } else if (errno != EAGAIN && errno != EINTR) {
      Put(m, L, n++, kEvError, id, static_cast<uint32_t>(errno), 0);
      return n;
    }
  }
  if ((ev.events & EPOLLOUT) && (s.interest & kInterestOut)) Put(m, L, n++, kEvWritable, id, 0, 0);
  return n;
}

uint32_t Demux::Accept(const Memory& m, const Layout& L, uint32_t n, uint32_t listener) {
  int lfd = listeners_[listener];
  for (int i = 0; i < kAcceptBurst && n < L.evCap && lfd >= 0; i++) {
    int fd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if ((errno == EMFILE || errno == ENFILE) && spare_.Shed(lfd)) stats_.shed++;
      break;
    }
    n = Register(m, L, n, fd, listener);
  }
  return n;
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
  epoll_event ev{};
  ev.events = EpollMask(kInterestIn);
  ev.data.u64 = Tag(kTagConn, static_cast<uint32_t>(fd));
  epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
  uint32_t peerAddress = 0;
  uint32_t listenerAndPort = PeerWords(fd, listener, &peerAddress);
  Put(m, L, n++, kEvAccept, static_cast<uint32_t>(fd) | uint32_t(s.gen) << kSlotBits, listenerAndPort, peerAddress);
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

uint32_t Demux::Execute(const Memory& m, const Layout& L, uint32_t count) {
  uint32_t done = 0;
  const Record* subs = reinterpret_cast<const Record*>(m.base + L.subRing);
  for (uint32_t i = 0; i < count; i++) {
    Record r;
    std::memcpy(&r, &subs[i], sizeof r);
    FdState* s = Live(r.conn);
    if (s == nullptr) continue;  // the module named a connection that is gone
    int fd = static_cast<int>(r.conn & kSlotMask);
    if (r.op == kOpSend || r.op == kOpSendNotify) {
      if (uint64_t(r.a) + r.b > m.length) {  // never trust a pointer: report, don't crash
        Put(m, L, done++, kEvError, r.conn, EFAULT, 0);
        continue;
      }
      ssize_t sent = send(fd, m.base + r.a, r.b, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (sent < 0 && errno != EAGAIN && errno != EINTR) {
        Put(m, L, done++, kEvError, r.conn, static_cast<uint32_t>(errno), 0);
        continue;
      }
      uint32_t n = sent > 0 ? static_cast<uint32_t>(sent) : 0;
      stats_.bytesOut += n;
      if (n < r.b || r.op == kOpSendNotify) Put(m, L, done++, kEvSent, r.conn, r.a + n, r.b - n);
    } else if (r.op == kOpInterest) {
      epoll_event ev{};
      ev.events = EpollMask(r.a);
      ev.data.u64 = Tag(kTagConn, static_cast<uint32_t>(fd));
      epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev);
      s->interest = static_cast<uint8_t>(r.a);
    } else if (r.op == kOpClose) {
      CloseFd(fd);
    }
  }
  return done;
}

}  // namespace wr
