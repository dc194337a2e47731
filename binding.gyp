{
  "targets": [
    {
      "target_name": "wasm_reactor",
      "sources": ["native/addon.cc", "native/reactor.cc", "native/demux.cc", "native/epoll_demux.cc", "native/uring.cc", "native/uring_demux.cc", "native/listener.cc", "native/handoff.cc",
                  "native/acceptor.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra"]
    }
  ]
}
