#include "uring.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <vector>

namespace wr {

namespace {

int Setup(unsigned entries, io_uring_params* p) { return int(syscall(__NR_io_uring_setup, entries, p)); }

void* MapRing(int fd, size_t bytes, off_t offset) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, offset);
  return p == MAP_FAILED ? nullptr : p;
}

// Newer than the 6.1 UAPI header this builds against (Linux 6.12+).
constexpr uint16_t kIncrementalFlag = 2;  // IOU_PBUF_RING_INC

template <typename T>
T* At(void* map, uint32_t offset) {
  return reinterpret_cast<T*>(static_cast<uint8_t*>(map) + offset);
}

}  // namespace

Ring::~Ring() {
  if (sqes_ != nullptr) munmap(sqes_, sqesBytes_);
  if (cqMap_ != nullptr && cqMap_ != sqMap_) munmap(cqMap_, cqMapBytes_);
  if (sqMap_ != nullptr) munmap(sqMap_, sqMapBytes_);
  if (fd_ >= 0) close(fd_);  // cancels whatever is still armed and drops its file references
}

bool Ring::Init(unsigned entries, unsigned cqEntries) {
  io_uring_params p{};
  // SINGLE_ISSUER + DEFER_TASKRUN: completions run only inside our own io_uring_enter
  // (so the kernel fills provided buffers only then); TASKRUN_FLAG tells us when there
  // is such work, so an idle harvest costs no system call.
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
            IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
  p.cq_entries = cqEntries;
  step_ = "io_uring_setup";
  fd_ = Setup(entries, &p);
  if (fd_ < 0) return false;
  sqEntries_ = p.sq_entries;
  sqMapBytes_ = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  cqMapBytes_ = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
  step_ = "mmap";
  if (p.features & IORING_FEAT_SINGLE_MMAP) {
    sqMapBytes_ = cqMapBytes_ = std::max(sqMapBytes_, cqMapBytes_);
    sqMap_ = cqMap_ = MapRing(fd_, sqMapBytes_, IORING_OFF_SQ_RING);
  } else {
    sqMap_ = MapRing(fd_, sqMapBytes_, IORING_OFF_SQ_RING);
    cqMap_ = MapRing(fd_, cqMapBytes_, IORING_OFF_CQ_RING);
  }
  sqesBytes_ = p.sq_entries * sizeof(io_uring_sqe);
  sqes_ = static_cast<io_uring_sqe*>(MapRing(fd_, sqesBytes_, IORING_OFF_SQES));
  if (sqMap_ == nullptr || cqMap_ == nullptr || sqes_ == nullptr) return false;
  sqHead_ = At<unsigned>(sqMap_, p.sq_off.head);
  sqTailPtr_ = At<unsigned>(sqMap_, p.sq_off.tail);
  sqMask_ = At<unsigned>(sqMap_, p.sq_off.ring_mask);
  sqArray_ = At<unsigned>(sqMap_, p.sq_off.array);
  sqFlags_ = At<unsigned>(sqMap_, p.sq_off.flags);
  cqHead_ = At<unsigned>(cqMap_, p.cq_off.head);
  cqTail_ = At<unsigned>(cqMap_, p.cq_off.tail);
  cqMask_ = At<unsigned>(cqMap_, p.cq_off.ring_mask);
  cqFlags_ = At<unsigned>(cqMap_, p.cq_off.flags);
  cqes_ = At<io_uring_cqe>(cqMap_, p.cq_off.cqes);
  sqTail_ = submitted_ = *sqTailPtr_;
  step_ = "";
  return true;
}

io_uring_sqe* Ring::Next() {
  if (sqTail_ - submitted_ >= sqEntries_ && (!Enter() || sqTail_ - submitted_ >= sqEntries_)) return nullptr;
  unsigned index = sqTail_ & *sqMask_;
  io_uring_sqe* sqe = &sqes_[index];
  std::memset(sqe, 0, sizeof *sqe);
  sqArray_[index] = index;
  sqTail_++;
  return sqe;
}

bool Ring::Enter() {
  unsigned toSubmit = sqTail_ - submitted_;
  __atomic_store_n(sqTailPtr_, sqTail_, __ATOMIC_RELEASE);
  for (;;) {
    long r = syscall(__NR_io_uring_enter, fd_, toSubmit, 0, IORING_ENTER_GETEVENTS, nullptr, 0);
    if (r >= 0) {
      submitted_ += unsigned(r);
      return true;
    }
    if (errno != EINTR) return false;
  }
}

