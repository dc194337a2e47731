// loadgen: a native echo/HTTP/WebSocket load client for npm run bench, so the client is
// never the bottleneck. One epoll loop; each connection keeps exactly one request in
// flight: send a message, read the whole reply (checking every echoed byte), send the
// next. In ws mode each connection first upgrades, then sends masked binary frames of
// S bytes (S ≤ 125) and expects each back as an unmasked frame.
//
// pubsub mode is a broadcast instead of round trips: all N connections upgrade (the
// server subscribes each to one topic); once every one has, connection 0, the publisher,
// sends masked binary frames of S bytes (8 ≤ S ≤ 125; the first 8 bytes are the message's
// sequence number), keeping at most --window messages in flight. The server sends each
// message to every subscriber, the publisher included, so a message is done when the
// publisher gets it back: the window needs no protocol of its own. Every connection only
// reads, checking that each frame is the next message, intact. The warm-up starts when
// publishing does, and the line "measuring" marks its end (for the caller to read the
// server's CPU time over exactly the measured seconds). Connections may be spread over
// several ports (--port P1,P2: the publisher on P1), for servers of several processes.
//
//   loadgen --port P[,P…] [--host 127.0.0.1] --conns N --size S --seconds T [--warmup W] [--mode echo|http|ws|pubsub] [--window W]
//
// Prints one JSON line: {"conns","size","seconds","roundTrips","rps","mbps","errors"};
// pubsub: {"conns","size","window","seconds","messages","deliveries","rps","mbps","errors",
// "closed","clientCpu"}, rps being deliveries (frames received over every connection) per
// second, closed the subscribers the server closed, clientCpu the cores this client used.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { ECHO, HTTP, WS, PUBSUB };
static const char kRequest[] = "GET / HTTP/1.1\r\nHost: bench\r\n\r\n";
static const char kUpgrade[] =
    "GET / HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

typedef struct {
  int fd;
  size_t sent, received;  // progress of the current round trip
  char head[1024];        // http: the response header seen so far; pubsub: a frame split across reads
  size_t headLen, bodyWant;
  int inBody;
  int upgraded;  // ws: the handshake is done
  int outOn;  // EPOLLOUT interest: only while a send is blocked (or connect is pending)
  uint64_t seq;  // pubsub: the sequence number of the next message expected
} Conn;

static int mode = ECHO;
static size_t msgSize = 64;
static uint8_t* pattern;  // the message; echo replies must equal it byte for byte
static uint8_t* wsFrame;  // ws: the message as a masked client frame
static uint8_t* wsReply;  // ws: the frame the server must send back
static size_t wsFrameLen, wsReplyLen;
static uint64_t roundTrips, bytesIn, errors;
static int counting;
static int ep;
// pubsub: the publisher (connection 0) and its outgoing frames, sent and not
static Conn* publisher;
static size_t window = 16;
static int conns = 50, upgraded, publishing;
static uint64_t published, deliveries, closedSubscribers;
static uint8_t* pubOut;
static size_t pubOutLen, pubOutCap;

static void wantOut(Conn* c, int idx, int on) {
  if (c->outOn == on) return;
  struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.u32 = (uint32_t)idx};
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
  c->outOn = on;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void die(const char* what) {
  fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
  exit(1);
}

static const uint8_t* outgoing(const Conn* c, size_t* len) {
  if (mode == HTTP || ((mode == WS || mode == PUBSUB) && !c->upgraded)) {
    *len = mode == HTTP ? sizeof kRequest - 1 : sizeof kUpgrade - 1;
    return (const uint8_t*)(mode == HTTP ? kRequest : kUpgrade);
  }
  if (mode == WS) {
    *len = wsFrameLen;
    return wsFrame;
  }
  if (mode == PUBSUB) {  // only the publisher sends once upgraded
    *len = c == publisher ? pubOutLen : 0;
    return pubOut;
  }
  *len = msgSize;
  return pattern;
}

// Sends as much of the current message as the socket takes; 0 on success, -1 if dead.
static int pump(Conn* c, int idx) {
  size_t len;
  const uint8_t* msg = outgoing(c, &len);
  while (c->sent < len) {
    ssize_t n = send(c->fd, msg + c->sent, len - c->sent, MSG_NOSIGNAL);
    if (n > 0) {
      c->sent += (size_t)n;
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      wantOut(c, idx, 1);
      return 0;
    } else {
      return -1;
    }
  }
  wantOut(c, idx, 0);
  return 0;
}

