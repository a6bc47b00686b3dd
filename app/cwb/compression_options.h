// The compression options shared by `cwb eval`, `cwb compress` and `cwb sweep`: one parser
// from command-line options to a CompressionPlan, and the option names for usage and
// Args::allowOnly.
#pragma once

#include <string>
#include <vector>

#include "app/cwb/command.h"
#include "core/compress/compression_settings.h"

namespace cwb::cli {

// Options that take a value, and options that are flags.
const std::vector<std::string>& compressionOptionNames();
const std::vector<std::string>& compressionFlagNames();
// One usage fragment: "[--alpha A] [--rho R] [--bits K ...]".
std::string compressionUsage();

// The plan the options ask for. Throws cwb::Error naming the option for a bad value.
CompressionPlan parseCompressionPlan(const Args& args);
// True when any compression option was given.
bool anyCompressionOption(const Args& args);

// A copy of `known` with the compression options (and flags) appended.
std::vector<std::string> withCompressionOptions(std::vector<std::string> known);

}  // namespace cwb::cli
