#include "reactor.h"

#include <cerrno>
#include <cstring>
#include <ctime>

#include "epoll_demux.h"
#include "handoff.h"
#include "listen_js.h"
#include "uring_demux.h"

namespace wr {

namespace {

// Batches per uv_poll wake-up before yielding to Node's loop: enough to drain a burst,
// few enough that a 1 ms timer is not delayed by more than a few batches of work.
constexpr int kBatchesPerWake = 16;

uint32_t Word(const uint8_t* base, uint32_t header, uint32_t offset) {
  uint32_t v;
  std::memcpy(&v, base + header + offset, sizeof v);
  return v;
}

void SetWord(uint8_t* base, uint32_t header, uint32_t offset, uint32_t v) {
  std::memcpy(base + header + offset, &v, sizeof v);
}

// The module's clock (docs/ABI.md NOW_MS): monotonic milliseconds, wrapping at 2^32.
uint32_t NowMs() { return uint32_t(uv_hrtime() / 1000000); }

// Whether the module's deadline has come (wrap-safe, as the module compares).
bool Due(const uint8_t* base, uint32_t header) {
  return (Word(base, header, kHFlags) & kFlagTimer) && int32_t(NowMs() - Word(base, header, kHDeadline)) >= 0;
}

}  // namespace

Napi::Function Reactor::Define(Napi::Env env) {
  return DefineClass(env, "Reactor",
                     {InstanceMethod("attach", &Reactor::Attach), InstanceMethod("listen", &Reactor::Listen),
                      InstanceMethod("inject", &Reactor::Inject),
                      InstanceMethod("setMaxConnections", &Reactor::SetMaxConnections),
                      InstanceMethod("registryId", &Reactor::RegistryId),
                      InstanceMethod("start", &Reactor::Start), InstanceMethod("shutdown", &Reactor::Shutdown),
                      InstanceMethod("dropConnections", &Reactor::DropConnections),
                      InstanceMethod("destroy", &Reactor::Destroy), InstanceMethod("stats", &Reactor::GetStats)});
}

// new Reactor(backend): "epoll" (the default) or "uring" (JS asks uringSupport() first).
Reactor::Reactor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Reactor>(info) {
  bool uring = info.Length() > 0 && info[0].IsString() && info[0].As<Napi::String>().Utf8Value() == "uring";
  if (uring) {
    demux_ = std::make_unique<UringDemux>();
  } else {
    demux_ = std::make_unique<EpollDemux>();
  }
  if (!demux_->ok()) {
    ErrnoError(info.Env(), uring ? "io_uring_setup/eventfd" : "epoll_create1/eventfd", errno).ThrowAsJavaScriptException();
    return;
  }
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(info.Env(), &loop);
  poll_ = new uv_poll_t;
  uv_poll_init(loop, poll_, demux_->pollFd());  // once per handle: re-init corrupts the loop
  poll_->data = this;
  timer_ = new uv_timer_t;
  uv_timer_init(loop, timer_);
  uv_unref(reinterpret_cast<uv_handle_t*>(timer_));  // a timeout alone does not keep Node alive
  timer_->data = this;
  registryId_ = RegisterDemux(demux_.get());
}

Reactor::~Reactor() { Release(); }

// attach(memory, dispatch, headerPtr, onFailure): binds a freshly initialised module.
Napi::Value Reactor::Attach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  memory_ = Napi::Persistent(info[0].As<Napi::Object>());
  dispatch_ = Napi::Persistent(info[1].As<Napi::Function>());
  header_ = info[2].As<Napi::Number>().Uint32Value();
  onFailure_ = Napi::Persistent(info[3].As<Napi::Function>());
  Memory m;
  if (!RefreshMemory(&m) || uint64_t(header_) + 64 > m.length) {
    Napi::Error::New(env, "module memory is detached or too small").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (Word(m.base, header_, kHMagic) != kAbiMagic || Word(m.base, header_, kHVersion) != kAbiVersion) {
    Napi::Error::New(env, "module ABI mismatch: rebuild the module and the addon together")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  layout_ = Layout{Word(m.base, header_, kHEvRing), Word(m.base, header_, kHEvCap),
                   Word(m.base, header_, kHSubRing), Word(m.base, header_, kHSubCap),
                   Word(m.base, header_, kHArena), Word(m.base, header_, kHArenaHalf)};
  if (!demux_->Attach(m, layout_)) {
    ErrnoError(env, "io_uring provided buffers", errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  pending_ = 0;
  attached_ = true;
  return env.Undefined();
}

// listen(host, port, backlog, reusePort, ipv6Only) -> { index, port }
Napi::Value Reactor::Listen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ListenResult r = OpenListenerFromJs(info);
  if (r.fd < 0) return env.Undefined();
  int index = demux_->AddListener(r.fd);
  if (index < 0) {
    ErrnoError(env, "epoll_ctl", errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("index", index);
  out.Set("port", r.port);
  return out;
}

// inject(op, conn, bytes): an event from JavaScript for the next batch; the bytes are
// copied now, into the arena when the batch is gathered.
Napi::Value Reactor::Inject(const Napi::CallbackInfo& info) {
  Napi::Uint8Array bytes = info[2].As<Napi::Uint8Array>();
  injected_.push_back(Injected{info[0].As<Napi::Number>().Uint32Value(), info[1].As<Napi::Number>().Uint32Value(),
                               std::vector<uint8_t>(bytes.Data(), bytes.Data() + bytes.ByteLength())});
  // From inside the loop (a handler answering within the outbox callback) the loop sees
  // the event itself on its next pass; waking it through the eventfd would cost a write
  // per answer.
  if (polling_ && !inLoop_) demux_->Wake();
  return info.Env().Undefined();
}

Napi::Value Reactor::RegistryId(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), registryId_);
}

Napi::Value Reactor::SetMaxConnections(const Napi::CallbackInfo& info) {
  demux_->SetMaxConnections(info[0].As<Napi::Number>().Uint32Value());
  return info.Env().Undefined();
}

// Injected events go first into the batch, as long as the ring and the arena half have room.
uint32_t Reactor::PutInjected(const Memory& mem, uint32_t n, uint32_t* arenaUsed) {
  uint32_t room = demux_->InjectionRoom(layout_);
  while (!injected_.empty() && n < layout_.evCap) {
    Injected& x = injected_.front();
    uint32_t size = uint32_t(x.bytes.size());
    if (*arenaUsed + size > room) break;  // JS keeps pieces far below the room (16 KiB)
    uint32_t at = demux_->InjectionAt(layout_, half_) + *arenaUsed;
    std::memcpy(mem.base + at, x.bytes.data(), size);
    Record r{x.op, x.conn, at, size};
    std::memcpy(mem.base + layout_.evRing + size_t(n++) * sizeof r, &r, sizeof r);
    *arenaUsed += size;
    injected_.pop_front();
  }
  return n;
}

Napi::Value Reactor::Start(const Napi::CallbackInfo& info) {
  if (!polling_ && attached_) {
    uv_poll_start(poll_, UV_READABLE, &Reactor::OnPoll);
    polling_ = true;
    Ref();  // a polling reactor must outlive its JS references
    demux_->Wake();  // completions or a queued shutdown may be waiting
  }
  return info.Env().Undefined();
}

// shutdown(onDrained): stop accepting, let the module flush and close every connection.
Napi::Value Reactor::Shutdown(const Napi::CallbackInfo& info) {
  onDrained_ = Napi::Persistent(info[0].As<Napi::Function>());
  demux_->CloseListeners();
  shutdownQueued_ = true;
  demux_->Wake();
  return info.Env().Undefined();
}

Napi::Value Reactor::DropConnections(const Napi::CallbackInfo& info) {
  demux_->CloseConnections();
  injected_.clear();  // answers for connections that died with the instance
  pending_ = 0;
  attached_ = false;
  return info.Env().Undefined();
}

Napi::Value Reactor::Destroy(const Napi::CallbackInfo& info) {
  Release();
  return info.Env().Undefined();
}

Napi::Value Reactor::GetStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Stats& s = demux_->stats();
  Napi::Object o = Napi::Object::New(env);
  o.Set("connections", s.open);
  o.Set("accepted", double(s.accepted));
  o.Set("bytesIn", double(s.bytesIn));
  o.Set("bytesOut", double(s.bytesOut));
  o.Set("batches", double(s.batches));
  o.Set("events", double(s.events));
  o.Set("shed", double(s.shed));
  o.Set("largestBatch", s.largestBatch);
  o.Set("receives", double(s.receives));
  o.Set("starved", double(s.starved));
  return o;
}

void Reactor::OnTimer(uv_timer_t* handle) {
  auto* self = static_cast<Reactor*>(handle->data);
  if (self->polling_) self->RunLoop();
}

void Reactor::OnPoll(uv_poll_t* handle, int status, int) {
  auto* self = static_cast<Reactor*>(handle->data);
  if (status < 0 || !self->polling_) return;  // uv_poll may also wake spuriously: RunLoop copes
  self->RunLoop();
}

// The memory's ArrayBuffer is re-read every time: memory.grow detaches the old one,
// and a pointer kept across a call into the module could point into freed memory.
bool Reactor::RefreshMemory(Memory* m) {
  napi_env env = Env();
  napi_value memory, buffer;
  void* data = nullptr;
  size_t length = 0;
  if (napi_get_reference_value(env, memory_.operator napi_ref(), &memory) != napi_ok ||
      napi_get_named_property(env, memory, "buffer", &buffer) != napi_ok ||
      napi_get_arraybuffer_info(env, buffer, &data, &length) != napi_ok || data == nullptr || length == 0) {
    return false;
  }
  m->base = static_cast<uint8_t*>(data);
  m->length = length;
  return true;
}

bool Reactor::Dispatch(uint32_t n, uint32_t* m) {
  napi_env env = Env();
  napi_value fn, arg, result, global;
  napi_get_reference_value(env, dispatch_.operator napi_ref(), &fn);
  napi_get_global(env, &global);
  napi_create_uint32(env, n, &arg);
  if (napi_call_function(env, global, fn, 1, &arg, &result) != napi_ok) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    Fail(error);
    return false;
  }
  napi_get_value_uint32(env, result, m);
  return true;
}

void Reactor::RunLoop() {
  Napi::Env env = Env();
  Napi::HandleScope outer(env);
  inLoop_ = true;
  demux_->BeginRun();
  for (int i = 0; i < kBatchesPerWake && polling_; i++) {
    Napi::HandleScope scope(env);
    Memory mem;
    if (!RefreshMemory(&mem)) {
      LeaveLoop();
      return Fail(Napi::Error::New(env, "module memory is detached").Value());
    }
    uint32_t n = pending_;
    pending_ = 0;
    if (shutdownQueued_ && n < layout_.evCap) {
      Record r{kEvShutdown, 0, 0, 0};
      std::memcpy(mem.base + layout_.evRing + size_t(n++) * sizeof r, &r, sizeof r);
      shutdownQueued_ = false;
      draining_ = true;
    }
    uint32_t arenaUsed = 0;
    n = PutInjected(mem, n, &arenaUsed);
    n = demux_->Gather(mem, layout_, n, half_, arenaUsed);
    bool more = Word(mem.base, header_, kHFlags) & kFlagMore;
    if (n == 0 && !more && !Due(mem.base, header_)) break;
    SetWord(mem.base, header_, kHNowMs, NowMs());
    SetWord(mem.base, header_, kHUnixSeconds, uint32_t(std::time(nullptr)));
    uint32_t m = 0;
    if (!Dispatch(n, &m)) return void(LeaveLoop());
    if (!RefreshMemory(&mem) || m > layout_.subCap) {
      LeaveLoop();
      return Fail(Napi::Error::New(env, m > layout_.subCap ? "module wrote past its submission ring" : "module memory is detached").Value());
    }
    pending_ = demux_->Execute(mem, layout_, m);
    half_ ^= 1;  // this batch's bytes stay put through the next dispatch (short sends point at them)
    demux_->CountBatch(n);
  }
  bool backlog = LeaveLoop();  // from here on, JS (onDrained) runs outside the loop: its injections wake it
  if (!polling_) return;
  Memory mem;
  if (!RefreshMemory(&mem)) return;
  bool more = Word(mem.base, header_, kHFlags) & kFlagMore;
  if (pending_ > 0 || more || !injected_.empty() || backlog) demux_->Wake();
  ArmTimer(mem);
  if (draining_ && demux_->stats().open == 0 && !more) {
    draining_ = false;
    Stop();
    if (!onDrained_.IsEmpty()) onDrained_.MakeCallback(Value(), {});
  }
}

bool Reactor::LeaveLoop() {
  inLoop_ = false;
  return demux_->EndRun();
}

// The module asked to be called by a deadline even if no event comes (its timeouts).
void Reactor::ArmTimer(const Memory& mem) {
  if (!(Word(mem.base, header_, kHFlags) & kFlagTimer)) {
    uv_timer_stop(timer_);
    return;
  }
  int32_t wait = int32_t(Word(mem.base, header_, kHDeadline) - NowMs());
  uv_timer_start(timer_, &Reactor::OnTimer, wait > 0 ? uint64_t(wait) : 0, 0);
}

// A trap (or a broken memory) ends this module instance: stop, and let JS decide
// what comes next (close the connections, start a fresh instance, keep listening).
void Reactor::Fail(napi_value error) {
  Stop();
  attached_ = false;
  if (!onFailure_.IsEmpty()) onFailure_.MakeCallback(Value(), {error});
}

void Reactor::Stop() {
  if (!polling_) return;
  uv_poll_stop(poll_);
  uv_timer_stop(timer_);
  polling_ = false;
  Unref();
}

void Reactor::Release() {
  if (registryId_ != 0) UnregisterDemux(registryId_);  // no acceptor can hand us an fd from here on
  registryId_ = 0;
  Stop();
  demux_->CloseListeners();
  demux_->CloseConnections();
  if (poll_ != nullptr) {
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll_ = nullptr;
  }
  if (timer_ != nullptr) {
    uv_close(reinterpret_cast<uv_handle_t*>(timer_), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    timer_ = nullptr;
  }
}

}  // namespace wr