static void finishRoundTrip(Conn* c) {
  if (counting) roundTrips++;
  c->sent = c->received = c->headLen = c->bodyWant = 0;
  c->inBody = 0;
}

// Consumes reply bytes that must equal `want`; returns how many round trips completed.
static int consumeExact(Conn* c, const uint8_t* buf, size_t n, const uint8_t* want, size_t wantLen) {
  int done = 0;
  for (size_t i = 0; i < n;) {
    size_t take = wantLen - c->received;
    if (take > n - i) take = n - i;
    if (memcmp(buf + i, want + c->received, take) != 0) errors++;
    c->received += take;
    i += take;
    if (c->received == wantLen) {
      if (i < n) errors++;  // bytes beyond the reply: the server sent more than it got
      finishRoundTrip(c);
      done++;
      break;
    }
  }
  return done;
}

// pubsub: tops the publisher's window up to `window` messages in flight (sent and not
// yet back), appending their frames to what it has still to send.
static void refill(void) {
  if (publisher->sent == pubOutLen) publisher->sent = pubOutLen = 0;
  while (published - publisher->seq < window) {
    if (pubOutLen + wsFrameLen > pubOutCap) {  // only unsent frames need keeping
      memmove(pubOut, pubOut + publisher->sent, pubOutLen - publisher->sent);
      pubOutLen -= publisher->sent;
      publisher->sent = 0;
    }
    uint8_t* f = pubOut + pubOutLen;
    memcpy(f, wsFrame, wsFrameLen);
    for (int i = 0; i < 8; i++) f[6 + i] = (uint8_t)(published >> (8 * i)) ^ f[2 + i % 4];
    pubOutLen += wsFrameLen;
    published++;
  }
}

// pubsub: one whole frame received; it must be the next message, intact.
static void checkFrame(Conn* c, const uint8_t* f) {
  uint64_t seq = 0;
  for (int i = 0; i < 8; i++) seq |= (uint64_t)f[2 + i] << (8 * i);
  if (memcmp(f, wsReply, 2) != 0 || memcmp(f + 10, wsReply + 10, wsReplyLen - 10) != 0) errors++;
  else if (seq != c->seq) errors++;  // lost or out of order: counted once, then followed
  c->seq = seq + 1;
}

// pubsub: frames of the expected size, checked in place when whole, else gathered in head.
static int consumeFrames(Conn* c, const uint8_t* buf, size_t n) {
  int done = 0;
  for (size_t i = 0; i < n; done++) {
    if (c->headLen == 0 && n - i >= wsReplyLen) {
      checkFrame(c, buf + i);
      i += wsReplyLen;
      continue;
    }
    size_t take = wsReplyLen - c->headLen;
    if (take > n - i) take = n - i;
    memcpy(c->head + c->headLen, buf + i, take);
    c->headLen += take;
    i += take;
    if (c->headLen < wsReplyLen) break;
    checkFrame(c, (const uint8_t*)c->head);
    c->headLen = 0;
  }
  if (counting) deliveries += (uint64_t)done;
  if (c == publisher && done > 0) refill();  // the caller pumps it
  return done;
}

// ws: the 101 first (not a round trip), then frames.
static int consumeWs(Conn* c, const uint8_t* buf, size_t n) {
  if (c->upgraded && mode == PUBSUB) return consumeFrames(c, buf, n);
  if (c->upgraded) return consumeExact(c, buf, n, wsReply, wsReplyLen);
  for (size_t i = 0; i < n; i++) {
    if (c->headLen == sizeof c->head - 1) { errors++; return 0; }
    c->head[c->headLen++] = (char)buf[i];
    if (c->headLen >= 4 && memcmp(c->head + c->headLen - 4, "\r\n\r\n", 4) == 0) {
      if (strncmp(c->head, "HTTP/1.1 101", 12) != 0 || i + 1 != n) errors++;
      c->upgraded = 1;
      c->sent = c->received = c->headLen = 0;
      if (mode == PUBSUB && ++upgraded == conns) {  // every subscriber is in: publish
        // A subscription made at the upgrade may still be on its way to a relay (Redis):
        // give it a moment, so the first message does not race it.
        usleep(300 * 1000);
        publishing = 1;
        refill();
        if (pump(publisher, 0) < 0) errors++;
      }
      return 1;  // ws: send the first frame
    }
  }
  return 0;
}

