{
  "targets": [
    {
      "target_name": "imds_hop_native",
      "sources": ["src/tap.cc", "src/callers.cc", "src/connect-hook.cc", "src/tap-uring.cc", "src/page-out.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra"]
    }
  ]
}
