// The device list and the choice of a backend by name (see backend.h).
#include <charconv>

#include "core/backend/backend.h"
#include "core/error.h"

namespace cwb {
namespace {

// CUDA is known to the device list so that the Device box and --device can say why it does
// not run; a build with the CUDA backend lists its devices here instead.
constexpr const char* kNoCuda = "this build has no CUDA backend";

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
    return {{"cpu", "CPU", cpuBackend().description(), true, ""},
            {"cuda", "GPU (CUDA)", "", false, kNoCuda}};
}

BackendChoice chooseBackend(const std::string& device) {
    if (device == "cpu" || device == "auto") return {&cpuBackend(), ""};
    int index = -1;
    if (isCudaName(device, index))
        return {&cpuBackend(), device + ": not available (" + kNoCuda + "); running on the CPU"};
    throw Error("device '" + device + "' is not known; choose cpu, cuda, cuda:N or auto");
}

}  // namespace cwb
