// Where tests find the fixtures, the data set and the built programs, and the two file
// helpers every loader test needs.
#pragma once

#include <string>

namespace cwb::test {

std::string fixture(const std::string& name);  // tests/fixtures/models/NAME
std::string fixturesDir();
std::string llmFixture(const std::string& name);  // tests/fixtures/llm/NAME (copied from shared/)
std::string datasetDir();                         // Debian's Fashion-MNIST folder
std::string binary(const std::string& name);      // a program in the build tree, e.g. "cwb"
std::string tempDir();                            // a fresh folder for this test process

// Whole files as bytes; both throw std::runtime_error naming the path when they cannot.
std::string readBytes(const std::string& path);
void writeBytes(const std::string& path, const std::string& bytes);

}  // namespace cwb::test
