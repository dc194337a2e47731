// The hand-off between an acceptor and sub-reactors on other threads: every Reactor's
// demultiplexer is registered under a process-wide id, and an acceptor hands a new fd
// to one of them by id. The registry's lock is held across the hand-off, so a
// sub-reactor being destroyed on its own thread can never be handed an fd mid-way.
#pragma once

namespace wr {

class Demux;

int RegisterDemux(Demux* demux);  // returns an id > 0
void UnregisterDemux(int id);
// Gives fd to the demultiplexer with this id; false (and the fd is the caller's still) if it is gone.
bool HandOff(int id, int fd);

}  // namespace wr
