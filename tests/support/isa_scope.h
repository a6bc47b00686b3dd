// Runs a test's block with core/quant's kernels set to one instruction set, restoring the
// previous choice on leaving.
#pragma once

#include "core/quant/block_formats.h"

namespace cwb::test {

class IsaScope {
public:
    explicit IsaScope(quant::Isa isa) : m_before(quant::activeIsa()) { quant::setActiveIsa(isa); }
    ~IsaScope() { quant::setActiveIsa(m_before); }
    IsaScope(const IsaScope&) = delete;
    IsaScope& operator=(const IsaScope&) = delete;

private:
    quant::Isa m_before;
};

}  // namespace cwb::test
