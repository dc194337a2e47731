// A minimal io_uring, by raw system calls (no liburing: Debian's is too old for what we
// use, and the kernel interface is all we need). One Ring is set up with
// SINGLE_ISSUER | DEFER_TASKRUN: the kernel completes requests, and so writes into
// provided buffers, only inside this thread's io_uring_enter — never while the module
// runs, never behind the host's back. A BufferRing hands the kernel buffers that live in
// the module's arena, so a receive still lands straight in linear memory.
#pragma once
#include <linux/io_uring.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace wr {

class Ring {
 public:
  Ring() = default;
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  // Sets the ring up; false with errno set (and step() naming the call that failed).
  bool Init(unsigned entries, unsigned cqEntries);
  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const char* step() const { return step_; }

  // A zeroed SQE, or nullptr when the queue is full even after submitting what it holds.
  io_uring_sqe* Next();
  // Submits what was queued and runs the kernel's deferred completions (task work);
  // returns false with errno set if the kernel refused the call.
  bool Enter();
  // Whether completions wait in the kernel to be run (the TASKRUN flag): only then does
  // harvesting need a system call.
  bool WorkPending() const;
  unsigned Queued() const { return sqTail_ - submitted_; }
  // Whether completions signal the registered eventfd (off while we harvest anyway).
  void SignalEventfd(bool on);

  // Completions: call Peek until it returns nullptr, Advance after each.
  const io_uring_cqe* Peek() const;
  void Advance();

  int Register(unsigned opcode, void* arg, unsigned count);

 private:
  int fd_ = -1;
  const char* step_ = "";
  void* sqMap_ = nullptr;
  size_t sqMapBytes_ = 0;
  void* cqMap_ = nullptr;
  size_t cqMapBytes_ = 0;
  io_uring_sqe* sqes_ = nullptr;
  size_t sqesBytes_ = 0;
  unsigned *sqHead_ = nullptr, *sqTailPtr_ = nullptr, *sqMask_ = nullptr, *sqArray_ = nullptr, *sqFlags_ = nullptr;
  unsigned *cqHead_ = nullptr, *cqTail_ = nullptr, *cqMask_ = nullptr, *cqFlags_ = nullptr;
  io_uring_cqe* cqes_ = nullptr;
  unsigned sqEntries_ = 0;
  unsigned sqTail_ = 0;      // ours: published to the kernel on Enter
  unsigned submitted_ = 0;   // SQEs the kernel has taken
};

// The provided-buffer ring of one buffer group: `count` buffers of `size` bytes at
// `offset` in linear memory (the arena), and who still needs each one.
//  - Incremental mode (IOU_PBUF_RING_INC, Linux 6.12+): the kernel fills a buffer by as
//    many receives as fit, so a 64-byte read takes 64 bytes, not a whole buffer; a
//    completion flagged BUF_MORE leaves the buffer with the kernel. Otherwise every
//    receive takes a whole buffer.
//  - A buffer goes back to the kernel once the kernel is done with it and every record
//    cut from it has been dropped (Take counts a record, Drop releases it).
//  - Entries hold absolute addresses (the kernel advances them in incremental mode), so
//    when the memory moves, Rebase shifts them all.
class BufferRing {
 public:
  BufferRing() = default;
  ~BufferRing();
  BufferRing(const BufferRing&) = delete;
  BufferRing& operator=(const BufferRing&) = delete;

  // Registers group `group` with `ring`; every buffer starts in the kernel's hands.
  // `incremental` asks for incremental consumption (EINVAL where the kernel lacks it).
  bool Init(Ring* ring, uint16_t group, uint8_t* base, uint32_t offset, uint32_t size, uint32_t count, bool incremental);
  void Release();
  // A completion named buffer `id` for `bytes` received: returns where in linear memory
  // they start and counts a record on the buffer; `kernelKeeps` (IORING_CQE_F_BUF_MORE)
  // says the kernel goes on filling it.
  uint32_t Take(uint16_t id, uint32_t bytes, bool kernelKeeps);
  // A record of buffer `id` is no longer needed; the buffer goes back to the kernel
  // (visible once Publish runs) when it was the last and the kernel is done with it.
  void Drop(uint16_t id);
  void Publish();
  void Rebase(uint8_t* base);
  uint32_t inKernel() const { return inKernel_; }

 private:
  struct Lent {
    uint32_t used = 0;  // bytes the kernel has filled (incremental mode)
    uint16_t records = 0;
    bool kernelDone = false;
  };
  uint32_t OffsetOf(uint16_t id) const { return offset_ + uint32_t(id) * size_; }
  io_uring_buf* Entry(unsigned slot) const;
  void Give(uint16_t id);
  Ring* ring_ = nullptr;
  io_uring_buf_ring* entries_ = nullptr;
  size_t bytes_ = 0;
  uint8_t* base_ = nullptr;
  uint32_t offset_ = 0, size_ = 0, mask_ = 0, inKernel_ = 0;
  uint16_t group_ = 0, tail_ = 0;
  bool registered_ = false;
  std::vector<Lent> lent_;
};

// A completion's flag, newer than the 6.1 UAPI header this builds against: the kernel
// keeps filling the (incremental) buffer it names.
constexpr uint32_t kCqeBufferMore = 1U << 4;  // IORING_CQE_F_BUF_MORE

// A multishot receive into buffers of `group`: what the host arms per connection, and
// what the probe below tries, so the probe tests exactly what the host will submit.
void PrepareMultishotReceive(io_uring_sqe* sqe, int fd, uint16_t group, uint64_t userData);

// Whether this kernel gives us everything the uring host needs: "" if so, else the
// reason (the first refusal met), for the notice of the fallback to epoll.
std::string UringSupport();

}  // namespace wr
