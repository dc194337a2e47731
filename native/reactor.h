// The Reactor as a JavaScript object: it joins Node's event loop by polling its
// demultiplexer's fd (uv_poll: the epoll fd, or the eventfd of an io_uring), and each
// time it fires runs the loop
//   completions + gather → events in the ring → dispatch(n) → execute submissions
// a bounded number of times, so timers and other I/O in the process keep running.
#pragma once
#include <napi.h>
#include <uv.h>

#include <deque>
#include <memory>
#include <vector>

#include "demux.h"

namespace wr {

class Reactor : public Napi::ObjectWrap<Reactor> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Reactor(const Napi::CallbackInfo& info);
  ~Reactor() override;

 private:
  Napi::Value Attach(const Napi::CallbackInfo& info);
  Napi::Value Listen(const Napi::CallbackInfo& info);
  Napi::Value Inject(const Napi::CallbackInfo& info);
  Napi::Value SetMaxConnections(const Napi::CallbackInfo& info);
  Napi::Value RegistryId(const Napi::CallbackInfo& info);
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Shutdown(const Napi::CallbackInfo& info);
  Napi::Value DropConnections(const Napi::CallbackInfo& info);
  Napi::Value Destroy(const Napi::CallbackInfo& info);
  Napi::Value GetStats(const Napi::CallbackInfo& info);

  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnTimer(uv_timer_t* handle);
  void RunLoop();
  bool LeaveLoop();  // true if work is already waiting (the demultiplexer's backlog)
  void ArmTimer(const Memory& mem);
  uint32_t PutInjected(const Memory& mem, uint32_t n, uint32_t* arenaUsed);
  bool RefreshMemory(Memory* m);
  bool Dispatch(uint32_t n, uint32_t* m);
  void Fail(napi_value error);
  void Stop();
  void Release();

  std::unique_ptr<Demux> demux_;  // epoll or io_uring: the backend chosen at construction
  Layout layout_;
  uint32_t header_ = 0;
  Napi::ObjectReference memory_;
  Napi::FunctionReference dispatch_;
  Napi::FunctionReference onFailure_;  // (error) => void: a trap or a detached memory
  Napi::FunctionReference onDrained_;  // () => void: shutdown finished
  uv_poll_t* poll_ = nullptr;
  uv_timer_t* timer_ = nullptr;  // fires at the module's deadline (FLAG_TIMER), for its timeouts
  bool polling_ = false;
  bool inLoop_ = false;  // RunLoop is running: an injected event needs no wake-up
  bool attached_ = false;
  bool shutdownQueued_ = false;  // the SHUTDOWN event still has to be delivered
  bool draining_ = false;
  uint32_t pending_ = 0;  // completions already in the ring for the next batch
  struct Injected {  // an event from JavaScript (an HTTP answer), with the bytes it carries
    uint32_t op, conn;
    std::vector<uint8_t> bytes;
  };
  std::deque<Injected> injected_;
  uint32_t half_ = 0;     // arena half the next batch reads into
  int registryId_ = 0;    // how an acceptor on another thread names this reactor (handoff.h)
};

}  // namespace wr
