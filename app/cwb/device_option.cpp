// The --device option (see device_option.h).
#include "app/cwb/device_option.h"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "app/cwb/typed_options.h"
#include "core/backend/backend.h"

namespace cwb::cli {

CLI::Option* addDeviceOption(CLI::App& app, std::string& device) {
    std::string devices;
    for (const DeviceInfo& d : listDevices())
        devices += (devices.empty() ? "" : ", ") + d.name +
                   (d.available ? "" : " (" + d.unavailableReason + ")");
    return app
        .add_option("--device", device,
                    "where the command runs: cpu, cuda, cuda:N, or auto (a GPU "
                    "where one works); here: " +
                        devices)
        ->type_name("D")
        ->check(parsedBy([](std::string_view text) { chooseBackend(std::string(text)); }))
        ->capture_default_str();
}

Backend* deviceBackend(const std::string& device) {
    const BackendChoice choice = chooseBackend(device);
    if (!choice.note.empty()) std::fprintf(stderr, "%s\n", choice.note.c_str());
    return choice.backend;
}

}  // namespace cwb::cli
