// What `cwb distill` and the temperature sweep share: loading the teacher and the data,
// the teacher's cached logits, and building students from a spec.
#pragma once

#include <string>
#include <vector>

#include "app/cwb/train_cli.h"
#include "core/model/model.h"

namespace CLI {
class App;
}  // namespace CLI

namespace cwb::cli {

struct Interval;

inline constexpr const char* kDefaultStudent = "mlp:128";
inline constexpr double kDefaultKdWeight = 0.5;
inline constexpr int kDefaultDistillBatch = 32;  // Keras's default batch size

struct DistillSetup {
    Model teacher;
    LoadedData data;
    std::vector<float> logits;  // the teacher's, for every training image
    double teacherAccuracy = 0.0;

    train::SoftTargets softTargets(double temperature, double weight) const;
};

// Loads the teacher and the data, prints the teacher's test accuracy and caches its logits
// on the training set (printing how long that took).
DistillSetup prepareDistillation(const std::string& teacherPath, const TrainCli& cli);

// --student SPEC and --kd-weight L (within `kdWeightRange`), in `group` of --help when given.
void addStudentOptions(CLI::App& app, std::string& student, double& kdWeight,
                       const Interval& kdWeightRange, const std::string& group = {});

// A student from an architecture spec, initialised from the run's seed.
Model buildStudent(const std::string& spec, const TrainCli& cli);

}  // namespace cwb::cli
