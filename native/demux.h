// The Synchronous Event Demultiplexer: epoll, accept, recv and send, with no
// knowledge of JavaScript. It writes event records into the module's ring and
// carries out the module's submissions, always through a memory pointer the
// caller has just re-read (memory.grow may move it).
#pragma once
#include <sys/epoll.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "abi.h"
#include "listener.h"

namespace wr {

struct Layout {  // read from the module's header once per attach
  uint32_t evRing = 0, evCap = 0, subRing = 0, subCap = 0, arena = 0, arenaHalf = 0;
};

struct Memory {
  uint8_t* base = nullptr;
  size_t length = 0;
};

struct Stats {
  uint64_t accepted = 0, bytesIn = 0, bytesOut = 0, batches = 0, events = 0, shed = 0;
  uint32_t largestBatch = 0;  // most events in one dispatch: never more than the ring holds
  uint32_t open = 0;
};

class Demux {
 public:
  Demux();
  ~Demux();
  bool ok() const { return epfd_ >= 0 && wakeFd_ >= 0; }
  int epollFd() const { return epfd_; }

  int AddListener(int fd);  // returns the listener index, or -1 with errno set
  void CloseListeners();
  void CloseConnections();  // after a trap: the module that owned them is gone
  void Wake();              // makes epollFd() readable so the loop runs again
  // Thread-safe: a connection another thread accepted (native/acceptor.cc), taken into
  // this reactor at its next Gather; the eventfd wakes it (the lecture's socketpair wake-up).
  void Adopt(int fd);

  // Appends ready events after the n records already in the ring; returns the new count.
  // Reads into the arena half from byte `arenaUsed` on (the host may have put bytes there first).
  uint32_t Gather(const Memory& m, const Layout& L, uint32_t n, uint32_t arenaHalfIndex, uint32_t arenaUsed);
  // Executes m submissions; writes completions at the start of the event ring; returns their count.
  uint32_t Execute(const Memory& m, const Layout& L, uint32_t count);

  const Stats& stats() const { return stats_; }
  // Past this many open connections a new one is accepted and closed at once (0: no limit).
  void SetMaxConnections(uint32_t max) { maxConnections_ = max; }
  void CountBatch(uint32_t events) {
    stats_.batches++;
    stats_.events += events;
    if (events > stats_.largestBatch) stats_.largestBatch = events;
  }

 private:
  struct FdState {
    uint16_t gen = 0;
    uint8_t open = 0;
    uint8_t interest = 0;
  };
  uint32_t Accept(const Memory& m, const Layout& L, uint32_t n, uint32_t listener);
  uint32_t TakeAdopted(const Memory& m, const Layout& L, uint32_t n);
  // A new connection's fd joins epoll and the ring (ACCEPT), or is closed if over a limit.
  uint32_t Register(const Memory& m, const Layout& L, uint32_t n, int fd, uint32_t listener);
  uint32_t ReadReady(const Memory& m, const Layout& L, uint32_t n, const epoll_event& ev);
  FdState* Live(uint32_t id);
  void CloseFd(int fd);

  int epfd_ = -1;
  int wakeFd_ = -1;
  SpareFd spare_;  // EMFILE: shed a connection instead of spinning (listener.h)
  std::vector<int> listeners_;
  std::vector<FdState> fds_;
  std::vector<epoll_event> ready_;
  uint32_t arenaPos_ = 0, arenaEnd_ = 0;
  Stats stats_;
  uint32_t maxConnections_ = 0;
  std::mutex adoptMutex_;
  std::vector<int> adopted_;  // guarded by adoptMutex_
};

}  // namespace wr
