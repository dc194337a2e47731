// The io_uring demultiplexer: the same door as epoll_demux.h, with the system calls
// gone from the per-connection path.
//  - Each listener has a multishot accept, each connection a multishot receive whose
//    buffers come from a provided-buffer ring carved out of the module's arena: the
//    kernel still writes straight into linear memory; one DATA record is one receive (or
//    a few of one connection that continue each other in memory).
//  - A batch's sends (MSG_DONTWAIT: a short send is reported as EV_SENT, exactly as the
//    epoll host reports it), cancels and re-arms go to the kernel in one io_uring_enter,
//    which also runs the completions waiting for us (DEFER_TASKRUN).
//  - OUT interest is a one-shot POLLOUT, re-armed each batch while the module wants it
//    (level-triggered, as epoll reports it).
//  - Node's loop polls an eventfd registered with the ring.
// Arena: two InjectionRoom()-byte areas for JS's events (one per batch, alternating),
// then the rest of the arena cut into buffers (large ones shared by many receives where
// the kernel consumes them incrementally, else 2 KiB each). A record delivered in batch k
// holds its buffer through dispatch k+1 and the sends it submitted (the double-buffering
// rule of docs/ABI.md, kept per record); a buffer goes back to the kernel when none of
// its records is held and the kernel has finished filling it.
#pragma once
#include <deque>
#include <vector>

#include "demux.h"
#include "uring.h"

namespace wr {

class UringDemux final : public Demux {
 public:
  UringDemux();
  ~UringDemux() override;
  bool ok() const override { return ring_.ok() && wakeFd_ >= 0 && eventfdRegistered_; }
  int pollFd() const override { return wakeFd_; }
  int AddListener(int fd) override;
  void CloseListeners() override;
  void CloseConnections() override;
  bool Attach(const Memory& m, const Layout& L) override;
  uint32_t InjectionAt(const Layout& L, uint32_t half) const override { return L.arena + half * injectionRoom_; }
  uint32_t InjectionRoom(const Layout&) const override { return injectionRoom_; }
  void BeginRun() override;
  bool EndRun() override;
  uint32_t Gather(const Memory& m, const Layout& L, uint32_t n, uint32_t arenaHalfIndex, uint32_t arenaUsed) override;
  uint32_t Execute(const Memory& m, const Layout& L, uint32_t count) override;

 private:
  // What a completion became, waiting for room in the event ring.
  struct Event {
    uint32_t op, conn, a, b;
    int32_t buffer;  // the buffer a DATA record holds, else -1
    bool input;      // it came from the receive: it waits while input interest is off
  };
  struct Conn {  // per fd, beside Demux::FdState
    uint8_t recvSeq = 0, pollSeq = 0;  // which arming a completion belongs to
    bool receiving = false, polling = false, ended = false;
    uint8_t sendOp = 0;
    uint32_t sendAt = 0, sendLen = 0;
    std::deque<Event> held;  // input read while the module had input interest off
  };

  void Watch(int fd) override;
  io_uring_sqe* Sqe();
  void ArmReceive(int fd);
  void ArmPollOut(int fd);
  void ArmAccept(uint32_t listener);
  void ArmListenPoll(uint32_t listener);  // out of descriptors: wait for a connection to shed
  void ArmWaiting();
  void Cancel(uint64_t userData);
  void CancelFd(int fd);
  bool EnterAndHarvest();
  void Harvest();
  void OnCompletion(const io_uring_cqe& cqe);
  void Stage(const Event& e);
  void Complete(const Event& e);
  uint32_t Deliver(const Memory& m, const Layout& L, uint32_t n, const Event& e);
  uint32_t PutEvent(const Memory& m, const Layout& L, uint32_t n, const Event& e);
  void DropHeld(int fd);
  uint32_t DeliverHeld(const Memory& m, const Layout& L, uint32_t n);
  void Unneeded(int32_t buffer);  // a record's bytes are no longer needed (its buffer, or -1)
  void Recycle();
  void Rebase(const Memory& m);

  Ring ring_;
  BufferRing buffers_;
  bool eventfdRegistered_ = false;
  bool attached_ = false;
  uint8_t* base_ = nullptr;  // the memory address the buffer ring's entries were written for
  uint32_t injectionRoom_ = 0;
  std::vector<Conn> conns_;
  std::deque<Event> staged_;               // completions not yet in the event ring
  // Connections the kernel accepted, not yet registered (fd, listener): they go into the
  // ring before other completions, so a flood of input cannot delay new connections.
  std::vector<std::pair<int, uint32_t>> accepted_;
  void CloseAccepted();
  std::vector<int> heldFds_;               // connections with held input
  std::vector<uint32_t> toArm_;            // connection ids to (re)arm after this batch
  std::deque<uint32_t> starved_;           // receives that found no buffer: re-armed after a recycle, oldest first
  std::vector<int> closing_;               // closed by the module: close(2) once the cancel is submitted
  std::vector<int32_t> deliveredNow_;      // buffers in this batch's records
  std::vector<int32_t> deliveredBefore_;   // buffers of the batch before (through this dispatch)
  std::vector<int32_t> free_;              // buffers of records dropped unread, released at the next recycle
  // Completions Execute writes at the start of the event ring (sends that finished in
  // its io_uring_enter); nullptr outside Execute, when they are staged instead.
  const Memory* completionMemory_ = nullptr;
  const Layout* completionLayout_ = nullptr;
  uint32_t completions_ = 0;
  uint32_t sendsInFlight_ = 0;
  uint32_t lastData_ = UINT32_MAX, lastDataConn_ = 0, lastDataEnd_ = 0;  // the DATA record a next receive may extend
  uint32_t rearmAt_ = 0;  // buffers back in the kernel before starved receives are armed again
};

}  // namespace wr
