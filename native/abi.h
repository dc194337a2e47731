// The host–module contract, host side. docs/ABI.md is the single truth;
// assembly/abi.ts holds the same numbers and test/abi.test.ts checks they agree.
#pragma once
#include <cstdint>

namespace wr {

constexpr uint32_t kAbiMagic = 0x31415257;  // "WRA1" little-endian
constexpr uint32_t kAbiVersion = 6;

struct Record {  // both rings: 16 bytes, little-endian like WebAssembly memory
  uint32_t op;
  uint32_t conn;
  uint32_t a;
  uint32_t b;
};
static_assert(sizeof(Record) == 16, "records are 16 bytes");

// Header words, byte offsets from the header pointer.
constexpr uint32_t kHMagic = 0, kHVersion = 4, kHEvRing = 8, kHEvCap = 12, kHSubRing = 16,
                   kHSubCap = 20, kHArena = 24, kHArenaHalf = 28, kHMaxConns = 32, kHFlags = 36,
                   kHOpenConns = 40, kHNowMs = 44, kHUnixSeconds = 48, kHDeadline = 52,
                   kHCurrent = 56, kHCurrentConn = 60;
constexpr uint32_t kFlagMore = 1, kFlagTimer = 2;

// Events: host -> module.
constexpr uint32_t kEvAccept = 1, kEvData = 2, kEvEof = 3, kEvError = 4, kEvWritable = 5,
                   kEvSent = 6, kEvShutdown = 7, kEvResponse = 8,
                   kEvWsSend = 9, kEvWsClose = 10, kEvWsBroadcast = 11, kEvCallResult = 12,
                   kEvBodyRead = 13, kEvWsAccept = 14, kEvWsPublish = 15, kEvWsSubscribe = 16;
// Submissions: module -> host.
constexpr uint32_t kOpSend = 1, kOpSendNotify = 2, kOpInterest = 3, kOpClose = 4, kOpOutbox = 6;
constexpr uint32_t kInterestIn = 1, kInterestOut = 2;

constexpr uint32_t kSlotBits = 20;
constexpr uint32_t kSlotMask = (1u << kSlotBits) - 1;
constexpr uint32_t kGenMask = (1u << (32 - kSlotBits)) - 1;

}  // namespace wr
