// The JavaScript side of opening a listener, shared by Reactor and Acceptor:
// listen(host, port, backlog, reusePort, ipv6Only) arguments in, a node-style error out.
#pragma once
#include <napi.h>

#include <cstring>
#include <string>

#include "listener.h"

namespace wr {

inline Napi::Error ErrnoError(Napi::Env env, const std::string& what, int err) {
  Napi::Error e = Napi::Error::New(env, what + ": " + std::strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  return e;
}

// Opens the listener the arguments describe; on failure throws (fd < 0 in the result).
inline ListenResult OpenListenerFromJs(const Napi::CallbackInfo& info) {
  ListenOptions o;
  o.host = info[0].As<Napi::String>().Utf8Value();
  o.port = info[1].As<Napi::Number>().Int32Value();
  o.backlog = info[2].As<Napi::Number>().Int32Value();
  o.reusePort = info[3].As<Napi::Boolean>().Value();
  o.ipv6Only = info[4].As<Napi::Boolean>().Value();
  ListenResult r = OpenListener(o);
  if (r.fd < 0) ErrnoError(info.Env(), r.step, r.err).ThrowAsJavaScriptException();
  return r;
}

}  // namespace wr
