{
  # Where the kernel and host library come from.  The defaults are the
  # native build's; a cross build passes others, e.g. for arm64
  #   node-gyp configure --arch=arm64 -- \
  #     -Dlkl_include=$PWD/../../build/arm64/include \
  #     -Dlkl_native_lib=$PWD/../../build/arm64/native/libnative.a \
  #     -Dlkl_o=$PWD/../../build/arm64/lkl.o
  # (see scripts/check-arm64.sh).
  "variables": {
    "lkl_include%": "../../build/include",
    "lkl_native_lib%": "<(module_root_dir)/../../build/native/libnative.a",
    "lkl_o%": "<(module_root_dir)/../../build/lkl.o"
  },
  "targets": [
    {
      "target_name": "lkl",
      "sources": [
        "addon.cc",
        "kernel.cc",
        "fs.cc",
        "fd.cc",
        "stat.cc",
        "hostfs.cc",
        "scan.cc",
        "put.cc",
        "kernel_calls.cc",
        "fs_ids.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<(lkl_include)"
      ],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-fvisibility=hidden"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": [
        "<(lkl_native_lib)",
        "<(lkl_o)",
        "-pthread"
      ]
    }
  ]
}
