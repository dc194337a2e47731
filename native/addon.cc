// The native host's entry point: exports the Reactor and Acceptor classes, and the
// io_uring probe.
#include <napi.h>

#include "acceptor.h"
#include "reactor.h"
#include "uring.h"

// uringSupport() -> "" where the io_uring host can run, else why not (for the notice
// of the fallback to epoll).
static Napi::Value UringSupport(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), wr::UringSupport());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Reactor", wr::Reactor::Define(env));
  exports.Set("Acceptor", wr::Acceptor::Define(env));
  exports.Set("uringSupport", Napi::Function::New(env, UringSupport, "uringSupport"));
  return exports;
}

NODE_API_MODULE(wasm_reactor, Init)
