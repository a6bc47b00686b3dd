// The one error type of core. Its message is a single line a user can act on:
// what is wrong, where (file, layer, tensor), and what to do.
#pragma once

#include <stdexcept>
#include <string>

namespace cwb {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Thrown by long computations when their cancel callback asks them to stop.
class Cancelled : public Error {
public:
    Cancelled() : Error("cancelled") {}
};

}  // namespace cwb
