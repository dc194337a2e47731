// The native host's entry point: exports the Reactor class.
#include <napi.h>

#include "reactor.h"

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Reactor", wr::Reactor::Define(env));
  return exports;
}

NODE_API_MODULE(wasm_reactor, Init)
