{
  "targets": [
    {
      "target_name": "sie_native",
      "sources": [
        "native/core/thread_pool.cpp",
        "native/weights/json_value.cpp",
        "native/weights/safetensors.cpp",
        "native/gemm/packed_gemm.cpp",
        "native/gemm/gemm_microkernel_avx512.cpp",
        "native/gemm/gemm_microkernel_portable.cpp",
        "native/kernels/elementwise.cpp",
        "native/kernels/elementwise_avx512.cpp",
        "native/kernels/pooling.cpp",
        "native/bert/bert_weights.cpp",
        "native/bert/bert_encoder.cpp",
        "native/heads/pooled_embedding_head.cpp",
        "native/heads/token_projection_head.cpp",
        "native/heads/classifier_heads.cpp",
        "native/heads/splade_head.cpp",
        "native/heads/encoder_model.cpp",
        "bindings/addon.cpp",
        "bindings/compute_pool.cpp",
        "bindings/model_handle.cpp",
        "bindings/kernel_probes.cpp"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags!": [
        "-fno-exceptions"
      ],
      "cflags_cc!": [
        "-fno-exceptions",
        "-fno-rtti"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-O3",
        "-fexceptions",
        "-Wno-maybe-uninitialized"
      ],
      "ldflags": [
        "-static-libstdc++",
        "-static-libgcc"
      ]
    }
  ]
}