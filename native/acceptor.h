// The main reactor of the main–sub model, in its "handoff" accept mode: it owns the
// listening sockets, accepts in the main thread's event loop (uv_poll), and hands each
// new connection to a sub-reactor in turn (round robin), which the hand-off wakes
// through its eventfd. It never reads or writes a connection itself.
#pragma once
#include <napi.h>
#include <uv.h>

#include <vector>

#include "listener.h"

namespace wr {

class Acceptor : public Napi::ObjectWrap<Acceptor> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Acceptor(const Napi::CallbackInfo& info);  // new Acceptor(subReactorIds)
  ~Acceptor() override;

 private:
  struct Listening {
    Acceptor* owner;
    int fd;
    uv_poll_t* poll;
  };
  Napi::Value Listen(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  static void OnReadable(uv_poll_t* handle, int status, int events);
  void AcceptFrom(int fd);
  void Release();

  std::vector<int> targets_;
  std::vector<Listening*> listening_;
  size_t next_ = 0;
  SpareFd spare_;  // EMFILE: shed a connection instead of spinning (listener.h)
  double handedOff_ = 0, shed_ = 0;
};

}  // namespace wr
