#include "uring_demux.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace wr {

namespace {

// user_data = kind << 56 | arming sequence << 40 | connection id (or listener index).
enum Kind : uint64_t { kRecv = 1, kPollOut = 2, kAccept = 3, kSend = 4, kCancel = 5, kListenPoll = 6 };

uint64_t UserData(uint64_t kind, uint8_t seq, uint32_t id) { return kind << 56 | uint64_t(seq) << 40 | id; }

constexpr unsigned kSubmissionEntries = 4096;
constexpr unsigned kCompletionEntries = 16384;
constexpr uint16_t kGroup = 0;
// A receive fills at most one buffer (the module assembles partial packets anyway).
// Incremental buffers are shared by many small receives, so they can be large: a 64 KiB
// message arrives in two or three receives, and 1,000 connections' small reads share a few.
constexpr uint32_t kIncrementalBufferBytes = 32 * 1024;
constexpr uint32_t kMinIncrementalBuffers = 8;
// Where a receive takes a whole buffer (kernels before 6.12), 2 KiB holds a typical
// request or message and wastes little on small ones.
constexpr uint32_t kBufferBytes = 2048;
constexpr uint32_t kMinBuffers = 64;
constexpr uint32_t kMaxBuffers = 32768;  // buffer ids are 16-bit; ring entries a power of two up to 2^15
constexpr uint32_t kMaxInjectionRoom = 256 * 1024;

// WASM_REACTOR_IO_URING=fixed keeps whole-buffer receives where the kernel could do
// better: the older kernels' path, testable here.
bool WholeBuffersAsked() {
  const char* v = std::getenv("WASM_REACTOR_IO_URING");
  return v != nullptr && std::strcmp(v, "fixed") == 0;
}

}  // namespace

UringDemux::UringDemux() {
  if (!ring_.Init(kSubmissionEntries, kCompletionEntries) || wakeFd_ < 0) return;
  eventfdRegistered_ = ring_.Register(IORING_REGISTER_EVENTFD, &wakeFd_, 1) == 0;
}

UringDemux::~UringDemux() {
  if (!ring_.ok()) return;
  CloseListeners();
  CloseConnections();
}

// A failed io_uring_enter while the queue is full leaves no SQE: the operation is
// written into this spare one and never submitted (an EV_ERROR-free loss we avoid by
// sizing the queue above the most a batch submits).
io_uring_sqe* UringDemux::Sqe() {
  static thread_local io_uring_sqe spare;
  io_uring_sqe* sqe = ring_.Next();
  if (sqe == nullptr) {
    std::memset(&spare, 0, sizeof spare);
    return &spare;
  }
  return sqe;
}

int UringDemux::AddListener(int fd) {
  listeners_.push_back(fd);
  uint32_t index = uint32_t(listeners_.size() - 1);
  ArmAccept(index);
  return int(index);
}

void UringDemux::ArmAccept(uint32_t listener) {
  io_uring_sqe* sqe = Sqe();
  sqe->opcode = IORING_OP_ACCEPT;
  sqe->fd = listeners_[listener];
  sqe->ioprio = IORING_ACCEPT_MULTISHOT;
  sqe->accept_flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
  sqe->user_data = UserData(kAccept, 0, listener);
}

void UringDemux::ArmListenPoll(uint32_t listener) {
  io_uring_sqe* sqe = Sqe();
  sqe->opcode = IORING_OP_POLL_ADD;
  sqe->fd = listeners_[listener];
  sqe->poll32_events = POLLIN;
  sqe->user_data = UserData(kListenPoll, 0, listener);
}

void UringDemux::CloseListeners() {
  bool any = false;
  for (int& fd : listeners_) {
    if (fd < 0) continue;
    CancelFd(fd);
    any = true;
  }
  if (!any) return;
  EnterAndHarvest();  // the kernel drops its references now: the ports stop accepting
  for (int& fd : listeners_) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
  // Accepted by the kernel but never the module's: closed as epoll's listener close
  // resets its backlog (a shutdown must not wait for connections nobody will serve).
  CloseAccepted();
}

void UringDemux::CloseAccepted() {
  for (const auto& a : accepted_) close(a.first);
  stats_.shed += accepted_.size();
  accepted_.clear();
}

