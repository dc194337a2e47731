// epoll_echo: the ceiling for npm run bench. A minimal single-threaded,
// level-triggered epoll echo server written the straightforward way: read up to
// 64 KiB, send it back; a short send keeps the tail, turns EPOLLOUT on and stops
// reading that connection until the tail is gone.
//
//   epoll_echo PORT [--http]     (binds 127.0.0.1; prints "listening PORT")
// With --http it answers every request (each "\r\n\r\n") with a fixed 200 response.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_SIZE 65536
static const char kResponse[] = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!";

typedef struct {
  char* pending;  // unsent output
  size_t len, cap;
  unsigned match;  // --http: how much of "\r\n\r\n" the stream has matched so far
} Conn;

static Conn* conns;
static int nconns, ep, http, spare;
static volatile sig_atomic_t stop;

static void onSignal(int sig) { (void)sig; stop = 1; }

static void setEvents(int fd, unsigned events) {
  struct epoll_event ev = {.events = events, .data.fd = fd};
  epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

static void dropConn(int fd) {
  free(conns[fd].pending);
  memset(&conns[fd], 0, sizeof(Conn));
  close(fd);
}

static void keep(Conn* c, const char* data, size_t len) {
  if (c->len + len > c->cap) {
    c->cap = (c->len + len) * 2;
    c->pending = realloc(c->pending, c->cap);
  }
  memcpy(c->pending + c->len, data, len);
  c->len += len;
}

// Sends data (after anything already pending); returns -1 if the connection died.
static int output(int fd, const char* data, size_t len) {
  Conn* c = &conns[fd];
  if (c->len > 0) {
    keep(c, data, len);
    return 0;
  }
  ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
  if (n < 0 && errno != EAGAIN) return -1;
  if (n < 0) n = 0;
  if ((size_t)n < len) {
    keep(c, data + n, len - (size_t)n);
    setEvents(fd, EPOLLOUT);  // stop reading until the tail is gone
  }
  return 0;
}

static int flushPending(int fd) {
  Conn* c = &conns[fd];
  ssize_t n = send(fd, c->pending, c->len, MSG_NOSIGNAL);
  if (n < 0) return errno == EAGAIN ? 0 : -1;
  memmove(c->pending, c->pending + n, c->len - (size_t)n);
  c->len -= (size_t)n;
  if (c->len == 0) setEvents(fd, EPOLLIN | EPOLLRDHUP);
  return 0;
}

static int answerHttp(int fd, const char* buf, size_t n) {
  static const char end[] = "\r\n\r\n";
  Conn* c = &conns[fd];
  for (size_t i = 0; i < n; i++) {
    c->match = buf[i] == end[c->match] ? c->match + 1 : (buf[i] == '\r' ? 1 : 0);
    if (c->match == 4) {
      c->match = 0;
      if (output(fd, kResponse, sizeof kResponse - 1) < 0) return -1;
    }
  }
  return 0;
}

static void acceptAll(int lfd) {
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) {  // shed one: free the spare, accept, close
        close(spare);
        int f = accept(lfd, NULL, NULL);
        if (f >= 0) close(f);
        spare = open("/dev/null", O_RDONLY);
        continue;
      }
      return;
    }
    if (fd >= nconns) {
      int n = nconns;
      while (n <= fd) n *= 2;
      conns = realloc(conns, sizeof(Conn) * (size_t)n);
      memset(conns + nconns, 0, sizeof(Conn) * (size_t)(n - nconns));
      nconns = n;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = fd};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
}

int main(int argc, char** argv) {
  int port = argc > 1 ? atoi(argv[1]) : 0;
  http = argc > 2 && strcmp(argv[2], "--http") == 0;
  signal(SIGTERM, onSignal);
  signal(SIGINT, onSignal);
  spare = open("/dev/null", O_RDONLY);
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (bind(lfd, (struct sockaddr*)&addr, sizeof addr) < 0 || listen(lfd, SOMAXCONN) < 0) {
    perror("epoll_echo: bind/listen");
    return 1;
  }
  socklen_t alen = sizeof addr;
  getsockname(lfd, (struct sockaddr*)&addr, &alen);
  printf("listening %d\n", ntohs(addr.sin_port));
  fflush(stdout);

  nconns = 1024;
  conns = calloc((size_t)nconns, sizeof(Conn));
  ep = epoll_create1(0);
  struct epoll_event lev = {.events = EPOLLIN, .data.fd = lfd};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
  static char buf[READ_SIZE];
  struct epoll_event evs[1024];
  while (!stop) {
    int k = epoll_wait(ep, evs, 1024, 1000);
    for (int i = 0; i < k; i++) {
      int fd = evs[i].data.fd;
      if (fd == lfd) {
        acceptAll(lfd);
        continue;
      }
      unsigned e = evs[i].events;
      int dead = (e & EPOLLERR) != 0;
      if (!dead && (e & EPOLLOUT)) dead = flushPending(fd) < 0;
      if (!dead && (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n > 0) dead = (http ? answerHttp(fd, buf, (size_t)n) : output(fd, buf, (size_t)n)) < 0;
        else dead = n == 0 || errno != EAGAIN;
      }
      if (dead) dropConn(fd);
    }
  }
  return 0;
}
