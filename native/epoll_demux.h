// The epoll demultiplexer: level-triggered readiness, then one accept4 burst per ready
// listener, one recv per ready connection straight into the arena half, and one send
// per submission. Its wake-up eventfd sits in the epoll set, and Node polls the epoll fd.
#pragma once
#include <sys/epoll.h>

#include "demux.h"

namespace wr {

class EpollDemux final : public Demux {
 public:
  EpollDemux();
  ~EpollDemux() override;
  bool ok() const override { return epfd_ >= 0 && wakeFd_ >= 0; }
  int pollFd() const override { return epfd_; }
  int AddListener(int fd) override;
  void CloseListeners() override;
  void CloseConnections() override { CloseOpenFds(); }
  uint32_t Gather(const Memory& m, const Layout& L, uint32_t n, uint32_t arenaHalfIndex, uint32_t arenaUsed) override;
  uint32_t Execute(const Memory& m, const Layout& L, uint32_t count) override;

 private:
  void Watch(int fd) override;
  uint32_t Accept(const Memory& m, const Layout& L, uint32_t n, uint32_t listener);
  uint32_t ReadReady(const Memory& m, const Layout& L, uint32_t n, const epoll_event& ev);

  int epfd_ = -1;
  std::vector<epoll_event> ready_;
  uint32_t arenaPos_ = 0, arenaEnd_ = 0;
};

}  // namespace wr
