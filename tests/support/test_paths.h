// Where tests find the fixtures, the data set and the built programs.
#pragma once

#include <string>

namespace cwb::test {

std::string fixture(const std::string& name);  // tests/fixtures/models/NAME
std::string fixturesDir();
std::string datasetDir();                      // Debian's Fashion-MNIST folder
std::string binary(const std::string& name);   // a program in the build tree, e.g. "cwb"
std::string tempDir();                          // a fresh folder for this test process

}  // namespace cwb::test
