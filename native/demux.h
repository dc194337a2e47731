// The Synchronous Event Demultiplexer, with no knowledge of JavaScript: it writes event
// records into the module's ring and carries out the module's submissions, always
// through a memory pointer the caller has just re-read (memory.grow may move it).
// Two kernels' ways of doing it share this base: epoll with one recv/send per socket
// (epoll_demux.h) and io_uring with multishot receives into provided buffers
// (uring_demux.h). What is the same for both lives here: connection ids and
// generations, the peer words of ACCEPT, the connection limit, the hand-off queue of
// connections accepted on another thread, and the wake-up eventfd.
#pragma once
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
  uint64_t receives = 0;      // reads that brought bytes (recv calls, receive completions)
  uint64_t starved = 0;       // io_uring: receives that found no free buffer (re-armed later)
  uint32_t largestBatch = 0;  // most events in one dispatch: never more than the ring holds
  uint32_t open = 0;
};

class Demux {
 public:
  Demux();
  virtual ~Demux();
  Demux(const Demux&) = delete;
  Demux& operator=(const Demux&) = delete;

  virtual bool ok() const = 0;
  // The descriptor Node's loop polls (uv_poll): readable when the loop should run.
  virtual int pollFd() const = 0;

  virtual int AddListener(int fd) = 0;  // returns the listener index, or -1 with errno set
  virtual void CloseListeners() = 0;
  virtual void CloseConnections() = 0;  // after a trap: the module that owned them is gone
  void Wake();                          // makes pollFd() readable so the loop runs again
  // Thread-safe: a connection another thread accepted (native/acceptor.cc), taken into
  // this reactor at its next Gather; the eventfd wakes it (the lecture's socketpair wake-up).
  void Adopt(int fd);

  // A module instance was attached (its arena is where reads may land from now on).
  virtual bool Attach(const Memory&, const Layout&) { return true; }
  // Where in arena half `half` the host puts injected events, and how many bytes it may.
  virtual uint32_t InjectionAt(const Layout& L, uint32_t half) const { return L.arena + half * L.arenaHalf; }
  virtual uint32_t InjectionRoom(const Layout& L) const { return L.arenaHalf; }
  // Around one run of the loop: BeginRun after a wake-up, EndRun before yielding to
  // Node's loop; EndRun says whether work is already waiting (then the caller wakes us).
  virtual void BeginRun() {}
  virtual bool EndRun() { return false; }

  // Appends ready events after the n records already in the ring; returns the new count.
  // Reads may use the arena half from byte `arenaUsed` on (the host put bytes there first).
  virtual uint32_t Gather(const Memory& m, const Layout& L, uint32_t n, uint32_t arenaHalfIndex, uint32_t arenaUsed) = 0;
  // Executes m submissions; writes completions at the start of the event ring; returns their count.
  virtual uint32_t Execute(const Memory& m, const Layout& L, uint32_t count) = 0;

  const Stats& stats() const { return stats_; }
  // Past this many open connections a new one is accepted and closed at once (0: no limit).
  void SetMaxConnections(uint32_t max) { maxConnections_ = max; }
  void CountBatch(uint32_t events) {
    stats_.batches++;
    stats_.events += events;
    if (events > stats_.largestBatch) stats_.largestBatch = events;
  }

 protected:
  struct FdState {
    uint16_t gen = 0;
    uint8_t open = 0;
    uint8_t interest = 0;
  };
  static void Put(const Memory& m, const Layout& L, uint32_t i, uint32_t op, uint32_t conn, uint32_t a, uint32_t b);
  // The i-th record of a ring, copied out (a ring may be unaligned for a Record): the
  // module's submissions, or the events as put.
  static Record RecordAt(const Memory& m, uint32_t ring, uint32_t i);
  static Record Submission(const Memory& m, const Layout& L, uint32_t i) { return RecordAt(m, L.subRing, i); }
  static Record EventAt(const Memory& m, const Layout& L, uint32_t i) { return RecordAt(m, L.evRing, i); }
  static uint32_t IdOf(int fd, const FdState& s) { return static_cast<uint32_t>(fd) | uint32_t(s.gen) << kSlotBits; }
  uint32_t TakeAdopted(const Memory& m, const Layout& L, uint32_t n);
  // A new connection joins the demultiplexer (Watch) and the ring (ACCEPT), or is
  // closed at once if over a limit.
  uint32_t Register(const Memory& m, const Layout& L, uint32_t n, int fd, uint32_t listener);
  virtual void Watch(int fd) = 0;
  // EMFILE or ENFILE from accept: shed one waiting connection instead of spinning.
  void ShedOne(int listenFd);
  FdState* Live(uint32_t id);
  void CloseFd(int fd);
  void CloseOpenFds();

  int wakeFd_ = -1;
  std::vector<int> listeners_;
  std::vector<FdState> fds_;
  Stats stats_;

 private:
  SpareFd spare_;  // EMFILE: shed a connection instead of spinning (listener.h)
  uint32_t maxConnections_ = 0;
  std::mutex adoptMutex_;
  std::vector<int> adopted_;  // guarded by adoptMutex_
};

}  // namespace wr