void UringDemux::CloseConnections() {
  for (size_t fd = 0; fd < fds_.size(); fd++) {
    if (fds_[fd].open) CancelFd(int(fd));
  }
  EnterAndHarvest();
  for (int fd : closing_) close(fd);
  closing_.clear();
  CloseOpenFds();
  CloseAccepted();
  staged_.clear();
  for (int fd : heldFds_) conns_[fd].held.clear();
  heldFds_.clear();
  toArm_.clear();
  starved_.clear();
  // The memory these buffers lived in belonged to the instance: Attach lays them out again.
  deliveredNow_.clear();
  deliveredBefore_.clear();
  free_.clear();
  attached_ = false;
}

bool UringDemux::Attach(const Memory& m, const Layout& L) {
  injectionRoom_ = std::min(L.arenaHalf / 4, kMaxInjectionRoom);
  uint32_t first = L.arena + 2 * injectionRoom_;
  uint32_t room = 2 * (L.arenaHalf - injectionRoom_);
  // No receive is armed here (a fresh reactor, or CloseConnections ran): replacing the
  // group cannot strand one.
  uint32_t big = room / kIncrementalBufferBytes;
  if (big >= kMinIncrementalBuffers && !WholeBuffersAsked() &&
      buffers_.Init(&ring_, kGroup, m.base, first, kIncrementalBufferBytes, std::min(big, kMaxBuffers), true)) {
    rearmAt_ = big / 4;
  } else {
    uint32_t count = std::min(room / kBufferBytes, kMaxBuffers);
    if (count < kMinBuffers) {
      errno = ENOBUFS;
      return false;
    }
    if (!buffers_.Init(&ring_, kGroup, m.base, first, kBufferBytes, count, false)) return false;
    rearmAt_ = kMinBuffers / 2;
  }
  base_ = m.base;
  attached_ = true;
  return true;
}

void UringDemux::Rebase(const Memory& m) {
  // Only the module's memory.grow can move it, and only during dispatch; the kernel
  // reads the entries only inside our io_uring_enter, so rewriting them here is enough.
  if (attached_ && m.base != base_) {
    buffers_.Rebase(m.base);
    base_ = m.base;
  }
}

void UringDemux::Watch(int fd) {
  if (size_t(fd) >= conns_.size()) conns_.resize(std::max<size_t>(fd + 1, conns_.size() * 2));
  Conn& c = conns_[fd];
  c.receiving = c.polling = c.ended = false;
  c.held.clear();
  toArm_.push_back(IdOf(fd, fds_[fd]));
}

void UringDemux::ArmReceive(int fd) {
  Conn& c = conns_[fd];
  PrepareMultishotReceive(Sqe(), fd, kGroup, UserData(kRecv, ++c.recvSeq, IdOf(fd, fds_[fd])));
  c.receiving = true;
}

void UringDemux::ArmPollOut(int fd) {
  Conn& c = conns_[fd];
  io_uring_sqe* sqe = Sqe();
  sqe->opcode = IORING_OP_POLL_ADD;
  sqe->fd = fd;
  sqe->poll32_events = POLLOUT;
  sqe->user_data = UserData(kPollOut, ++c.pollSeq, IdOf(fd, fds_[fd]));
  c.polling = true;
}

void UringDemux::Cancel(uint64_t userData) {
  io_uring_sqe* sqe = Sqe();
  sqe->opcode = IORING_OP_ASYNC_CANCEL;
  sqe->addr = userData;
  sqe->user_data = UserData(kCancel, 0, 0);
}

void UringDemux::CancelFd(int fd) {
  io_uring_sqe* sqe = Sqe();
  sqe->opcode = IORING_OP_ASYNC_CANCEL;
  sqe->fd = fd;
  sqe->cancel_flags = IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL;
  sqe->user_data = UserData(kCancel, 0, 0);
}

bool UringDemux::EnterAndHarvest() {
  bool entered = ring_.Enter();
  Harvest();
  return entered;
}

void UringDemux::Harvest() {
  while (const io_uring_cqe* p = ring_.Peek()) {
    io_uring_cqe cqe = *p;
    ring_.Advance();
    OnCompletion(cqe);
  }
}

