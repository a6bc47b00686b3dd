// The CUDA backend's face towards the device list (backend_registry.cpp): plain C++, so that
// files built without nvcc can include it. Defined in cuda_backend.cu, which is built only
// where CMake found nvcc (CWB_HAVE_CUDA); a build without it never calls these.
#pragma once

#include <string>
#include <vector>

#include "core/backend/backend.h"

namespace cwb::cuda {

// One row per GPU ("cuda:0", "cuda:1", ...), or a single "cuda" row that says why none runs
// here ("no CUDA driver", "no CUDA device", ...).
std::vector<DeviceInfo> deviceRows();

// The backend of GPU `index`; nullptr with `reason` set where it cannot run.
Backend* backendFor(int index, std::string& reason);

}  // namespace cwb::cuda