static void buildWsFrames(void) {
  static const uint8_t mask[4] = {0x12, 0x34, 0x56, 0x78};
  wsFrameLen = 6 + msgSize;
  wsFrame = malloc(wsFrameLen);
  wsFrame[0] = 0x82;
  wsFrame[1] = (uint8_t)(0x80 | msgSize);
  memcpy(wsFrame + 2, mask, 4);
  for (size_t i = 0; i < msgSize; i++) wsFrame[6 + i] = pattern[i] ^ mask[i % 4];
  wsReplyLen = 2 + msgSize;
  wsReply = malloc(wsReplyLen);
  wsReply[0] = 0x82;
  wsReply[1] = (uint8_t)msgSize;
  memcpy(wsReply + 2, pattern, msgSize);
}

static int consumeHttp(Conn* c, const uint8_t* buf, size_t n) {
  int done = 0;
  for (size_t i = 0; i < n;) {
    if (!c->inBody) {
      if (c->headLen == sizeof c->head - 1) { errors++; return done; }  // room for the terminating NUL
      c->head[c->headLen++] = (char)buf[i++];
      if (c->headLen >= 4 && memcmp(c->head + c->headLen - 4, "\r\n\r\n", 4) == 0) {
        c->head[c->headLen] = 0;
        const char* cl = strcasestr(c->head, "content-length:");
        if (strncmp(c->head, "HTTP/1.1 200", 12) != 0 || !cl) errors++;
        c->bodyWant = cl ? strtoul(cl + 15, NULL, 10) : 0;
        c->inBody = 1;
      }
    } else {
      size_t take = c->bodyWant - c->received;
      if (take > n - i) take = n - i;
      c->received += take;
      i += take;
    }
    if (c->inBody && c->received == c->bodyWant) {
      finishRoundTrip(c);
      done++;
    }
  }
  return done;
}

static int modeNamed(const char* m) {
  return !strcmp(m, "http") ? HTTP : !strcmp(m, "ws") ? WS : !strcmp(m, "pubsub") ? PUBSUB : ECHO;
}

// "P" or "P1,P2,…": the ports, 0 if one is not a port.
static int parsePorts(char* list, int* ports, int max) {
  int n = 0;
  for (char* p = list; *p; p++) {
    long v = strtol(p, &p, 10);
    if (v <= 0 || v > 65535 || n == max || (*p && *p != ',')) return 0;
    ports[n++] = (int)v;
    if (!*p) break;
  }
  return n;
}