void UringDemux::OnCompletion(const io_uring_cqe& cqe) {
  uint64_t kind = cqe.user_data >> 56;
  uint8_t seq = uint8_t(cqe.user_data >> 40);
  uint32_t id = uint32_t(cqe.user_data);
  int32_t buffer = (cqe.flags & IORING_CQE_F_BUFFER) ? int32_t(cqe.flags >> IORING_CQE_BUFFER_SHIFT) : -1;
  uint32_t at = buffer >= 0 ? buffers_.Take(uint16_t(buffer), cqe.res > 0 ? uint32_t(cqe.res) : 0, cqe.flags & kCqeBufferMore) : 0;
  bool more = cqe.flags & IORING_CQE_F_MORE;
  int fd = int(id & kSlotMask);
  if (kind == kAccept) {
    if (id >= listeners_.size() || listeners_[id] < 0) {
      if (cqe.res >= 0) close(cqe.res);  // raced the listener's close
      return;
    }
    if (cqe.res >= 0) {
      accepted_.emplace_back(cqe.res, id);
    } else if (cqe.res == -EMFILE || cqe.res == -ENFILE) {
      // io_uring takes the descriptor before it looks for a connection: re-armed at the
      // limit, the accept would fail at once even with none waiting, for ever (a busy
      // loop). Until descriptors are free, the listener is polled and served by hand.
      return ArmListenPoll(id);
    }
    if (!more) ArmAccept(id);  // an error ends a multishot accept: arm it again
    return;
  }
  if (kind == kListenPoll) {
    if (id >= listeners_.size() || listeners_[id] < 0 || cqe.res == -ECANCELED) return;
    int fd = accept4(listeners_[id], nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {  // descriptors again: back to the multishot accept
      accepted_.emplace_back(fd, id);
      return ArmAccept(id);
    }
    if (errno == EMFILE || errno == ENFILE) ShedOne(listeners_[id]);  // the spare-descriptor trick (listener.h)
    return ArmListenPoll(id);
  }
  if (kind == kSend) sendsInFlight_--;
  FdState* s = Live(id);
  if (s == nullptr) {  // a connection closed since: its bytes were never the module's
    Unneeded(buffer);
    return;
  }
  Conn& c = conns_[fd];
  if (kind == kSend) {
    if (cqe.res < 0 && cqe.res != -EAGAIN) return Complete({kEvError, id, uint32_t(-cqe.res), 0, -1, false});
    uint32_t sent = cqe.res > 0 ? uint32_t(cqe.res) : 0;
    stats_.bytesOut += sent;
    if (sent < c.sendLen || c.sendOp == kOpSendNotify) Complete({kEvSent, id, c.sendAt + sent, c.sendLen - sent, -1, false});
  } else if (kind == kRecv) {
    bool current = seq == c.recvSeq;
    if (current && !more) c.receiving = false;
    if (cqe.res > 0) {
      stats_.receives++;
      Stage({kEvData, id, at, uint32_t(cqe.res), buffer, true});
      return;
    }
    Unneeded(buffer);
    if (cqe.res == -ENOBUFS) {
      stats_.starved++;
      if (current) starved_.push_back(id);
    } else if (cqe.res != -ECANCELED) {
      if (current) c.ended = true;  // EOF or an error: nothing more to receive
      Stage(cqe.res == 0 ? Event{kEvEof, id, 0, 0, -1, true} : Event{kEvError, id, uint32_t(-cqe.res), 0, -1, true});
    }
  } else if (kind == kPollOut) {
    if (seq != c.pollSeq) return;
    c.polling = false;
    if (cqe.res != -ECANCELED) Stage({kEvWritable, id, 0, 0, -1, false});
  }
}

// A send's result: inside Execute it goes straight to the start of the event ring (the
// completions of the next batch), else it waits with the other completions.
void UringDemux::Complete(const Event& e) {
  if (completionMemory_ != nullptr && completions_ < completionLayout_->evCap) {
    Put(*completionMemory_, *completionLayout_, completions_++, e.op, e.conn, e.a, e.b);
  } else {
    Stage(e);
  }
}

void UringDemux::Stage(const Event& e) { staged_.push_back(e); }

void UringDemux::Unneeded(int32_t buffer) {
  if (buffer >= 0) free_.push_back(buffer);
}

uint32_t UringDemux::PutEvent(const Memory& m, const Layout& L, uint32_t n, const Event& e) {
  if (e.op == kEvData) {
    deliveredNow_.push_back(e.buffer);
    stats_.bytesIn += e.b;
    // A receive that continues the record just put (same connection, the next bytes in
    // memory: consecutive receives into one buffer, or across buffers that lie side by
    // side) extends it: one record lets the module send the bytes straight from the
    // arena, where two would make it copy them into the connection's buffer first. Up to
    // one large buffer's worth, so a batch's bytes stay bounded by its records as before.
    if (n > 0 && n - 1 == lastData_ && e.conn == lastDataConn_ && e.a == lastDataEnd_) {
      Record r = EventAt(m, L, n - 1);
      if (r.b + e.b <= kIncrementalBufferBytes) {
        Put(m, L, n - 1, r.op, r.conn, r.a, r.b + e.b);
        lastDataEnd_ += e.b;
        return n;
      }
    }
    lastData_ = n;
    lastDataConn_ = e.conn;
    lastDataEnd_ = e.a + e.b;
  }
  Put(m, L, n, e.op, e.conn, e.a, e.b);
  return n + 1;
}

uint32_t UringDemux::Deliver(const Memory& m, const Layout& L, uint32_t n, const Event& e) {
  FdState* s = Live(e.conn);
  if (s == nullptr) {
    Unneeded(e.buffer);
    return n;
  }
  int fd = int(e.conn & kSlotMask);
  Conn& c = conns_[fd];
  if (e.input && (!(s->interest & kInterestIn) || !c.held.empty())) {
    // Input the module asked not to hear (yet): it waits, in order, as unread bytes
    // wait in the kernel under epoll.
    if (c.held.empty()) heldFds_.push_back(fd);
    c.held.push_back(e);
    return n;
  }
  if (e.op == kEvWritable) {
    if (!(s->interest & kInterestOut)) return n;
    toArm_.push_back(e.conn);  // still wanted after this batch: poll again (level-triggered)
  }
  return PutEvent(m, L, n, e);
}

uint32_t UringDemux::DeliverHeld(const Memory& m, const Layout& L, uint32_t n) {
  for (size_t i = 0; i < heldFds_.size() && n < L.evCap;) {
    int fd = heldFds_[i];
    Conn& c = conns_[fd];
    if (fds_[fd].interest & kInterestIn) {
      while (!c.held.empty() && n < L.evCap) {
        n = PutEvent(m, L, n, c.held.front());
        c.held.pop_front();
      }
    }
    if (c.held.empty()) {
      heldFds_[i] = heldFds_.back();
      heldFds_.pop_back();
    } else {
      i++;
    }
  }
  return n;
}

void UringDemux::DropHeld(int fd) {
  Conn& c = conns_[fd];
  if (c.held.empty()) return;
  for (const Event& e : c.held) Unneeded(e.buffer);
  c.held.clear();
  heldFds_.erase(std::find(heldFds_.begin(), heldFds_.end(), fd));
}

void UringDemux::BeginRun() {
  uint64_t drained;
  (void)!read(wakeFd_, &drained, sizeof drained);
  ring_.SignalEventfd(false);  // we harvest as we go: no wake-ups for our own completions
}

bool UringDemux::EndRun() {
  ring_.SignalEventfd(true);
  // Work that came while the signal was off would otherwise wait for unrelated traffic.
  if (!staged_.empty() || !accepted_.empty() || !toArm_.empty() || ring_.Queued() > 0 || ring_.WorkPending() || ring_.Peek() != nullptr) {
    return true;
  }
  for (int fd : heldFds_) {
    if (fds_[fd].interest & kInterestIn) return true;
  }
  return false;
}

// Receives and polls the connections in toArm_ still want (new ones, input or output
// interest turned on, output still wanted after a WRITABLE, receives starved of buffers).
void UringDemux::ArmWaiting() {
  for (uint32_t id : toArm_) {
    FdState* s = Live(id);
    if (s == nullptr) continue;
    int fd = int(id & kSlotMask);
    Conn& c = conns_[fd];
    if ((s->interest & kInterestIn) && !c.receiving && !c.ended) ArmReceive(fd);
    if ((s->interest & kInterestOut) && !c.polling) ArmPollOut(fd);
  }
  toArm_.clear();
}

uint32_t UringDemux::Gather(const Memory& m, const Layout& L, uint32_t n, uint32_t, uint32_t) {
  Rebase(m);
  lastData_ = UINT32_MAX;
  n = TakeAdopted(m, L, n);
  ArmWaiting();
  if (ring_.Queued() > 0 || ring_.WorkPending()) ring_.Enter();
  Harvest();
  size_t taken = 0;
  while (taken < accepted_.size() && n < L.evCap) {
    n = Register(m, L, n, accepted_[taken].first, accepted_[taken].second);
    taken++;
  }
  accepted_.erase(accepted_.begin(), accepted_.begin() + std::ptrdiff_t(taken));
  n = DeliverHeld(m, L, n);
  while (!staged_.empty() && n < L.evCap) {
    Event e = staged_.front();
    staged_.pop_front();
    n = Deliver(m, L, n, e);
  }
  // Nothing to deliver: no completion can point into the batch before, so its records
  // are released now. Were it left to the next Execute, a batch that took every buffer
  // would wait for traffic that cannot come (all receives starved): EndRun sees the
  // starved receives back in toArm_ and wakes the loop to arm them.
  if (n == 0) Recycle();
  return n;
}

// Releases the records of the batch before and those dropped unread; receives that found
// no buffer are armed again (with the next gather's enter) once enough buffers came back:
// re-armed into an empty ring they would only fail again. At most half as many as there
// are free buffers, oldest first: re-armed all at once, the first few take every buffer
// and the rest fail again at once (at 50 connections of 64 KiB messages, ~90,000
// failed receives a second).
void UringDemux::Recycle() {
  if (sendsInFlight_ > 0) return;
  for (int32_t b : deliveredBefore_) buffers_.Drop(uint16_t(b));
  for (int32_t b : free_) buffers_.Drop(uint16_t(b));
  deliveredBefore_.clear();
  free_.clear();
  buffers_.Publish();
  if (buffers_.inKernel() >= rearmAt_) {
    size_t k = std::min(starved_.size(), std::max<size_t>(1, buffers_.inKernel() / 2));
    toArm_.insert(toArm_.end(), starved_.begin(), starved_.begin() + std::ptrdiff_t(k));
    starved_.erase(starved_.begin(), starved_.begin() + std::ptrdiff_t(k));
  }
}

uint32_t UringDemux::Execute(const Memory& m, const Layout& L, uint32_t count) {
  Rebase(m);
  completionMemory_ = &m;
  completionLayout_ = &L;
  completions_ = 0;
  for (uint32_t i = 0; i < count; i++) {
    Record r = Submission(m, L, i);
    FdState* s = Live(r.conn);
    if (s == nullptr) continue;  // the module named a connection that is gone
    int fd = int(r.conn & kSlotMask);
    Conn& c = conns_[fd];
    if (r.op == kOpSend || r.op == kOpSendNotify) {
      if (uint64_t(r.a) + r.b > m.length) {  // never trust a pointer: report, don't crash
        Complete({kEvError, r.conn, EFAULT, 0, -1, false});
        continue;
      }
      io_uring_sqe* sqe = Sqe();
      sqe->opcode = IORING_OP_SEND;
      sqe->fd = fd;
      sqe->addr = reinterpret_cast<uint64_t>(m.base + r.a);
      sqe->len = r.b;
      sqe->msg_flags = MSG_NOSIGNAL | MSG_DONTWAIT;  // a full socket answers EAGAIN now, like send(2)
      sqe->user_data = UserData(kSend, 0, r.conn);
      c.sendOp = uint8_t(r.op);
      c.sendAt = r.a;
      c.sendLen = r.b;
      sendsInFlight_++;
    } else if (r.op == kOpInterest) {
      uint8_t was = s->interest;
      s->interest = uint8_t(r.a);
      if ((was & kInterestIn) && !(r.a & kInterestIn) && c.receiving) {
        Cancel(UserData(kRecv, c.recvSeq, r.conn));
        c.receiving = false;
      }
      if (!(r.a & kInterestOut) && c.polling) {
        Cancel(UserData(kPollOut, c.pollSeq, r.conn));
        c.polling = false;
      }
      if (r.a != was) toArm_.push_back(r.conn);
    } else if (r.op == kOpClose) {
      // Cancel first, close after the enter: the sends queued before still name this fd,
      // and the cancel finds its requests by the open file.
      CancelFd(fd);
      DropHeld(fd);
      fds_[fd].open = 0;
      stats_.open--;
      closing_.push_back(fd);
    }
  }
  ArmWaiting();
  EnterAndHarvest();  // sends, cancels and arms in one system call, and the completions due
  for (int fd : closing_) close(fd);
  closing_.clear();
  // Records of the batch before are free once this dispatch is over and the sends it
  // submitted have left (they complete inside the enter; one still in flight holds them).
  Recycle();
  deliveredBefore_.insert(deliveredBefore_.end(), deliveredNow_.begin(), deliveredNow_.end());
  deliveredNow_.clear();
  completionMemory_ = nullptr;
  completionLayout_ = nullptr;
  return completions_;
}

}  // namespace wr
