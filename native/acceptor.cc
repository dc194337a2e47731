#include "acceptor.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "handoff.h"
#include "listen_js.h"

namespace wr {

namespace {
// Connections accepted per wake-up before yielding to the loop (a storm cannot starve timers).
constexpr int kAcceptBurst = 256;
}  // namespace

Napi::Function Acceptor::Define(Napi::Env env) {
  return DefineClass(env, "Acceptor", {InstanceMethod("listen", &Acceptor::Listen), InstanceMethod("close", &Acceptor::Close),
                                       InstanceMethod("stats", &Acceptor::Stats)});
}

Acceptor::Acceptor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Acceptor>(info) {
  Napi::Array ids = info[0].As<Napi::Array>();
  for (uint32_t i = 0; i < ids.Length(); i++) targets_.push_back(ids.Get(i).As<Napi::Number>().Int32Value());
}

Acceptor::~Acceptor() { Release(); }

// listen(host, port, backlog, reusePort, ipv6Only) -> port
Napi::Value Acceptor::Listen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ListenResult r = OpenListenerFromJs(info);
  if (r.fd < 0) return env.Undefined();
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  auto* l = new Listening{this, r.fd, new uv_poll_t};
  uv_poll_init(loop, l->poll, r.fd);
  l->poll->data = l;
  uv_poll_start(l->poll, UV_READABLE, &Acceptor::OnReadable);
  listening_.push_back(l);
  if (listening_.size() == 1) Ref();  // while it listens, JS may drop its reference
  return Napi::Number::New(env, r.port);
}

void Acceptor::OnReadable(uv_poll_t* handle, int status, int) {
  auto* l = static_cast<Listening*>(handle->data);
  if (status >= 0) l->owner->AcceptFrom(l->fd);
}

void Acceptor::AcceptFrom(int lfd) {
  for (int i = 0; i < kAcceptBurst; i++) {
    int fd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if ((errno == EMFILE || errno == ENFILE) && spare_.Shed(lfd)) shed_++;
      return;
    }
    bool handed = false;
    for (size_t tries = 0; tries < targets_.size() && !handed; tries++) handed = HandOff(targets_[next_++ % targets_.size()], fd);
    if (handed) {
      handedOff_++;
    } else {
      close(fd);  // every sub-reactor is gone (shutting down)
      shed_++;
    }
  }
}

Napi::Value Acceptor::Close(const Napi::CallbackInfo& info) {
  Release();
  return info.Env().Undefined();
}

Napi::Value Acceptor::Stats(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("handedOff", handedOff_);
  o.Set("shed", shed_);
  return o;
}

void Acceptor::Release() {
  if (listening_.empty()) return;
  for (Listening* l : listening_) {
    uv_poll_stop(l->poll);
    close(l->fd);
    uv_close(reinterpret_cast<uv_handle_t*>(l->poll), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    delete l;
  }
  listening_.clear();
  Unref();
}

}  // namespace wr