int main(int argc, char** argv) {
  const char* host = "127.0.0.1";
  int ports[16], nports = 0;
  double seconds = 5, warmup = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--port")) nports = parsePorts(argv[i + 1], ports, 16);
    else if (!strcmp(argv[i], "--host")) host = argv[i + 1];
    else if (!strcmp(argv[i], "--conns")) conns = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--size")) msgSize = (size_t)atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--warmup")) warmup = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--window")) window = (size_t)atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--mode")) mode = modeNamed(argv[i + 1]);
    else { fprintf(stderr, "loadgen: unknown option %s\n", argv[i]); return 2; }
  }
  if (nports == 0 || conns <= 0 || msgSize == 0 || (mode == WS && msgSize > 125) ||
      (mode == PUBSUB && (msgSize < 8 || msgSize > 125 || window == 0))) {
    fprintf(stderr, "usage: loadgen --port P[,P…] --conns N --size S --seconds T [--warmup W] [--mode echo|http|ws|pubsub] "
                    "[--window W] (ws: S <= 125; pubsub: 8 <= S <= 125)\n");
    return 2;
  }
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  pattern = malloc(msgSize);
  for (size_t i = 0; i < msgSize; i++) pattern[i] = (uint8_t)(i * 31 + 7);
  if (mode == WS || mode == PUBSUB) buildWsFrames();
  if (mode == PUBSUB) {
    pubOutCap = 2 * window * wsFrameLen;
    pubOut = malloc(pubOutCap);
  }

  struct sockaddr_in addr = {.sin_family = AF_INET};
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) { fprintf(stderr, "loadgen: bad host %s\n", host); return 2; }
  ep = epoll_create1(0);
  Conn* cs = calloc((size_t)conns, sizeof(Conn));
  for (int i = 0; i < conns; i++) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) die("socket");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    addr.sin_port = htons((uint16_t)ports[i % nports]);
    if (connect(fd, (struct sockaddr*)&addr, sizeof addr) < 0 && errno != EINPROGRESS) die("connect");
    cs[i].fd = fd;
    cs[i].outOn = 1;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  publisher = &cs[0];

  size_t bufSize = msgSize > 65536 ? msgSize : 65536;
  uint8_t* buf = malloc(bufSize);
  struct epoll_event* evs = malloc(sizeof(struct epoll_event) * 1024);
  double start = now(), measureFrom = start + warmup, end = measureFrom + seconds;
  int alive = conns;
  uint64_t inAtStart = 0, messagesAtStart = 0;
  struct rusage ruStart;
  while (alive > 0) {
    double t = now();
    if (mode == PUBSUB && !publishing) {  // the warm-up starts with publishing
      if (t - start > 30) {
        fprintf(stderr, "loadgen: only %d of %d connections upgraded in 30 s\n", upgraded, conns);
        return 1;
      }
      measureFrom = t + warmup;
      end = measureFrom + seconds;
    }
    if (!counting && t >= measureFrom) {
      counting = 1;
      inAtStart = bytesIn;
      messagesAtStart = publisher->seq;
      getrusage(RUSAGE_SELF, &ruStart);
      if (mode == PUBSUB) {
        puts("measuring");
        fflush(stdout);
      }
    }
    if (t >= end) break;
    int k = epoll_wait(ep, evs, 1024, 100);
    for (int e = 0; e < k; e++) {
      int idx = (int)evs[e].data.u32;
      Conn* c = &cs[idx];
      if (c->fd < 0) continue;
      int dead = (evs[e].events & (EPOLLERR | EPOLLHUP)) != 0;
      if (!dead && (evs[e].events & EPOLLIN)) {
        for (;;) {
          ssize_t n = recv(c->fd, buf, bufSize, 0);
          if (n > 0) {
            bytesIn += (uint64_t)n;
            int done = mode == ECHO ? consumeExact(c, buf, (size_t)n, pattern, msgSize)
                     : mode == HTTP ? consumeHttp(c, buf, (size_t)n) : consumeWs(c, buf, (size_t)n);
            if (done > 0 && pump(c, idx) < 0) dead = 1;
            if ((size_t)n < bufSize) break;
          } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            dead = 1;
            break;
          } else {
            break;
          }
        }
      }
      if (!dead && (evs[e].events & EPOLLOUT) && pump(c, idx) < 0) dead = 1;
      if (dead) {
        if (t < measureFrom && roundTrips == 0 && c->sent == 0) {
          fprintf(stderr, "loadgen: connection %u failed\n", evs[e].data.u32);
        }
        if (mode == PUBSUB && c->upgraded) closedSubscribers++;
        close(c->fd);
        c->fd = -1;
        alive--;
      }
    }
  }
  if (alive == 0) { fprintf(stderr, "loadgen: every connection was closed by the server\n"); return 1; }
  double measured = now() - measureFrom;
  if (measured > seconds) measured = seconds;
  if (mode == PUBSUB) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (ru.ru_utime.tv_sec - ruStart.ru_utime.tv_sec) + (ru.ru_utime.tv_usec - ruStart.ru_utime.tv_usec) / 1e6 +
                 (ru.ru_stime.tv_sec - ruStart.ru_stime.tv_sec) + (ru.ru_stime.tv_usec - ruStart.ru_stime.tv_usec) / 1e6;
    printf("{\"conns\":%d,\"size\":%zu,\"window\":%zu,\"seconds\":%.3f,\"messages\":%llu,\"deliveries\":%llu,\"rps\":%.1f,"
           "\"mbps\":%.2f,\"errors\":%llu,\"closed\":%llu,\"clientCpu\":%.3f}\n",
           conns, msgSize, window, measured, (unsigned long long)(publisher->seq - messagesAtStart),
           (unsigned long long)deliveries, deliveries / measured, (bytesIn - inAtStart) / 1e6 / measured,
           (unsigned long long)errors, (unsigned long long)closedSubscribers,
           cpu / measured);
    return errors || closedSubscribers ? 2 : 0;
  }
  printf("{\"conns\":%d,\"size\":%zu,\"seconds\":%.3f,\"roundTrips\":%llu,\"rps\":%.1f,\"mbps\":%.2f,\"errors\":%llu}\n",
         conns, mode == HTTP ? sizeof kRequest - 1 : msgSize, measured, (unsigned long long)roundTrips,
         roundTrips / measured, (bytesIn - inAtStart) / 1e6 / measured, (unsigned long long)errors);
  return errors ? 2 : 0;
}
