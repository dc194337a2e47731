#include "epoll_demux.h"

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

uint32_t EpollMask(uint32_t interest) {
  uint32_t e = 0;
  // RDHUP only with input: a paused reader must not be woken by the peer's FIN forever.
  if (interest & kInterestIn) e |= EPOLLIN | EPOLLRDHUP;
  if (interest & kInterestOut) e |= EPOLLOUT;
  return e;
}

}  // namespace

EpollDemux::EpollDemux() {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ >= 0 && wakeFd_ >= 0) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = Tag(kTagWake, 0);
    epoll_ctl(epfd_, EPOLL_CTL_ADD, wakeFd_, &ev);
  }
}

EpollDemux::~EpollDemux() {
  CloseListeners();
  CloseConnections();
  if (epfd_ >= 0) close(epfd_);
}

int EpollDemux::AddListener(int fd) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = Tag(kTagListener, static_cast<uint32_t>(listeners_.size()));
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0) return -1;
  listeners_.push_back(fd);
  return static_cast<int>(listeners_.size() - 1);
}

void EpollDemux::CloseListeners() {
  for (int& fd : listeners_) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
}

void EpollDemux::Watch(int fd) {
  epoll_event ev{};
  ev.events = EpollMask(kInterestIn);
  ev.data.u64 = Tag(kTagConn, static_cast<uint32_t>(fd));
  epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
}

uint32_t EpollDemux::Gather(const Memory& m, const Layout& L, uint32_t n, uint32_t half, uint32_t arenaUsed) {
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

uint32_t EpollDemux::ReadReady(const Memory& m, const Layout& L, uint32_t n, const epoll_event& ev) {
  // Accepts earlier in this batch may have used the room; level-triggered epoll
  // reports this socket again next time.
  if (n + 2 > L.evCap) return n;
  int fd = static_cast<int>(ev.data.u64 & 0xffffffffu);
  FdState& s = fds_[fd];
  uint32_t id = IdOf(fd, s);
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
      stats_.receives++;
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

uint32_t EpollDemux::Accept(const Memory& m, const Layout& L, uint32_t n, uint32_t listener) {
  int lfd = listeners_[listener];
  for (int i = 0; i < kAcceptBurst && n < L.evCap && lfd >= 0; i++) {
    int fd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) ShedOne(lfd);
      break;
    }
    n = Register(m, L, n, fd, listener);
  }
  return n;
}

uint32_t EpollDemux::Execute(const Memory& m, const Layout& L, uint32_t count) {
  uint32_t done = 0;
  for (uint32_t i = 0; i < count; i++) {
    Record r = Submission(m, L, i);
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