bool Ring::WorkPending() const {
  return __atomic_load_n(sqFlags_, __ATOMIC_RELAXED) & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW);
}

void Ring::SignalEventfd(bool on) {
  unsigned flags = __atomic_load_n(cqFlags_, __ATOMIC_RELAXED);
  flags = on ? flags & ~IORING_CQ_EVENTFD_DISABLED : flags | IORING_CQ_EVENTFD_DISABLED;
  __atomic_store_n(cqFlags_, flags, __ATOMIC_RELEASE);
  // A full fence: the caller reads the TASKRUN flag next, and the kernel sets that flag
  // before it reads ours. Without it the store can wait in the store buffer while the
  // load goes ahead (x86 reorders exactly this), both sides miss, and a wake-up is lost.
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

const io_uring_cqe* Ring::Peek() const {
  unsigned head = *cqHead_;
  if (head == __atomic_load_n(cqTail_, __ATOMIC_ACQUIRE)) return nullptr;
  return &cqes_[head & *cqMask_];
}

void Ring::Advance() { __atomic_store_n(cqHead_, *cqHead_ + 1, __ATOMIC_RELEASE); }

int Ring::Register(unsigned opcode, void* arg, unsigned count) {
  return int(syscall(__NR_io_uring_register, fd_, opcode, arg, count));
}

BufferRing::~BufferRing() { Release(); }

bool BufferRing::Init(Ring* ring, uint16_t group, uint8_t* base, uint32_t offset, uint32_t size, uint32_t count, bool incremental) {
  Release();
  unsigned entries = 1;
  while (entries < count) entries <<= 1;
  if (count == 0 || entries > 32768) {
    errno = EINVAL;
    return false;
  }
  bytes_ = entries * sizeof(io_uring_buf);
  void* p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (p == MAP_FAILED) return false;
  entries_ = static_cast<io_uring_buf_ring*>(p);
  std::memset(entries_, 0, bytes_);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(entries_);
  reg.ring_entries = entries;
  reg.bgid = group;
  reg.pad = incremental ? kIncrementalFlag : 0;  // `flags` in newer headers: the same 16 bits
  ring_ = ring;
  if (ring->Register(IORING_REGISTER_PBUF_RING, &reg, 1) < 0) {
    int e = errno;
    munmap(entries_, bytes_);
    entries_ = nullptr;
    errno = e;
    return false;
  }
  registered_ = true;
  base_ = base;
  offset_ = offset;
  size_ = size;
  mask_ = entries - 1;
  group_ = group;
  tail_ = 0;
  lent_.assign(count, Lent{});
  for (uint32_t id = 0; id < count; id++) Give(uint16_t(id));
  inKernel_ = count;
  Publish();
  return true;
}

void BufferRing::Release() {
  if (registered_) {
    io_uring_buf_reg reg{};
    reg.bgid = group_;
    ring_->Register(IORING_UNREGISTER_PBUF_RING, &reg, 1);
    registered_ = false;
  }
  if (entries_ != nullptr) munmap(entries_, bytes_);
  entries_ = nullptr;
}

// The ring's entries, by hand: in C++ the header's flexible `bufs` member sits 8 bytes
// too far (its empty placeholder struct has size 1 there), so the kernel and we would
// disagree on every entry. The tail overlays the first entry's last 2 bytes.
static_assert(sizeof(io_uring_buf) == 16 && offsetof(io_uring_buf_ring, tail) == 14, "io_uring_buf_ring layout");

io_uring_buf* BufferRing::Entry(unsigned slot) const { return reinterpret_cast<io_uring_buf*>(entries_) + (slot & mask_); }

void BufferRing::Give(uint16_t id) {
  lent_[id] = Lent{};
  io_uring_buf* b = Entry(tail_++);
  b->addr = reinterpret_cast<uint64_t>(base_ + OffsetOf(id));
  b->len = size_;
  b->bid = id;
}

uint32_t BufferRing::Take(uint16_t id, uint32_t bytes, bool kernelKeeps) {
  Lent& l = lent_[id];
  // Receives into one buffer complete in the order they consumed it (the kernel runs
  // them one after another in our io_uring_enter), so the running total is their start
  // (0 for a whole buffer: its only receive).
  uint32_t at = OffsetOf(id) + l.used;
  l.used += bytes;
  l.records++;
  if (!kernelKeeps) {
    l.kernelDone = true;
    inKernel_--;
  }
  return at;
}

void BufferRing::Drop(uint16_t id) {
  Lent& l = lent_[id];
  if (--l.records > 0 || !l.kernelDone) return;
  Give(id);
  inKernel_++;
}

void BufferRing::Publish() { __atomic_store_n(&entries_->tail, tail_, __ATOMIC_RELEASE); }

void BufferRing::Rebase(uint8_t* base) {
  // Every slot, not only those the kernel still holds (a slot outside them is rewritten
  // by Give before the kernel sees it again), shifted rather than recomputed: in
  // incremental mode the kernel has advanced the address of a buffer it is filling.
  for (unsigned slot = 0; slot <= mask_; slot++) {
    io_uring_buf* b = Entry(slot);
    b->addr += reinterpret_cast<uint64_t>(base) - reinterpret_cast<uint64_t>(base_);  // modulo 2^64: any direction
  }
  base_ = base;
}

void PrepareMultishotReceive(io_uring_sqe* sqe, int fd, uint16_t group, uint64_t userData) {
  sqe->opcode = IORING_OP_RECV;
  sqe->fd = fd;
  sqe->ioprio = IORING_RECV_MULTISHOT;
  sqe->flags = IOSQE_BUFFER_SELECT;
  sqe->buf_group = group;
  sqe->user_data = userData;
}

namespace {

std::string Refused(const char* what, int err) { return std::string(what) + ": " + std::strerror(err); }

// The operations the host submits, each asked of the kernel's probe.
std::string MissingOperation(Ring* ring) {
  std::vector<uint8_t> space(sizeof(io_uring_probe) + 256 * sizeof(io_uring_probe_op), 0);
  auto* probe = reinterpret_cast<io_uring_probe*>(space.data());
  if (ring->Register(IORING_REGISTER_PROBE, probe, 256) < 0) return Refused("IORING_REGISTER_PROBE", errno);
  const struct {
    unsigned op;
    const char* name;
  } needed[] = {{IORING_OP_ACCEPT, "ACCEPT"}, {IORING_OP_RECV, "RECV"}, {IORING_OP_SEND, "SEND"},
                {IORING_OP_POLL_ADD, "POLL_ADD"}, {IORING_OP_ASYNC_CANCEL, "ASYNC_CANCEL"}};
  for (const auto& n : needed) {
    if (n.op > probe->last_op || !(probe->ops[n.op].flags & IO_URING_OP_SUPPORTED)) {
      return std::string("the kernel's io_uring has no ") + n.name;
    }
  }
  return "";
}

// A multishot receive into a provided buffer, tried for real on a socket pair: the
// kernel must post the bytes and say the receive stays armed (Linux 6.0 and later).
std::string MultishotReceiveFails(Ring* ring) {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return Refused("socketpair", errno);
  static uint8_t buffer[64];
  BufferRing buffers;
  std::string why;
  if (!buffers.Init(ring, 0, buffer, 0, sizeof buffer, 1, false)) {
    why = Refused("IORING_REGISTER_PBUF_RING", errno);
  } else {
    PrepareMultishotReceive(ring->Next(), pair[0], 0, 1);
    (void)!write(pair[1], "x", 1);
    if (!ring->Enter()) {
      why = Refused("io_uring_enter", errno);
    } else {
      const io_uring_cqe* cqe = ring->Peek();
      if (cqe == nullptr || cqe->res != 1 || !(cqe->flags & IORING_CQE_F_MORE) || !(cqe->flags & IORING_CQE_F_BUFFER)) {
        why = cqe != nullptr && cqe->res < 0 ? Refused("multishot receive", -cqe->res)
                                               : "multishot receive did not stay armed (Linux 6.0 or later needed)";
      }
      while (ring->Peek() != nullptr) ring->Advance();
    }
  }
  close(pair[0]);
  close(pair[1]);
  // The ring itself goes (with the armed receive) when the caller's Ring does.
  return why;
}

}  // namespace

std::string UringSupport() {
  Ring ring;
  if (!ring.Init(8, 16)) return Refused(ring.step(), errno);
  std::string why = MissingOperation(&ring);
  if (why.empty()) why = MultishotReceiveFails(&ring);
  return why;
}

}  // namespace wr
