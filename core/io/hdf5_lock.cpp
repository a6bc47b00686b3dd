// The process-wide HDF5 lock (see hdf5_lock.h).
#include "core/io/hdf5_lock.h"

#include <hdf5.h>

namespace cwb {

std::unique_lock<std::recursive_mutex> lockHdf5() {
    static std::recursive_mutex mutex;
    std::unique_lock<std::recursive_mutex> lock(mutex);
    // Cheap and idempotent; done on every entry because H5open may reset it on first use.
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return lock;
}

}  // namespace cwb
