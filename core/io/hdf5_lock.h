// Debian's HDF5 is built without thread safety, and the window loads models in a worker
// thread while others may save or train. Every HDF5 call in core runs under this lock.
#pragma once

#include <mutex>

namespace cwb {

// Holds the process-wide HDF5 lock for the lifetime of the returned object. Recursive, so
// a saver may call a loader. Also switches off HDF5's printing of errors to stderr: core
// reports them as cwb::Error instead.
std::unique_lock<std::recursive_mutex> lockHdf5();

}  // namespace cwb
