// The device list and the choice of a backend by name (see backend.h).
#include <charconv>

#include "core/backend/backend.h"
#include "core/error.h"
#ifdef CWB_HAVE_CUDA
#include "core/backend/cuda/cuda_devices.h"
#endif

namespace cwb {
namespace {

// CUDA is known to the device list so that the Device box and --device can say why it does
// not run; a build with the CUDA backend lists its devices (or why none runs) instead.
constexpr const char* kNoCuda = "this build has no CUDA backend";

// The backend of GPU `index` ("cuda" is GPU 0), or nullptr with the reason.
Backend* cudaBackend(int index, std::string& reason) {
#ifdef CWB_HAVE_CUDA
    return cuda::backendFor(index < 0 ? 0 : index, reason);
#else
    (void)index;
    reason = kNoCuda;
    return nullptr;
#endif
}

bool isCudaName(const std::string& device, int& index) {
    index = -1;
    if (device == "cuda") return true;
    if (device.rfind("cuda:", 0) != 0 || device.size() == 5) return false;
    const char* first = device.data() + 5;
    const char* last = device.data() + device.size();
    const auto [end, ec] = std::from_chars(first, last, index);
    return ec == std::errc() && end == last && index >= 0;
}

}  // namespace

std::vector<DeviceInfo> listDevices() {
    std::vector<DeviceInfo> devices{{"cpu", "CPU", cpuBackend().description(), true, ""}};
#ifdef CWB_HAVE_CUDA
    for (DeviceInfo& row : cuda::deviceRows()) devices.push_back(std::move(row));
#else
    devices.push_back({"cuda", "GPU (CUDA)", "", false, kNoCuda});
#endif
    return devices;
}

BackendChoice chooseBackend(const std::string& device) {
    if (device == "cpu") return {&cpuBackend(), ""};
    std::string reason;
    if (device == "auto") {
        Backend* gpu = cudaBackend(0, reason);
        return {gpu ? gpu : &cpuBackend(), ""};
    }
    int index = -1;
    if (isCudaName(device, index)) {
        if (Backend* gpu = cudaBackend(index, reason)) return {gpu, ""};
        return {&cpuBackend(), device + ": not available (" + reason + "); running on the CPU"};
    }
    throw Error("device '" + device + "' is not known; choose cpu, cuda, cuda:N or auto");
}

}  // namespace cwb
