{
  "targets": [
    {
      "target_name": "lkl",
      "sources": [
        "addon.cc",
        "kernel.cc",
        "fs.cc",
        "fd.cc",
        "stat.cc",
        "host.cc",
        "scan.cc",
        "put.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "../../build/include",
        "../../linux/arch/lkl/include/uapi"
      ],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-fvisibility=hidden"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": [
        "<(module_root_dir)/../../build/native/liblklhost.a",
        "<(module_root_dir)/../../build/lkl.o",
        "-pthread"
      ]
    }
  ]
}
