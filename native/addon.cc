// The native host's entry point: exports the Reactor and Acceptor classes.
#include <napi.h>

#include "acceptor.h"
#include "reactor.h"

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Reactor", wr::Reactor::Define(env));
  exports.Set("Acceptor", wr::Acceptor::Define(env));
  return exports;
}

NODE_API_MODULE(wasm_reactor, Init)
