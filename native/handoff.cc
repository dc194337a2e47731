#include "handoff.h"

#include <mutex>
#include <unordered_map>

#include "demux.h"

namespace wr {

namespace {
std::mutex registryMutex;
std::unordered_map<int, Demux*> registry;  // guarded by registryMutex
int nextId = 1;                            // guarded by registryMutex
}  // namespace

int RegisterDemux(Demux* demux) {
  std::lock_guard<std::mutex> lock(registryMutex);
  int id = nextId++;
  registry[id] = demux;
  return id;
}

void UnregisterDemux(int id) {
  std::lock_guard<std::mutex> lock(registryMutex);
  registry.erase(id);
}

bool HandOff(int id, int fd) {
  std::lock_guard<std::mutex> lock(registryMutex);
  auto it = registry.find(id);
  if (it == registry.end()) return false;
  it->second->Adopt(fd);
  return true;
}

}  // namespace wr
